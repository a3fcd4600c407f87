"""Shared fixtures: one real embedded broker, worker and API per test session.

Tests never share data: each uses its own event types, webhooks and receiver
paths. Set KAFKA_BOOTSTRAP_SERVERS to run the suite against a real Kafka.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hookstream.api.app import create_api_from_settings
from hookstream.inbound.app import create_ingress
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import TOKENS, ApiClient, ApiServer
from hookstream.testing.processes import SECRET_KEY, WorkerProcess, base_env
from hookstream.testing.receiver import Receiver
from streams.broker import EmbeddedBroker
from streams.kafka import TopicAdmin, ensure_core_topics
from streams.ports import free_port
from streams.topics import TopicSpec

EVENTS_TOPIC = "events.itest"


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hookstream")


@pytest.fixture(scope="session")
async def kafka(artifacts: Path) -> AsyncIterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None
    if external:
        bootstrap = external
    else:
        broker = EmbeddedBroker("127.0.0.1", free_port(), log_file=artifacts / "broker.log")
        await broker.start()
        bootstrap = broker.bootstrap
    await ensure_core_topics(bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics([NewTopic(EVENTS_TOPIC, 4, 1)])
    await admin.close()
    yield bootstrap
    if broker is not None:
        await broker.stop()


@pytest.fixture(scope="session")
def process_env(kafka: str) -> dict[str, str]:
    return base_env(kafka, TOKENS)


@pytest.fixture(scope="session")
async def worker(process_env: dict[str, str], artifacts: Path) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(process_env, free_port(), artifacts / "worker.log")
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="session")
def settings(kafka: str) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka,
        api_tokens=TOKENS,
        allow_private_targets=True,
        delivery_timeout=3,
        secret_key=SECRET_KEY,
    )


@pytest.fixture(scope="session")
async def api_server(settings: Settings) -> AsyncIterator[ApiServer]:
    server = ApiServer(create_api_from_settings(settings, Metrics()))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def ingress_server(settings: Settings, api_server: ApiServer) -> AsyncIterator[ApiServer]:
    server = ApiServer(create_ingress(settings, Metrics()))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def api(api_server: ApiServer, http: aiohttp.ClientSession) -> AsyncIterator[ApiClient]:
    client = ApiClient(api_server.url, http)
    yield client
    await client.delete_created()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await client.start()
    yield client
    await client.stop()


@pytest.fixture
async def tenant_pair(api: ApiClient, unique: str) -> AsyncIterator[tuple[str, str]]:
    """Two tenants of this test's own, deleted (with their webhooks) afterwards."""
    a, b = f"t-{unique}-a", f"t-{unique}-b"
    for tenant_id in (a, b):
        status, _ = await api.call("PUT", f"/api/v1/tenants/{tenant_id}", json={"name": tenant_id})
        assert status == 201
    yield a, b
    for tenant_id in (a, b):
        await api.call("DELETE", f"/api/v1/tenants/{tenant_id}")


@pytest.fixture
def unique() -> str:
    """A short id that keeps this test's event types, paths and names its own."""
    return uuid.uuid4().hex[:10]


async def create_topic(kafka: str, name: str, partitions: int) -> str:
    """Create a test's own topic through hookstream's one topic-creation path."""
    admin = TopicAdmin(kafka)
    await admin.start()
    try:
        await admin.ensure([TopicSpec(name, partitions)])
    finally:
        await admin.close()
    return name


async def send_event(
    producer: AIOKafkaProducer, event: dict[str, Any] | bytes, *, topic: str = EVENTS_TOPIC
) -> None:
    value = event if isinstance(event, bytes) else orjson.dumps(event)
    key = None if isinstance(event, bytes) else str(event.get("entityId", "")).encode()
    await producer.send_and_wait(topic, key=key, value=value)
