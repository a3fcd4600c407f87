"""The embedded broker's disk store forgets records older than their topic's
retention (streams/retention.py), keeps compacted tables whole, and the
partitions it trimmed go on working. Data is aged by trimming at a later
``now``, not by waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hookstream.settings import Settings
from streams.broker import EmbeddedBroker
from streams.ports import free_port
from streams.topics import WEBHOOKS


async def read_values(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    """Every value from the earliest offset the broker still has."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        while len(values) < expected:
            batches = await consumer.getmany(timeout_ms=10_000)
            if not batches:
                break
            values += [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()
    return values


async def test_expired_batches_are_deleted_and_the_partition_goes_on(
    tmp_path: Path, unique: str
) -> None:
    broker = EmbeddedBroker("127.0.0.1", free_port(), storage="disk", data_dir=tmp_path / "data")
    await broker.start()
    events, table = f"events.aged-{unique}", WEBHOOKS
    settings = Settings(event_retention="1d")
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(events, 1, 1), NewTopic(table, 1, 1)])
        await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        for i in range(5):  # five batches: each send awaited on its own
            await producer.send_and_wait(events, f"old-{i}".encode())
            await producer.send_and_wait(table, f"row-{i}".encode())

        retention = broker.store_retention(settings.retention_ms)
        now = datetime.now(UTC)
        fresh = await retention.trim(now)
        assert fresh.deleted == 0
        assert len(await read_values(broker.bootstrap, events, 5)) == 5

        aged = await retention.trim(now + timedelta(days=1, minutes=1))
        # Every events batch but the newest; nothing of the compacted table.
        assert aged.deleted == 4
        assert await read_values(broker.bootstrap, events, 1) == [b"old-4"]
        assert len(await read_values(broker.bootstrap, table, 5)) == 5

        await producer.send_and_wait(events, b"new")
        await producer.stop()
        assert await read_values(broker.bootstrap, events, 2) == [b"old-4", b"new"]
        later = now + timedelta(days=3)
        assert (await retention.trim(later)).deleted == 1  # old-4 is no longer the newest
        assert (await retention.trim(later)).deleted == 0  # the newest is kept, however old
        assert await read_values(broker.bootstrap, events, 1) == [b"new"]
    finally:
        await broker.stop()
