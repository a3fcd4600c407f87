"""A dead endpoint never slows the others; a SIGKILLed worker loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import EVENTS_TOPIC


@pytest.fixture
async def hanging_receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    # Deliberate hang (the behaviour under test): far past HOOKSTREAM_DELIVERY_TIMEOUT
    # (3 s in tests), so no request to it ever succeeds.
    server.delay = 30
    await server.start()
    yield server
    await server.stop()


async def produce_many(producer: AIOKafkaProducer, events: list[dict[str, object]]) -> None:
    acks = [
        await producer.send(EVENTS_TOPIC, key=str(e["entityId"]).encode(), value=orjson.dumps(e))
        for e in events
    ]
    await asyncio.gather(*acks)


async def test_hanging_endpoint_does_not_delay_a_healthy_one(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    hanging_receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"iso.{unique}"
    healthy = await api.create_webhook(
        name="healthy", url=f"{receiver.url}/ok", events=[event_type]
    )
    hanging = await api.create_webhook(
        name="hanging", url=f"{hanging_receiver.url}/hang", events=[event_type]
    )
    await worker.wait_knows(healthy)
    await worker.wait_knows(hanging)
    count = 300  # far more than one round of concurrent attempts (4 partitions x 8)
    await produce_many(
        producer,
        [
            {"eventId": f"{unique}-{i}", "eventType": event_type, "entityId": f"e{i}"}
            for i in range(count)
        ],
    )

    await receiver.wait_for("/ok", count)
    # Proved by order and counts, not durations: the healthy endpoint has all its
    # deliveries before the hanging one has finished even its first attempts. Were
    # the two sharing a queue, each healthy delivery would wait behind a hanging
    # attempt, so all but one round of the hanging first attempts would be done.
    hanging_done = await worker.metric("hookstream_deliveries_total", webhook=hanging["id"])
    assert hanging_done < count
    assert (
        await worker.metric("hookstream_deliveries_total", webhook=hanging["id"], outcome="success")
        == 0
    )
    assert len(hanging_receiver.on_path("/hang")) > 0  # it was being tried meanwhile


async def test_per_entity_order_is_kept_for_a_healthy_endpoint(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"ord.{unique}"
    await live_webhook(
        api, worker, name="ordered", url=f"{receiver.url}/ordered", events=[event_type]
    )
    events = [
        {
            "eventId": f"{unique}-{entity}-{seq}",
            "eventType": event_type,
            "entityId": entity,
            "entity": {"seq": seq},
        }
        for seq in range(40)
        for entity in ("a", "b", "c")
    ]
    await produce_many(producer, events)
    requests = await receiver.wait_for("/ordered", len(events))
    for entity in ("a", "b", "c"):
        seqs = [
            int(orjson.loads(r.body)["eventId"].rsplit("-", 1)[1])
            for r in requests
            if r.headers["X-Etl-Webhook-Entity-Id"] == entity
        ]
        assert seqs == list(range(40)), entity


async def test_sigkill_mid_stream_loses_nothing(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"crash.{unique}"
    # Deliberate: slow each delivery a little so the kill lands mid-stream.
    receiver.delay = 0.01
    await live_webhook(api, worker, name="crash", url=f"{receiver.url}/crash", events=[event_type])
    count = 400
    await produce_many(
        producer,
        [
            {"eventId": f"{unique}-{i}", "eventType": event_type, "entityId": f"e{i % 17}"}
            for i in range(count)
        ],
    )
    await receiver.wait_for("/crash", 20)
    await worker.kill()
    received_before_restart = len(receiver.on_path("/crash"))
    await worker.start()

    await eventually(
        lambda: (
            len({r.headers["X-Etl-Webhook-Event-Id"] for r in receiver.on_path("/crash")}) >= count
        ),
        timeout=180,
        interval=0.5,
        message=lambda: f"{count} distinct deliveries to /crash",
    )
    event_ids = {orjson.loads(r.body)["eventId"] for r in receiver.on_path("/crash")}
    assert event_ids == {f"{unique}-{i}" for i in range(count)}
    assert received_before_restart < count  # the kill really happened mid-stream
