"""Quiet delivery partitions go dormant (streams/dormancy.py): the worker
stops fetching them, and an event for a dormant webhook still arrives, once,
when the worker sees its partition's end move past its position."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from schemas.deliveries import delivery_id_for
from tests.conftest import send_event


async def test_a_dormant_webhook_wakes_for_its_next_events(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    path, event_type = f"/sleepy-{unique}", f"sleepy.{unique}"
    webhook = await live_webhook(
        api, worker, name="sleepy", url=receiver.url + path, events=[event_type]
    )
    marker = f".{webhook['id']}["

    async def asleep() -> set[str] | None:
        status = await worker.status()
        held = {tp for tp in status["partitions"]["deliver_webhooks"] if marker in tp}
        dormant = {tp for tp in status["dormant"]["deliver_webhooks"] if marker in tp}
        return dormant if held and dormant == held else None

    # Quiet since it was created: every partition of its topic falls asleep.
    slept = await eventually(asleep, timeout=60, interval=0.5, message="partitions dormant")
    assert slept

    events = [f"e-{unique}-{n}" for n in range(8)]
    for n, event_id in enumerate(events):  # several entities: several partitions
        await send_event(
            producer, {"eventId": event_id, "eventType": event_type, "entityId": str(n)}
        )
    expected = {delivery_id_for(webhook["id"], event_id) for event_id in events}
    assert await receiver.wait_for_deliveries(path, expected, timeout=60) == expected

    # The partitions that got records are awake again (the rest may still
    # sleep; woken ones fall asleep again only after a quiet spell).
    woken = await worker.status()
    assert len([tp for tp in woken["dormant"]["deliver_webhooks"] if marker in tp]) < len(slept)
