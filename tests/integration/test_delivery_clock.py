"""hookstream_delivery_end_to_end_seconds measures the pipeline (the event's
Kafka record time → 2xx), not the event's own business timestamp: an event
stamped a day ago still counts as delivered within seconds, and its age is
kept apart in hookstream_event_age_seconds."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event

DAY = 86_400


async def test_end_to_end_starts_at_the_record_not_the_business_timestamp(
    worker: WorkerProcess,
    api: ApiClient,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"clock.{unique}"
    await live_webhook(
        api, worker, name="clock", url=f"{receiver.url}/{unique}", events=[event_type]
    )
    e2e = "hookstream_delivery_end_to_end_seconds"
    age = "hookstream_event_age_seconds"
    before = {
        name: await worker.metric(name)
        for name in (f"{e2e}_count", f"{e2e}_sum", f"{age}_count", f"{age}_sum")
    }
    await send_event(
        producer,
        {
            "eventId": f"e-{unique}",
            "eventType": event_type,
            "entityId": "1",
            "timestamp": "2000-01-01T00:00:00Z",  # decades old
        },
    )
    await receiver.wait_for(f"/{unique}")

    async def observed() -> bool:
        return await worker.metric(f"{e2e}_count") > before[f"{e2e}_count"]

    await eventually(observed, timeout=30)
    # Other tests' deliveries may land in between: compare sums, which an
    # event decades old would move by ~8e8 seconds.
    e2e_added = await worker.metric(f"{e2e}_sum") - before[f"{e2e}_sum"]
    age_added = await worker.metric(f"{age}_sum") - before[f"{age}_sum"]
    assert e2e_added < DAY
    assert age_added > 20 * 365 * DAY
