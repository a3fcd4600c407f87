"""Two worker processes share the routing and delivery partitions: each owns
some slots and some partitions, every event is delivered, and anything
delivered twice (only possible across the hand-over) has the same delivery id.
Webhooks created while both run are picked up without a rebalance."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import (
    WorkerProcess,
    delivery_partitions,
    wait_all_slots,
    wait_slots_split,
)
from hookstream.testing.receiver import Receiver
from schemas.deliveries import delivery_id_for
from streams.ports import free_port
from tests.conftest import send_event

WEBHOOKS = 4
EVENTS = 120


async def test_two_workers_share_the_work_and_deliver_every_event(
    worker: WorkerProcess,
    api: ApiClient,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    process_env: dict[str, str],
    artifacts: Path,
    unique: str,
) -> None:
    event_type = f"scale.{unique}"
    second = WorkerProcess(process_env, free_port(), artifacts / f"worker-{unique}.log")
    await second.start()
    try:
        await wait_slots_split([worker, second])

        # Created while both run: each webhook's topic is taken up by the owners
        # of its partitions, with no rebalance.
        webhooks = [
            await live_webhook(
                api,
                worker,
                name=f"scale {i}",
                url=f"{receiver.url}/{unique}/{i}",
                events=[event_type],
            )
            for i in range(WEBHOOKS)
        ]
        ids = [webhook["id"] for webhook in webhooks]

        async def partitions_split() -> tuple[set[str], set[str]] | None:
            mine = delivery_partitions(await worker.status(), ids)
            theirs = delivery_partitions(await second.status(), ids)
            if len(mine) + len(theirs) == WEBHOOKS * 4:
                return mine, theirs
            return None

        mine, theirs = await eventually(partitions_split, timeout=60)
        assert not mine & theirs
        assert mine and theirs  # 16 partitions over 64 slots: both hold some

        for n in range(EVENTS):
            await send_event(
                producer,
                {"eventId": f"e-{unique}-{n}", "eventType": event_type, "entityId": str(n)},
            )
        for i, webhook_id in enumerate(ids):
            expected = {delivery_id_for(webhook_id, f"e-{unique}-{n}") for n in range(EVENTS)}
            delivered = await receiver.wait_for_deliveries(f"/{unique}/{i}", expected, 120)
            assert delivered == expected

        for process in (worker, second):
            made = sum(
                [
                    await process.metric(
                        "hookstream_deliveries_total", webhook=webhook_id, outcome="success"
                    )
                    for webhook_id in ids
                ]
            )
            assert made > 0, "one of the workers delivered nothing"
    finally:
        await second.stop()

    await wait_all_slots(worker, timeout=90)
