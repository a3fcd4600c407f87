"""QueuedWriter (streams/queued_writer.py) and CachedPartitioner
(streams/kafka.py): pure logic against a stand-in producer."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner

from hookstream.testing.eventually import eventually
from streams.kafka import CachedPartitioner
from streams.queued_writer import QueuedWriter


class StandInProducer:
    """Keeps what it was given; ``fail_acks`` fails each acknowledgement."""

    def __init__(self, fail_acks: bool = False) -> None:
        self.fail_acks = fail_acks
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, *, key: bytes, value: bytes) -> Any:
        # No partition: the producer's partitioner picks it, as for every
        # other writer of the topic (an API ping's attempt included).
        self.sent.append((topic, key, value))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail_acks:
            ack.set_exception(KafkaTimeoutError())
        else:
            ack.set_result(None)
        return ack


async def test_records_go_out_in_order_with_their_keys() -> None:
    producer, drops = StandInProducer(), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    await writer.start()
    for n in range(20):
        writer.write(f"key-{n % 4}", {"n": n})
    await eventually(lambda: len(producer.sent) == 20)
    await writer.stop()
    assert [orjson.loads(value)["n"] for _, _, value in producer.sent] == list(range(20))
    assert [key for _, key, _ in producer.sent] == [f"key-{n % 4}".encode() for n in range(20)]
    assert {topic for topic, _, _ in producer.sent} == {"logs"}
    assert drops == []


async def test_a_full_queue_drops_and_counts_instead_of_waiting() -> None:
    producer, drops = StandInProducer(), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1), limit=2)  # type: ignore[arg-type]
    for n in range(5):  # not started: nothing drains
        writer.write("k", {"n": n})
    assert len(drops) == 3
    await writer.start()
    await eventually(lambda: len(producer.sent) == 2)
    await writer.stop()


async def test_a_failed_acknowledgement_is_counted_not_raised() -> None:
    producer, drops = StandInProducer(fail_acks=True), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    await writer.start()
    writer.write("k", {"n": 1})
    writer.write("k", {"not json": {1, 2}})  # a caller's bug: counted, never raised
    await eventually(lambda: len(drops) == 2)
    await writer.stop()
    assert len(producer.sent) == 1


@pytest.mark.parametrize("partitions", [1, 4, 7, 64])
def test_cached_partitioner_agrees_with_kafkas_default(partitions: int) -> None:
    cached, default = CachedPartitioner(limit=10), DefaultPartitioner()
    all_partitions = list(range(partitions))
    for n in range(100):  # more keys than the cache holds: it starts over
        key = f"wh_{n:04x}".encode()
        for _ in range(2):  # the second time from the cache
            assert cached(key, all_partitions, all_partitions) == default(
                key, all_partitions, all_partitions
            )


def test_cached_partitioner_spreads_keyless_records_over_available_partitions() -> None:
    cached = CachedPartitioner()
    chosen = {cached(None, [0, 1, 2, 3], [1, 2]) for _ in range(200)}
    assert chosen == {1, 2}
