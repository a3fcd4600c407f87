"""Every setting hookstream reads, in one place.

Built once in the entry point (``hookstream.cli``) and passed down; no other
module reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hookstream.retry_schedule import parse_schedule
from hookstream.secret_box import SecretBox, box_from
from streams.broker import EmbeddedBroker

EMBEDDED_BOOTSTRAP = "127.0.0.1:9092"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOOKSTREAM_", extra="ignore", populate_by_name=True
    )

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "HOOKSTREAM_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    # Interface the api and ingress listen on; 0.0.0.0 in containers.
    bind_host: str = "127.0.0.1"
    api_port: int = 8000
    ingress_port: int = 8080
    worker_port: int = 8001
    api_tokens: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8080"
    api_url: str = "http://127.0.0.1:8000"
    event_topics: str = r"^events\..+"
    allow_private_targets: bool = False
    delivery_timeout: float = 10.0
    retry_schedule: str = "5s,1m,5m,30m,2h,8h,24h"
    secret_key: SecretStr | None = None
    # disk: the embedded broker keeps its data under data_dir; memory: forgets on stop.
    embedded_storage: Literal["disk", "memory"] = "disk"
    data_dir: Path = Path(".hookstream/data")
    # How often consumers look for newly created topics (events.*, deliveries.*).
    topic_refresh_seconds: float = 5.0
    # Partitions of each per-webhook delivery topic: deliveries to one webhook run
    # this many partitions wide (per-entity order is kept inside a partition).
    delivery_partitions: int = 4
    # Concurrent requests per delivery-topic partition.
    delivery_concurrency: int = 8
    replication_factor: int = 1

    @field_validator("retry_schedule")
    @classmethod
    def _schedule_parses(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or EMBEDDED_BOOTSTRAP

    def embedded_broker(self) -> EmbeddedBroker:
        host, _, port = self.bootstrap_servers.partition(":")
        return EmbeddedBroker(
            host,
            int(port or 9092),
            storage=self.embedded_storage,
            data_dir=self.data_dir,
            log_file=self.data_dir / "broker.log" if self.embedded_storage == "disk" else None,
        )

    @property
    def uses_embedded_broker(self) -> bool:
        return self.kafka_bootstrap_servers is None

    def secret_box(self) -> SecretBox:
        configured = self.secret_key.get_secret_value() if self.secret_key else None
        return box_from(configured, self.data_dir)

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return parse_schedule(self.retry_schedule)
