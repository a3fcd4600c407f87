"""Invalid input never stops the pipeline; configuration survives restarts."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from hookstream.api.app import create_api_from_settings
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import ApiClient, ApiServer, live_webhook
from hookstream.testing.kafka_reader import read_records, values
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from streams.broker_compat import MAX_RECORD_BYTES
from streams.topics import INVALID_EVENTS
from tests.conftest import EVENTS_TOPIC, send_event


async def read_invalid_events(kafka: str, marker: str, count: int) -> list[dict]:
    def marked(record: Any) -> bool:
        return marker in orjson.loads(record.value)["value"]

    return values(await read_records(kafka, INVALID_EVENTS, where=marked, count=count))


async def test_invalid_events_are_reported_and_the_pipeline_goes_on(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    kafka: str,
    unique: str,
) -> None:
    await live_webhook(
        api, worker, name="after", url=f"{receiver.url}/after", events=[f"ok.{unique}"]
    )
    bad = [
        f"not json {unique}".encode(),
        orjson.dumps([unique]),
        orjson.dumps({"eventId": unique, "entityId": "1"}),  # no eventType
        orjson.dumps(
            {
                "eventId": unique,
                "eventType": f"ok.{unique}",
                "entityId": "1",
                "timestamp": "yesterday",
            }
        ),
        # Epoch milliseconds past the calendar: once a ValueError that
        # stopped the router at this record for good.
        orjson.dumps(
            {"eventId": unique, "eventType": f"ok.{unique}", "entityId": "1", "timestamp": 10**17}
        ),
        # Valid ISO 8601 that is before year 1 in UTC: an OverflowError, the same.
        orjson.dumps(
            {
                "eventId": unique,
                "eventType": f"ok.{unique}",
                "entityId": "1",
                "timestamp": "0001-01-01T00:00:00+01:00",
            }
        ),
    ]
    for value in bad:
        await send_event(producer, value)
    await send_event(
        producer, {"eventId": f"good-{unique}", "eventType": f"ok.{unique}", "entityId": "1"}
    )

    [request] = await receiver.wait_for("/after")
    assert orjson.loads(request.body)["eventId"] == f"good-{unique}"
    reports = await read_invalid_events(kafka, unique, len(bad))
    reasons = sorted(r["reason"] for r in reports)
    assert len(reports) == len(bad)
    assert all(r["topic"] == EVENTS_TOPIC for r in reports)
    assert any("not JSON" in reason for reason in reasons)
    assert any("JSON object" in reason for reason in reasons)
    assert any("eventType is required" in reason for reason in reasons)
    assert any("timestamp" in reason for reason in reasons)
    assert sum("out of range" in reason for reason in reasons) == 2


async def test_webhooks_survive_worker_and_api_restarts(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    settings: Settings,
    unique: str,
) -> None:
    webhook = await api.create_webhook(
        name="durable", url=f"{receiver.url}/durable", events=[f"kept.{unique}"], secret="x"
    )
    await worker.stop()
    await worker.start()
    status = await worker.status()
    assert status["webhooks"].get(webhook["id"]) == webhook["updatedAt"]

    await send_event(
        producer, {"eventId": f"k-{unique}", "eventType": f"kept.{unique}", "entityId": "7"}
    )
    [request] = await receiver.wait_for("/durable")
    assert request.headers["X-Etl-Webhook-Id"] == webhook["id"]

    # A brand-new API process rebuilds the same view from Kafka.
    fresh = ApiServer(create_api_from_settings(settings, Metrics()))
    await fresh.start()
    try:
        client = ApiClient(fresh.url, api.session)
        code, body = await client.call("GET", f"/api/v1/webhooks/{webhook['id']}")
        assert code == 200
        assert body["name"] == "durable" and body["hasSecret"] is True
    finally:
        await fresh.stop()


async def test_an_event_too_large_to_deliver_is_reported_and_the_pipeline_goes_on(
    api: ApiClient, worker: WorkerProcess, receiver: Receiver, kafka: str, unique: str
) -> None:
    await live_webhook(api, worker, name="big", url=f"{receiver.url}/big", events=[f"big.{unique}"])
    # Fits the events topic, but not with a delivery record's own fields
    # around it: a write the broker would refuse however often it is retried.
    event = {"eventId": f"big-{unique}", "eventType": f"big.{unique}", "entityId": "1"}
    padding = MAX_RECORD_BYTES - len(orjson.dumps(event | {"entity": {"pad": ""}})) - 64
    big = orjson.dumps(event | {"entity": {"pad": "x" * padding}})
    assert len(big) < MAX_RECORD_BYTES
    large = AIOKafkaProducer(
        bootstrap_servers=kafka, acks="all", max_request_size=4 * MAX_RECORD_BYTES
    )
    await large.start()
    try:
        await send_event(large, big)
        await send_event(
            large, {"eventId": f"small-{unique}", "eventType": f"big.{unique}", "entityId": "1"}
        )
    finally:
        await large.stop()

    [request] = await receiver.wait_for("/big")
    assert orjson.loads(request.body)["eventId"] == f"small-{unique}"
    [report] = await read_invalid_events(kafka, f"big-{unique}", 1)
    assert "too large" in report["reason"]
