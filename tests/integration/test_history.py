"""Reading a stretch of history (streams/history.py) from the real broker:
a topic deleted while it is still to be read ends the read with an error,
instead of a reader that waits for its records forever."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.broker_compat import true_end_offsets
from streams.history import TopicDeletedError, history_consumer, read_between
from streams.kafka import stop_quietly
from tests.conftest import create_topic


async def test_a_topic_deleted_before_it_is_read_ends_the_read(
    kafka: str, producer: AIOKafkaProducer, unique: str
) -> None:
    topic = await create_topic(kafka, f"events.deleted-{unique}", 2)
    for n in range(20):
        await producer.send_and_wait(topic, key=str(n).encode(), value=b"{}")
    consumer = history_consumer(kafka, client_id=f"test-{unique}")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(2)]
        ends = await true_end_offsets(consumer, partitions)
        assert sum(ends.values()) == 20
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()
        read = 0
        with pytest.raises(TopicDeletedError, match=f"topic {topic} was deleted"):
            async for records in read_between(
                consumer, dict.fromkeys(partitions, 0), ends, quiet_check=1.0
            ):
                read += len(records)
        assert read < 20
    finally:
        await stop_quietly(consumer, "test")
