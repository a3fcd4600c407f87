"""PartitionBatches (streams/batches.py): records grouped per partition,
handed over as batches, rebuilt for a resend."""

from __future__ import annotations

from typing import Any

from aiokafka.errors import KafkaConnectionError

from streams.batches import PartitionBatches, resend_until_acknowledged
from tests.unit.factories import StandInProducer


async def test_records_are_grouped_into_one_batch_per_partition_in_order() -> None:
    producer = StandInProducer(partitions=2)
    batches = PartitionBatches(producer)
    for n in range(10):
        assert batches.add("t", bytes([n]), f"v{n}".encode()) is not None
    assert batches.records == 10
    submitted = await batches.submit()
    assert not batches  # handed over: empty again
    assert sorted(batch.tp.partition for batch in submitted) == [0, 1]
    for batch in submitted:
        assert batch.acknowledged
        expected = [
            (bytes([n]), f"v{n}".encode()) for n in range(10) if n % 2 == batch.tp.partition
        ]
        assert batch.records == expected
    assert producer.batches_sent == 2
    assert len(producer.sent) == 10


async def test_a_full_batch_is_closed_and_the_partition_gets_another() -> None:
    producer = StandInProducer(partitions=1, batch_capacity=3)
    batches = PartitionBatches(producer)
    for n in range(7):
        assert batches.add("t", b"k", bytes([n])) is not None
    submitted = await batches.submit()
    assert [len(batch.records) for batch in submitted] == [3, 3, 1]
    # The partition's order survives the split.
    assert [value for batch in submitted for _, value in batch.records] == [
        bytes([n]) for n in range(7)
    ]


async def test_records_it_cannot_batch_are_refused_for_the_caller_to_send() -> None:
    unknown = PartitionBatches(StandInProducer(unknown=frozenset({"new"})))
    assert unknown.add("new", b"k", b"v") is None  # partitions not known yet
    assert not unknown
    too_big = PartitionBatches(StandInProducer(batch_capacity=0))
    assert too_big.add("t", b"k", b"v") is None  # larger than a whole batch
    assert await too_big.submit() == []


async def test_a_batch_is_rebuilt_from_its_records_to_be_sent_again() -> None:
    producer = StandInProducer(fail_acks=True)
    batches = PartitionBatches(producer)
    batches.add("t", b"k", b"one")
    batches.add("t", b"k", b"two")
    (batch,) = await batches.submit()
    assert batch.ack is not None
    assert not batch.acknowledged
    assert isinstance(batch.error, Exception)
    producer.fail_acks = False
    await (await batch.resend(producer))
    assert batch.acknowledged
    assert batch.error is None
    assert [value for _, _, _, value in producer.sent] == [b"one", b"two", b"one", b"two"]


async def test_a_batch_the_producer_refuses_is_left_unsent() -> None:
    class Refusing(StandInProducer):
        async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
            raise KafkaConnectionError("broker gone")

    batches = PartitionBatches(Refusing())
    batches.add("t", b"k", b"v")
    (batch,) = await batches.submit()
    assert batch.ack is None
    assert not batch.acknowledged


async def test_a_failed_batch_is_sent_again_until_acknowledged() -> None:
    producer = StandInProducer(fail_first=3)  # the first write and two resends fail
    batches = PartitionBatches(producer)
    batches.add("t", b"k", b"one")
    (batch,) = await batches.submit()
    tries = await resend_until_acknowledged(batch, producer, delays=(0.0,))
    assert tries == 3
    assert batch.acknowledged
    assert [value for _, _, _, value in producer.sent] == [b"one"] * 4


async def test_an_acknowledged_batch_is_not_sent_again() -> None:
    producer = StandInProducer()
    batches = PartitionBatches(producer)
    batches.add("t", b"k", b"one")
    (batch,) = await batches.submit()
    assert await resend_until_acknowledged(batch, producer, delays=(0.0,)) == 0
    assert len(producer.sent) == 1
