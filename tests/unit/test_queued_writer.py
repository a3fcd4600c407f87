"""QueuedWriter and AcknowledgedWriter (streams/queued_writer.py) and CachedPartitioner
(streams/kafka.py): pure logic against a stand-in producer."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner

from hookstream.testing.eventually import eventually
from streams import queued_writer
from streams.kafka import CachedPartitioner
from streams.queued_writer import AcknowledgedWriter, QueuedWriter
from tests.unit.factories import StandInProducer


async def test_records_go_out_in_order_with_their_keys() -> None:
    producer, drops = StandInProducer(), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    await writer.start()
    for n in range(20):
        writer.write(f"key-{n % 4}", {"n": n})
    await eventually(lambda: len(producer.sent) == 20)
    await writer.stop()
    # Each key keeps its order within its partition, the partition its
    # producer's partitioner picks.
    for key_n in range(4):
        key = f"key-{key_n}".encode()
        mine = [(p, orjson.loads(value)["n"]) for _, p, k, value in producer.sent if k == key]
        assert [n for _, n in mine] == list(range(key_n, 20, 4))
        assert {p for p, _ in mine} == {producer.partition_for("logs", key)}
    assert {topic for topic, _, _, _ in producer.sent} == {"logs"}
    assert drops == []


async def test_what_queued_meanwhile_goes_out_in_a_batch_per_partition() -> None:
    producer, drops = StandInProducer(partitions=2), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    for n in range(100):  # queued before the writer runs
        writer.write(f"k{n}", {"n": n})
    await writer.start()
    await eventually(lambda: len(producer.sent) == 100)
    await writer.stop()
    assert producer.batches_sent == 2


@pytest.mark.parametrize(("pace", "batches"), [(0.0, 11), (1.0, 2)])
async def test_a_paced_log_gathers_what_arrives_between_hand_overs(
    pace: float, batches: int
) -> None:
    producer, drops = StandInProducer(partitions=1), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1), pace=pace)  # type: ignore[arg-type]
    await writer.start()
    writer.write("k", {"n": 0})
    await eventually(lambda: len(producer.sent) == 1)  # a quiet log writes at once
    for n in range(1, 11):
        writer.write("k", {"n": n})
        # The writer runs between writes: unpaced, it takes each one alone.
        await eventually(lambda n=n: len(producer.sent) == n + 1 or pace > 0)
    await eventually(lambda: len(producer.sent) == 11, timeout=10)
    await writer.stop()
    assert producer.batches_sent == batches
    assert [orjson.loads(value)["n"] for _, _, _, value in producer.sent] == list(range(11))


async def test_a_topic_with_unknown_partitions_is_written_record_by_record() -> None:
    producer, drops = StandInProducer(unknown=frozenset({"logs"})), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    await writer.start()
    for n in range(3):
        writer.write("k", {"n": n})
    await eventually(lambda: len(producer.sent) == 3)
    await writer.stop()
    assert [partition for _, partition, _, _ in producer.sent] == [None, None, None]
    assert producer.batches_sent == 0


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


async def test_a_hand_over_that_raises_drops_those_records_and_the_writer_goes_on() -> None:
    producer, drops = StandInProducer(), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    real_send_batch = producer.send_batch

    async def broken_once(*args: object, **kwargs: object) -> object:
        producer.send_batch = real_send_batch  # type: ignore[method-assign]
        raise RuntimeError("a bug in a hand-over")

    producer.send_batch = broken_once  # type: ignore[method-assign]
    await writer.start()
    writer.write("k", {"n": 1})
    await eventually(lambda: drops == [1])
    writer.write("k", {"n": 2})
    await eventually(lambda: len(producer.sent) == 1)
    await writer.stop()
    assert orjson.loads(producer.sent[0][3]) == {"n": 2}


async def test_a_hand_over_failing_midway_drops_only_what_it_had_not_handed_over() -> None:
    producer, drops = StandInProducer(partitions=2), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]
    real_send_batch = producer.send_batch
    calls = []

    async def second_one_breaks(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a bug in a hand-over")
        return await real_send_batch(*args, **kwargs)  # type: ignore[arg-type]

    producer.send_batch = second_one_breaks  # type: ignore[method-assign]
    for key in ("k0", "k1"):  # one record per partition: two batches, one hand-over
        writer.write(key, {"key": key})
    await writer.start()
    await eventually(lambda: len(calls) == 2)
    await writer.stop()
    assert len(producer.sent) == 1
    assert drops == [1]  # the record that went out is not counted as dropped


async def test_a_batch_the_producer_refused_is_counted_as_dropped() -> None:
    producer, drops = StandInProducer(), []
    writer = QueuedWriter(producer, "logs", lambda: drops.append(1))  # type: ignore[arg-type]

    async def refused(*args: object, **kwargs: object) -> object:
        raise KafkaTimeoutError()

    producer.send_batch = refused  # type: ignore[method-assign]
    await writer.start()
    writer.write("k", {"n": 1})
    writer.write("k", {"n": 2})
    await eventually(lambda: len(drops) == 2)
    await writer.stop()


async def test_acknowledged_writes_return_once_stored_and_share_batches() -> None:
    producer = StandInProducer(partitions=2)
    writer = AcknowledgedWriter(producer, "triggers", timeout=30)  # type: ignore[arg-type]
    await writer.start()
    await asyncio.gather(*(writer.write(b"listener-%d" % (n % 2), b"%d" % n) for n in range(50)))
    await writer.stop()
    assert sorted(int(value) for _, _, _, value in producer.sent) == list(range(50))
    assert producer.batches_sent == 2  # one per partition, for all fifty requests


async def test_an_acknowledged_write_raises_what_the_broker_answered() -> None:
    writer = AcknowledgedWriter(StandInProducer(fail_acks=True), "t", timeout=30)  # type: ignore[arg-type]
    await writer.start()
    with pytest.raises(KafkaTimeoutError):
        await writer.write(b"k", b"v")
    await writer.stop()


async def test_an_acknowledged_write_without_an_answer_times_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Hand the next batch over soon after an unanswered one, not after a second.
    monkeypatch.setattr(queued_writer, "IN_FLIGHT_AT_MOST", 0.01)
    producer = StandInProducer(hang_acks=True)
    writer = AcknowledgedWriter(producer, "t", timeout=0.05)  # type: ignore[arg-type]
    await writer.start()
    results = await asyncio.gather(
        writer.write(b"k", b"1"), writer.write(b"k", b"2"), return_exceptions=True
    )
    assert [type(r) for r in results] == [TimeoutError, TimeoutError]
    producer.hang_acks = False  # the broker answers again: so does the writer
    await writer.write(b"k", b"3")
    await writer.stop()
    assert [value for _, _, _, value in producer.sent] == [b"1", b"2", b"3"]


async def test_an_acknowledged_write_to_a_topic_of_unknown_partitions_goes_alone() -> None:
    producer = StandInProducer(unknown=frozenset({"t"}))
    writer = AcknowledgedWriter(producer, "t", timeout=30)  # type: ignore[arg-type]
    await writer.start()
    await writer.write(b"k", b"v")
    await writer.stop()
    assert producer.sent == [("t", None, b"k", b"v")]
    assert producer.batches_sent == 0
