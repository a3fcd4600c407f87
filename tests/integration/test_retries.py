"""Failed attempts are retried on the schedule, then dead-lettered."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from hookstream.delivery.retry_schedule import format_duration, parse_schedule
from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import keyed, read_records, values
from hookstream.testing.processes import RETRY_SCHEDULE, WorkerProcess
from hookstream.testing.receiver import Receiver
from streams.topics import DEAD_LETTERS, retry_topic
from tests.conftest import send_event

SCHEDULE = parse_schedule(RETRY_SCHEDULE)
ATTEMPTS = 1 + len(SCHEDULE)


def event(unique: str, n: int = 1) -> dict[str, object]:
    return {"eventId": f"r-{unique}-{n}", "eventType": f"pay.failed.{unique}", "entityId": str(n)}


async def webhook_for(
    api: ApiClient, worker: WorkerProcess, receiver: Receiver, path: str, unique: str
) -> dict:
    webhook = await live_webhook(
        api, worker, name=path, url=f"{receiver.url}{path}", events=[f"pay.failed.{unique}"]
    )
    return webhook


async def read_dead_letters(kafka: str, delivery_id: str) -> dict:
    [dead] = values(await read_records(kafka, DEAD_LETTERS, where=keyed(delivery_id)))
    return dead


async def test_failures_are_retried_with_the_same_delivery_id(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    receiver.scripts["/flaky"] = [(500, {}), (302, {"Location": "https://elsewhere.example/"})]
    await webhook_for(api, worker, receiver, "/flaky", unique)
    await send_event(producer, event(unique))

    requests = await receiver.wait_for("/flaky", 3)
    assert len({r.headers["X-Etl-Webhook-Event-Id"] for r in requests}) == 1
    assert [r.headers["X-Etl-Webhook-Attempt"] for r in requests] == ["1", "2", "3"]
    assert [orjson.loads(r.body)["eventId"] for r in requests] == [f"r-{unique}-1"] * 3
    metrics = await worker.metrics()
    assert "hookstream_retries_scheduled_total" in metrics


async def test_exhausted_schedule_goes_to_dead_letters_with_every_attempt(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    kafka: str,
    unique: str,
) -> None:
    receiver.scripts["/down"] = [(500, {})] * ATTEMPTS
    webhook = await webhook_for(api, worker, receiver, "/down", unique)
    await send_event(producer, event(unique))

    requests = await receiver.wait_for("/down", ATTEMPTS)
    delivery_id = requests[0].headers["X-Etl-Webhook-Event-Id"]
    dead = await read_dead_letters(kafka, delivery_id)
    assert dead["webhookId"] == webhook["id"]
    assert dead["event"]["eventId"] == f"r-{unique}-1"
    assert [a["attempt"] for a in dead["attempts"]] == list(range(1, ATTEMPTS + 1))
    assert all(a["status"] == 500 for a in dead["attempts"])
    assert f"{ATTEMPTS} attempts" in dead["reason"]
    # Nothing after dead-lettering, proved by counts instead of a pause: every retry
    # is written before the dead letter, so the retry tiers now hold all of them,
    # and there is exactly one per scheduled retry (none for an attempt past the last).
    scheduled: dict[str, list[int]] = {}
    for failed, delay in enumerate(SCHEDULE, start=1):
        scheduled.setdefault(format_duration(delay), []).append(failed + 1)
    for tier, attempts in scheduled.items():
        retries = values(
            await read_records(
                kafka, retry_topic(tier), where=keyed(delivery_id), count=len(attempts)
            )
        )
        assert sorted(r["attempt"] for r in retries) == attempts, tier
    assert len(receiver.on_path("/down")) == ATTEMPTS


async def test_gone_disables_the_webhook_with_a_reason(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    kafka: str,
    unique: str,
) -> None:
    receiver.scripts["/gone"] = [(410, {})]
    webhook = await webhook_for(api, worker, receiver, "/gone", unique)
    await send_event(producer, event(unique))
    [request] = await receiver.wait_for("/gone", 1)
    dead = await read_dead_letters(kafka, request.headers["X-Etl-Webhook-Event-Id"])
    assert "410" in dead["reason"]

    async def disabled() -> dict[str, Any] | None:
        status, body = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}")
        return body if status == 200 and body["enabled"] is False else None

    body = await eventually(disabled, timeout=30, interval=0.2, message="webhook disabled")
    assert "410" in body["disabledReason"]


async def test_retry_after_is_honoured(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    kafka: str,
    unique: str,
) -> None:
    asked = 3.0
    assert asked > max(SCHEDULE) * 1.2  # longer than any jittered scheduled delay
    receiver.scripts["/busy"] = [(429, {"Retry-After": str(int(asked))})]
    await webhook_for(api, worker, receiver, "/busy", unique)
    await send_event(producer, event(unique))
    first, second = await receiver.wait_for("/busy", 2)
    assert [r.headers["X-Etl-Webhook-Attempt"] for r in (first, second)] == ["1", "2"]
    # The retry record says when attempt 2 may start. No tier is as long as asked,
    # so it waits in the longest one.
    # Released from that tier before it is due, it goes round it again (so it
    # never holds the tier's other records longer than they wait): one or more
    # copies, all the same.
    retry, *again = values(
        await read_records(
            kafka,
            retry_topic(format_duration(max(SCHEDULE))),
            where=keyed(first.headers["X-Etl-Webhook-Event-Id"]),
        )
    )
    assert all(copy == retry for copy in again)
    assert retry["attempt"] == 2
    assert retry["history"][0]["status"] == 429
    # Order of recorded moments, not a measured duration (being slow only widens
    # the gaps): the policy set notBefore at least `asked` after attempt 1 reached
    # the receiver, and attempt 2 reached it no earlier than notBefore.
    assert retry["notBefore"] >= first.wall_at + asked
    assert second.wall_at >= retry["notBefore"]
