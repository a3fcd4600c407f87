"""rateLimit end to end: a limited webhook's attempts are spaced out, its
neighbour is not held up, and waiting is no failure."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event

HOURLY = {"requests": 1, "perSeconds": 3600}


async def test_a_limited_webhook_waits_and_its_neighbour_does_not(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"order.limited.{unique}"
    limited = await live_webhook(
        api,
        worker,
        name="limited",
        url=f"{receiver.url}/limited",
        events=[event_type],
        rateLimit={"requests": 2, "perSeconds": 1},
    )
    assert limited["rateLimit"] == {"requests": 2, "perSeconds": 1.0}
    await live_webhook(
        api, worker, name="neighbour", url=f"{receiver.url}/free", events=[event_type]
    )
    for n in range(6):
        # Different entities: nothing but the limit keeps them from running at once.
        await send_event(
            producer, {"eventId": f"e-{unique}-{n}", "eventType": event_type, "entityId": f"{n}"}
        )

    free = await receiver.wait_for("/free", count=6)
    arrived = await receiver.wait_for("/limited", count=6)
    assert max(r.at for r in free) < max(r.at for r in arrived), "the neighbour was held up"
    times = sorted(r.at for r in arrived)
    # Any two requests apart are a window apart (the limiter spaces the
    # starts exactly; a little of it may go to network jitter).
    assert all(later - first >= 0.9 for first, later in zip(times, times[2:], strict=False))
    assert len({receiver.header(r, "X-Etl-Webhook-Event-Id") for r in arrived}) == 6
    assert await worker.metric("hookstream_rate_limited_total", webhook=limited["id"]) >= 1
    outcomes = await worker.metric("hookstream_deliveries_total", webhook=limited["id"])
    assert outcomes == 6, "waiting used no attempt and failed none"


async def test_waiting_deliveries_follow_the_webhook_as_it_changes(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    """One request an hour: nothing is booked an hour ahead, so raising the
    limit frees the waiting deliveries at once, and disabling the webhook
    ends their wait (dead-lettered, never attempted)."""
    event_type = f"order.hourly.{unique}"
    webhook = await live_webhook(
        api,
        worker,
        name="hourly",
        url=f"{receiver.url}/hourly",
        events=[event_type],
        rateLimit=HOURLY,
    )
    path = f"/api/v1/webhooks/{webhook['id']}"

    async def waiting(count: int) -> bool:
        waits = await worker.metric("hookstream_rate_limited_total", webhook=webhook["id"])
        return waits >= count

    async def send(first: int, count: int) -> None:
        for n in range(first, first + count):
            await send_event(
                producer,
                {"eventId": f"e-{unique}-{n}", "eventType": event_type, "entityId": str(n)},
            )

    await send(0, 3)
    await receiver.wait_for("/hourly", count=1)
    await eventually(lambda: waiting(2), message="two deliveries never began to wait")
    status, _ = await api.call(
        "PATCH", path, json={"rateLimit": {"requests": 100, "perSeconds": 1}}
    )
    assert status == 200
    arrived = await receiver.wait_for("/hourly", count=3, timeout=30)
    assert len({receiver.header(r, "X-Etl-Webhook-Event-Id") for r in arrived}) == 3

    # Back to one an hour: the last start counts, so the next two wait.
    status, hourly = await api.call("PATCH", path, json={"rateLimit": HOURLY})
    assert status == 200
    await worker.wait_knows(hourly)
    await send(3, 2)
    await eventually(lambda: waiting(4), message="the next two never began to wait")
    status, _ = await api.call("PATCH", path, json={"enabled": False})
    assert status == 200

    async def dead_letters() -> list[str] | None:
        status, body = await api.call("GET", f"{path}/dead-letters")
        assert status == 200, body
        ids = sorted(r["event"]["eventId"] for r in body["data"])
        return ids if len(ids) == 2 else None

    dead = await eventually(dead_letters, timeout=30, message="the waits never ended")
    assert dead == [f"e-{unique}-3", f"e-{unique}-4"]
    assert len(receiver.on_path("/hourly")) == 3, "a waiting delivery was attempted"
    sent = await worker.metric(
        "hookstream_deliveries_total", webhook=webhook["id"], outcome="success"
    )
    assert sent == 3, "waiting used no attempt"
