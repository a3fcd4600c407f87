"""Every setting hookstream reads, in one place.

Built once in the entry point (``hookstream.cli``) and passed down; no other
module reads the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hookstream.delivery.retry_schedule import parse_duration, parse_schedule, tier_labels
from hookstream.tokens import Role, parse_tokens
from streams.topics import retention_ms

EMBEDDED_HOST = "127.0.0.1"
# What a worker process can do; HOOKSTREAM_WORKER_ROLES picks some (default all).
WORKER_ROLES = ("route", "deliver")
DEFAULT_RETRY_SCHEDULE = "5s,1m,5m,30m,2h,8h,24h"


def local_url(host: str, port: int) -> str:
    """``http://host:port`` of a process listening on ``host``; a wildcard
    address (0.0.0.0, ::) is reached at 127.0.0.1, an IPv6 one in brackets."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising the wildcard, not binding it
        host = EMBEDDED_HOST
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


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
    # Interface the api, the ingress and the worker's web port listen on; 0.0.0.0 in containers.
    bind_host: str = "127.0.0.1"
    api_port: int = 8000
    ingress_port: int = 8080
    worker_port: int = 8001
    api_tokens: SecretStr | None = None
    # Base of generated listener URLs, and of entityUrl values. Unset: the
    # ingress's and the API's own address (local_url of bind_host and port).
    public_url: str = ""
    api_url: str = ""
    event_topics: str = r"^events\..+"
    allow_private_targets: bool = False
    delivery_timeout: float = 10.0
    # Parsed at load: "5s,1m" → (5.0, 60.0); a bad value stops the process at start.
    retry_schedule: Annotated[tuple[float, ...], NoDecode] = parse_schedule(DEFAULT_RETRY_SCHEDULE)
    secret_key: SecretStr | None = None
    # disk: the embedded broker keeps its data under data_dir; memory: forgets on stop.
    embedded_storage: Literal["disk", "memory"] = "disk"
    data_dir: Path = Path(".hookstream/data")
    # How long the embedded broker keeps event topics' records (how far back a
    # replay reaches): "7d", "36h". Real Kafka keeps what its topics' retention.ms says.
    event_retention: Annotated[float, NoDecode] = 7 * 86400.0
    # Port of the embedded broker (only when KAFKA_BOOTSTRAP_SERVERS is unset).
    embedded_port: int = 9092
    # How often consumers look for newly created topics (events.*, deliveries.*).
    topic_refresh_seconds: float = 2.0
    # Partitions of each per-webhook delivery topic: deliveries to one webhook run
    # this many partitions wide (per-entity order is kept inside a partition).
    delivery_partitions: int = 4
    # Concurrent requests per delivery-topic partition.
    delivery_concurrency: int = 8
    # Deliveries a replay writes per second at most (agents/replay_webhooks.py;
    # a webhook's own rateLimit lowers it): live deliveries keep their place.
    replay_rate: float = Field(default=200.0, gt=0)
    # One tenant's deliveries in flight at once in a worker (hookstream/tenants/
    # fairness.py): a tenant whose endpoints hang cannot hold the connection
    # slots (1 000 per worker) every other tenant needs.
    tenant_max_in_flight: int = Field(default=100, ge=1)
    replication_factor: int = 1
    # Ingress access log: a line per request ("all"), only for refusals and
    # errors ("errors"), or none ("off"); requests are counted in metrics anyway.
    access_log: Literal["all", "errors", "off"] = "errors"
    # What this worker process does: "route" (events.* → delivery topics),
    # "deliver" (delivery topics and retry tiers → HTTP), or both (default).
    # Routers and deliverers then scale out separately.
    worker_roles: Annotated[frozenset[str], NoDecode] = frozenset(WORKER_ROLES)
    # OpenTelemetry's own names (read here, like every setting): spans are
    # exported over OTLP/HTTP only when an endpoint is set (hookstream/tracing.py).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    otel_sdk_disabled: bool = Field(
        default=False, validation_alias=AliasChoices("OTEL_SDK_DISABLED")
    )

    _token_roles: dict[str, Role] | None = PrivateAttr(default=None)

    @field_validator("event_retention", mode="before")
    @classmethod
    def _parse_retention(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _parse_schedule(cls, value: Any) -> Any:
        return parse_schedule(value) if isinstance(value, str) else value

    @field_validator("worker_roles", mode="before")
    @classmethod
    def _parse_roles(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        roles = frozenset(part.strip() for part in value.split(",") if part.strip())
        unknown = roles - set(WORKER_ROLES)
        if unknown or not roles:
            raise ValueError(
                f"HOOKSTREAM_WORKER_ROLES must name some of {', '.join(WORKER_ROLES)}; "
                f"got {value!r}"
            )
        return roles

    def model_post_init(self, context: Any, /) -> None:
        if not self.public_url:
            self.public_url = local_url(self.bind_host, self.ingress_port)
        if not self.api_url:
            self.api_url = local_url(self.bind_host, self.api_port)
        # The token table is parsed once, here, so a malformed value fails at start.
        if self.api_tokens is not None:
            self._token_roles = parse_tokens(self.api_tokens.get_secret_value())

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"{EMBEDDED_HOST}:{self.embedded_port}"

    @property
    def uses_embedded_broker(self) -> bool:
        return self.kafka_bootstrap_servers is None

    def retention_ms(self, topic: str) -> int | None:
        """How long the embedded broker keeps ``topic``'s records (streams/retention.py)."""
        return retention_ms(topic, re.compile(self.event_topics), int(self.event_retention * 1000))

    @property
    def configured_secret_key(self) -> str | None:
        """HOOKSTREAM_SECRET_KEY, or None: then the key kept in the data dir is used."""
        return self.secret_key.get_secret_value() if self.secret_key else None

    @property
    def token_roles(self) -> dict[str, Role] | None:
        """{token: role} from HOOKSTREAM_API_TOKENS, or None when it is unset."""
        return self._token_roles

    @property
    def otlp_traces_endpoint(self) -> str | None:
        """Where spans go, or None: export nothing. As the OTLP exporter spec
        says, the general endpoint gets ``/v1/traces`` appended, the
        traces-specific one is used as it is."""
        if self.otel_sdk_disabled:
            return None
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    @property
    def retry_tiers(self) -> list[str]:
        """Delay-tier topic labels, one per distinct delay of the schedule."""
        return tier_labels(self.retry_schedule)
