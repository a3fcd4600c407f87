"""rateLimit end to end: a limited webhook's attempts are spaced out, its
neighbour is not held up, and waiting is no failure."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event


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
