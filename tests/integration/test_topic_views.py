"""TopicView.catch_up gives read-after-write across processes."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.table import CompactedTable


async def test_a_write_acknowledged_before_catch_up_is_applied_after_it(
    kafka: str, producer: AIOKafkaProducer
) -> None:
    topic = f"views.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"cleanup.policy": "compact"})])
    await admin.close()
    view: CompactedTable[bytes] = CompactedTable(kafka, topic, bytes)
    await view.start()
    await view.wait_ready(timeout=30)
    try:
        for n in range(30):
            key = f"k{n}"
            await producer.send_and_wait(topic, key=key.encode(), value=b"v", partition=n % 2)
            # Straight after the acknowledgement the view has usually not fetched
            # the record yet; catch_up must make it visible.
            assert await view.catch_up(timeout=10)
            assert view.get(key) == b"v", key
        await producer.send_and_wait(topic, key=b"k0", value=None, partition=0)  # tombstone
        assert await view.catch_up(timeout=10)
        assert view.get("k0") is None
    finally:
        await view.stop()
