"""Seeing and repairing deliveries: the log, redelivery, ping, event types, entities."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import read_records
from hookstream.testing.processes import RETRY_SCHEDULE, WorkerProcess
from hookstream.testing.receiver import Receiver
from streams.topics import DELIVERY_LOG
from tests.conftest import send_event


async def wait_for_log(api: ApiClient, webhook_id: str, count: int) -> list[dict[str, Any]]:
    async def log_entries() -> list[dict[str, Any]] | None:
        status, body = await api.call("GET", f"/api/v1/webhooks/{webhook_id}/events")
        assert status == 200, body
        return body["data"] if len(body["data"]) >= count else None

    return await eventually(
        log_entries, timeout=30, interval=0.2, message=f"{count} log entries for {webhook_id}"
    )


async def test_log_shows_request_and_response_newest_first_with_secrets_redacted(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    receiver.scripts["/logged"] = [(500, {})]
    webhook = await live_webhook(
        api,
        worker,
        name="logged",
        url=f"{receiver.url}/logged",
        events=[f"inv.paid.{unique}"],
        secret="s3cret",
        basicAuth={"username": "u", "password": "p"},
    )
    await send_event(
        producer, {"eventId": f"i-{unique}", "eventType": f"inv.paid.{unique}", "entityId": "9"}
    )
    await receiver.wait_for("/logged", 2)

    newest, oldest = (await wait_for_log(api, webhook["id"], 2))[:2]
    assert (newest["attempt"], oldest["attempt"]) == (2, 1)
    assert (newest["outcome"], oldest["outcome"]) == ("success", "http_error")
    assert oldest["response"]["status"] == 500 and oldest["response"]["body"] == "scripted 500"
    assert newest["deliveryId"] == oldest["deliveryId"]
    request = newest["request"]
    assert request["method"] == "POST" and request["url"] == f"{receiver.url}/logged"
    assert orjson.loads(request["body"])["eventId"] == f"i-{unique}"
    assert request["headers"]["Authorization"] == "[redacted]"
    assert request["headers"]["X-Etl-Webhook-Signature"] == "[redacted]"
    assert request["headers"]["X-Etl-Webhook-Event"] == f"inv.paid.{unique}"
    assert "s3cret" not in orjson.dumps(newest).decode()
    assert newest["durationMs"] >= 0
    # The failed attempt says when the next was due (1 s, ±20 %), the success nothing.
    assert (newest["trigger"], oldest["trigger"]) == ("event", "event")
    due = datetime.fromisoformat(oldest["nextAttemptAt"]) - datetime.fromisoformat(oldest["at"])
    assert timedelta(seconds=0.7) <= due <= timedelta(seconds=1.3), oldest["nextAttemptAt"]
    assert oldest["deadLetterReason"] is None
    assert newest["nextAttemptAt"] is None and newest["deadLetterReason"] is None


async def test_the_last_attempt_says_why_it_was_the_last(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    receiver.status = 500
    webhook = await live_webhook(
        api, worker, name="last", url=f"{receiver.url}/last", events=[f"inv.paid.{unique}"]
    )
    await send_event(
        producer, {"eventId": f"l-{unique}", "eventType": f"inv.paid.{unique}", "entityId": "9"}
    )
    attempts = len(RETRY_SCHEDULE.split(",")) + 1
    logged = await wait_for_log(api, webhook["id"], attempts)
    assert [a["attempt"] for a in logged] == list(range(attempts, 0, -1))
    last, earlier = logged[0], logged[1:]
    assert last["nextAttemptAt"] is None
    assert last["deadLetterReason"].startswith(f"gave up after {attempts} attempts")
    assert all(a["nextAttemptAt"] and a["deadLetterReason"] is None for a in earlier)


async def test_redeliver_sends_again_with_the_same_delivery_id(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await live_webhook(
        api, worker, name="again", url=f"{receiver.url}/again", events=[f"inv.paid.{unique}"]
    )
    await send_event(
        producer, {"eventId": f"a-{unique}", "eventType": f"inv.paid.{unique}", "entityId": "9"}
    )
    [first] = await receiver.wait_for("/again", 1)
    [logged] = await wait_for_log(api, webhook["id"], 1)

    path = f"/api/v1/webhooks/{webhook['id']}/events/{logged['deliveryId']}/redeliver"
    status, body = await api.call("POST", path)
    assert status == 202 and body["deliveryId"] == logged["deliveryId"]
    _, second = await receiver.wait_for("/again", 2)
    assert second.headers["X-Etl-Webhook-Event-Id"] == first.headers["X-Etl-Webhook-Event-Id"]
    assert orjson.loads(second.body) == orjson.loads(first.body)
    # Attempt 1 again, but marked as the redelivery it was.
    again, original = (await wait_for_log(api, webhook["id"], 2))[:2]
    assert (again["attempt"], again["trigger"]) == (1, "redelivery")
    assert (original["attempt"], original["trigger"]) == (1, "event")

    status, body = await api.call(
        "POST", f"/api/v1/webhooks/{webhook['id']}/events/dlv_unknown/redeliver"
    )
    assert status == 404


async def test_ping_returns_the_attempt(api: ApiClient, receiver: Receiver) -> None:
    webhook = await api.create_webhook(
        name="ping", url=f"{receiver.url}/ping", events=["never.sent"]
    )
    status, attempt = await api.call("POST", f"/api/v1/webhooks/{webhook['id']}/ping")
    assert status == 200, attempt
    assert attempt["outcome"] == "success" and attempt["response"]["status"] == 200
    [request] = receiver.on_path("/ping")
    assert request.headers["X-Etl-Webhook-Event"] == "webhook.ping"
    assert attempt["deliveryId"] == request.headers["X-Etl-Webhook-Event-Id"]
    assert attempt["trigger"] == "ping"

    receiver.status = 503
    status, attempt = await api.call("POST", f"/api/v1/webhooks/{webhook['id']}/ping")
    assert (
        status == 200
        and attempt["outcome"] == "http_error"
        and attempt["response"]["status"] == 503
    )
    await wait_for_log(api, webhook["id"], 2)


async def test_event_types_and_entities_are_served(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    await live_webhook(
        api, worker, name="ent", url=f"{receiver.url}/ent", events=[f"shipment.sent.{unique}"]
    )
    await send_event(
        producer,
        {
            "eventId": f"s-{unique}",
            "eventType": f"shipment.sent.{unique}",
            "entityId": f"sh-{unique}",
            "entity": {"carrier": "dhl", "weight": 2},
        },
    )
    [request] = await receiver.wait_for("/ent", 1)
    entity_url = request.headers["X-Etl-Webhook-Entity-URL"]
    path = entity_url[entity_url.index("/api/v1/") :]
    assert path == f"/api/v1/entities/shipment/sh-{unique}"

    async def stored_entity() -> dict[str, Any] | None:
        status, body = await api.call("GET", path)
        return body if status == 200 else None

    body = await eventually(stored_entity, timeout=30, interval=0.2, message=f"GET {path} is 200")
    assert body["entity"] == {"carrier": "dhl", "weight": 2}

    # The catalogue's two tables are read independently, so the event type
    # may show up a moment after the entity.
    async def listed_types() -> set[str] | None:
        status, types = await api.call("GET", "/api/v1/event-types")
        assert status == 200
        listed = {t["eventType"] for t in types["data"]}
        return listed if f"shipment.sent.{unique}" in listed else None

    await eventually(listed_types, timeout=30, interval=0.2, message="event type listed")
    status, _ = await api.call("GET", "/api/v1/entities/shipment/never-seen")
    assert status == 404


async def test_a_ping_and_a_delivery_share_the_webhooks_log_partition(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    kafka: str,
    unique: str,
) -> None:
    # The worker writes a delivery's attempts and the API writes a ping's:
    # the log keeps a webhook's newest attempts in order only if both writers
    # put that webhook in the same partition.
    webhook = await live_webhook(
        api, worker, name="mixed", url=f"{receiver.url}/mixed", events=[f"mix.{unique}"]
    )
    await send_event(
        producer, {"eventId": f"m-{unique}", "eventType": f"mix.{unique}", "entityId": "1"}
    )
    await wait_for_log(api, webhook["id"], 1)
    status, ping = await api.call("POST", f"/api/v1/webhooks/{webhook['id']}/ping")
    assert status == 200 and ping["outcome"] == "success", ping
    key = webhook["id"].encode()
    records = await read_records(
        kafka, DELIVERY_LOG, where=lambda record: record.key == key, count=2
    )
    assert len({record.partition for record in records}) == 1
    newest, oldest = (await wait_for_log(api, webhook["id"], 2))[:2]
    assert newest["deliveryId"] == ping["deliveryId"]
    assert orjson.loads(oldest["request"]["body"])["eventId"] == f"m-{unique}"
