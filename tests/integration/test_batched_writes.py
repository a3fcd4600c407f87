"""Batched writes (streams/batches.py) on the real broker: a key lands in the
partition a plain ``send`` picks for it (the API's ping writes the delivery
log record by record, the worker in batches, and readers keep the newest N
per key within one partition), every record arrives once, in order."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from hookstream.testing.eventually import eventually
from streams.batches import PartitionBatches
from streams.kafka import new_producer
from tests.conftest import create_topic


async def test_batches_land_where_send_would_in_order(kafka: str, unique: str) -> None:
    topic = await create_topic(kafka, f"probe.batches-{unique}", 4)
    producer = new_producer(kafka)
    await producer.start()
    keys = [f"wh_{n:03d}".encode() for n in range(12)]
    try:
        # One record per key the plain way: the partition send picks.
        singles = [await producer.send(topic, key=key, value=b"single") for key in keys]
        by_send = {key: (await ack).partition for key, ack in zip(keys, singles, strict=True)}
        batches = PartitionBatches(producer)
        for n in range(5):
            for key in keys:
                assert batches.add(topic, key, f"batched-{n}".encode()) is not None
        submitted = await batches.submit()
        for batch in submitted:
            assert batch.ack is not None
            await batch.ack
        assert all(batch.acknowledged for batch in submitted)
        assert len(submitted) <= 4  # one batch per partition
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, auto_offset_reset="earliest")
    await consumer.start()
    seen: dict[bytes, list[tuple[int, bytes]]] = {key: [] for key in keys}
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(4)])

        async def all_read() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    seen[record.key].append((record.partition, record.value))
            return sum(len(values) for values in seen.values()) >= len(keys) * 6

        await eventually(all_read, timeout=30)
    finally:
        await consumer.stop()
    for key in keys:
        assert {partition for partition, _ in seen[key]} == {by_send[key]}
        assert [value for _, value in seen[key]] == [
            b"single",
            *(f"batched-{n}".encode() for n in range(5)),
        ]
