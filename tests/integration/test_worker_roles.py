"""Worker roles: a route-only and a deliver-only worker join the full worker
of the test session. Each role's slots are shared among the workers that run
it, so the route-only worker routes some events and delivers nothing, the
deliver-only worker delivers some and routes nothing, and every event still
reaches every webhook."""

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
from streams.kafka import TopicAdmin
from streams.ports import free_port
from streams.topics import TopicSpec
from tests.conftest import send_event

WEBHOOKS = 4
EVENTS = 120
# Its own events topic, wide enough that both routers own some of it.
EVENT_PARTITIONS = 16


async def test_routers_and_deliverers_scale_separately(
    worker: WorkerProcess,
    api: ApiClient,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    kafka: str,
    process_env: dict[str, str],
    artifacts: Path,
    unique: str,
) -> None:
    event_type = f"roles.{unique}"
    topic = f"events.roles-{unique}"
    admin = TopicAdmin(kafka)
    await admin.start()
    try:
        await admin.ensure([TopicSpec(topic, EVENT_PARTITIONS)])
    finally:
        await admin.close()
    router = WorkerProcess(
        process_env | {"HOOKSTREAM_WORKER_ROLES": "route"},
        free_port(),
        artifacts / f"router-{unique}.log",
    )
    deliverer = WorkerProcess(
        process_env | {"HOOKSTREAM_WORKER_ROLES": "deliver"},
        free_port(),
        artifacts / f"deliverer-{unique}.log",
    )
    await router.start()
    await deliverer.start()
    try:
        router_status, deliverer_status, _ = await wait_slots_split([router, deliverer, worker])
        assert router_status["roles"] == ["route"]
        assert set(router_status["partitions"]) == {"route_events"}
        assert deliverer_status["roles"] == ["deliver"]
        assert "route_events" not in deliverer_status["partitions"]

        webhooks = [
            await live_webhook(
                api, worker, name=f"r{i}", url=f"{receiver.url}/{unique}/{i}", events=[event_type]
            )
            for i in range(WEBHOOKS)
        ]
        for process in (router, deliverer):
            for webhook in webhooks:
                await process.wait_knows(webhook)
        ids = [webhook["id"] for webhook in webhooks]

        async def deliveries_split() -> bool:
            mine = delivery_partitions(await worker.status(), ids)
            theirs = delivery_partitions(await deliverer.status(), ids)
            return len(mine | theirs) == WEBHOOKS * 4 and bool(theirs) and not mine & theirs

        # 16 partitions over 64 slots: the deliverer owns some once it has taken them up.
        await eventually(deliveries_split, timeout=60)
        for n in range(EVENTS):
            await send_event(
                producer,
                {"eventId": f"e-{unique}-{n}", "eventType": event_type, "entityId": str(n)},
                topic=topic,
            )
        for i, webhook in enumerate(webhooks):
            expected = {delivery_id_for(webhook["id"], f"e-{unique}-{n}") for n in range(EVENTS)}
            delivered = await receiver.wait_for_deliveries(f"/{unique}/{i}", expected, 120)
            assert delivered == expected

        async def total(process: WorkerProcess, sample: str, **labels: str) -> float:
            return sum([await process.metric(sample, webhook=i, **labels) for i in ids])

        assert await total(router, "hookstream_deliveries_routed_total") > 0
        assert await total(router, "hookstream_deliveries_total", outcome="success") == 0
        assert await total(deliverer, "hookstream_deliveries_total", outcome="success") > 0
        assert await total(deliverer, "hookstream_deliveries_routed_total") == 0
    finally:
        await router.stop()
        await deliverer.stop()

    # The session's worker takes every slot of both roles back before the
    # next test relies on it.
    await wait_all_slots(worker, timeout=120)
