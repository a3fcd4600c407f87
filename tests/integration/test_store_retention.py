"""The embedded broker's disk store forgets records older than their topic's
retention (streams/retention.py), keeps compacted tables whole, and the
partitions it trimmed go on working. Data is aged by trimming at a later
``now``, not by waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hookstream.settings import Settings
from hookstream.testing.eventually import eventually
from streams.broker import EmbeddedBroker
from streams.ports import free_port
from streams.topics import WEBHOOKS, delivery_topic


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


async def first_offset(bootstrap: str, topic: str) -> int | None:
    """The first offset a new reader from the earliest gets."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000, max_records=1)
        return next((r.offset for records in batches.values() for r in records), None)
    finally:
        await consumer.stop()


async def test_a_queue_keeps_only_what_its_groups_have_not_consumed(
    tmp_path: Path, unique: str
) -> None:
    broker = EmbeddedBroker("127.0.0.1", free_port(), storage="disk", data_dir=tmp_path / "data")
    await broker.start()
    queue, events = delivery_topic(f"wh_trim{unique}"), f"events.kept-{unique}"
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(queue, 1, 1), NewTopic(events, 1, 1)])
        await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        for i in range(6):  # six batches each
            await producer.send_and_wait(queue, f"q-{i}".encode())
            await producer.send_and_wait(events, f"e-{i}".encode())
        await producer.stop()

        group = f"deliver-{unique}"
        consumer = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(queue, 0), TopicPartition(events, 0)]
            consumer.assign(partitions)
            await consumer.commit(dict.fromkeys(partitions, 4))
        finally:
            await consumer.stop()

        # The store drops batches 0-3 of the queue within seconds; the events
        # topic, read by replays without a group, keeps all of its history.
        await eventually(lambda: offset_is(broker.bootstrap, queue, 4), timeout=60, interval=1)
        assert await first_offset(broker.bootstrap, events) == 0

        resumed = AIOKafkaConsumer(
            queue, bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
        )
        await resumed.start()
        try:
            batches = await resumed.getmany(timeout_ms=10_000)
            values = [r.value for records in batches.values() for r in records]
            assert values[:1] == [b"q-4"]  # the group goes on where it was
        finally:
            await resumed.stop()
    finally:
        await broker.stop()


async def offset_is(bootstrap: str, topic: str, expected: int) -> bool:
    return await first_offset(bootstrap, topic) == expected
