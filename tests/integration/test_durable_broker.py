"""The embedded broker on disk keeps webhooks, undelivered events and offsets
across a SIGKILL of every process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from hookstream.api.app import create_api_from_settings
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import TOKENS, ApiClient, ApiServer
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import SECRET_KEY, WorkerProcess, base_env
from hookstream.testing.receiver import Receiver
from streams.broker import BrokerError, DataDirLock, EmbeddedBroker
from streams.ports import free_port

# Long enough that no delivery is dead-lettered while the endpoint is down.
PATIENT_SCHEDULE = "1s,2s,4s,8s,15s,30s,60s,60s"


async def start_api(bootstrap: str) -> ApiServer:
    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        api_tokens=TOKENS,
        allow_private_targets=True,
        secret_key=SECRET_KEY,
        retry_schedule=PATIENT_SCHEDULE,
    )
    server = ApiServer(create_api_from_settings(settings, Metrics()))
    await server.start()
    return server


async def test_everything_survives_sigkill_of_every_process(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> None:
    data_dir = tmp_path / "data"
    broker = EmbeddedBroker(
        "127.0.0.1",
        free_port(),
        storage="disk",
        data_dir=data_dir,
        log_file=tmp_path / "broker.log",
    )
    await broker.start()
    env = base_env(broker.bootstrap, TOKENS) | {"HOOKSTREAM_RETRY_SCHEDULE": PATIENT_SCHEDULE}
    worker = WorkerProcess(env, free_port(), tmp_path / "worker.log")
    api = await start_api(broker.bootstrap)
    endpoint_port = free_port()  # nothing listens here yet: the endpoint is down
    try:
        await worker.start()
        client = ApiClient(api.url, http)
        webhook = await client.create_webhook(
            name="durable", url=f"http://127.0.0.1:{endpoint_port}/hook", events=[f"dur.{unique}"]
        )
        await worker.wait_knows(webhook)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        count = 30
        for i in range(count):
            event = {"eventId": f"{unique}-{i}", "eventType": f"dur.{unique}", "entityId": str(i)}
            await producer.send_and_wait(
                "events.durable", key=str(i).encode(), value=orjson.dumps(event)
            )
        await producer.stop()

        async def retries_pending() -> bool:  # every first attempt failed and awaits a retry
            return await worker.metric("hookstream_retries_scheduled_total") >= count

        await eventually(
            retries_pending, timeout=120, interval=0.2, message=f"{count} retries scheduled"
        )

        await worker.kill()
        broker.kill()
        await api.stop()
    except BaseException:
        await worker.kill()
        await api.stop()
        broker.kill()
        raise

    receiver = Receiver(port=endpoint_port)
    await receiver.start()
    broker = EmbeddedBroker(
        "127.0.0.1",
        broker.port,
        storage="disk",
        data_dir=data_dir,
        log_file=tmp_path / "broker.log",
    )
    await broker.start()
    api = await start_api(broker.bootstrap)
    try:
        await worker.start()
        status, stored = await ApiClient(api.url, http).call(
            "GET", f"/api/v1/webhooks/{webhook['id']}"
        )
        assert status == 200 and stored["name"] == "durable"

        await eventually(
            lambda: len({r.headers["X-Etl-Webhook-Event-Id"] for r in receiver.requests}) >= count,
            timeout=240,
            interval=0.5,
            message=lambda: f"{count} distinct deliveries; got {len(receiver.requests)} requests",
        )
        delivered = {orjson.loads(r.body)["eventId"] for r in receiver.requests}
        assert delivered == {f"{unique}-{i}" for i in range(count)}
    finally:
        await worker.stop()
        await api.stop()
        await receiver.stop()
        await broker.stop()


async def test_second_broker_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    lock = DataDirLock(tmp_path)
    lock.acquire()
    try:
        broker = EmbeddedBroker("127.0.0.1", free_port(), storage="disk", data_dir=tmp_path)
        with pytest.raises(BrokerError, match="in use by pid"):
            await broker.start()
    finally:
        lock.release()


async def test_unwritable_data_dir_and_taken_port_are_clear_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    broker = EmbeddedBroker("127.0.0.1", free_port(), storage="disk", data_dir=blocker / "data")
    with pytest.raises(BrokerError, match="not writable"):
        await broker.start()

    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(BrokerError, match="already in use"):
            await EmbeddedBroker("127.0.0.1", port).start()
    finally:
        server.close()
        await server.wait_closed()
