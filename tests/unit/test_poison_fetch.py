"""fetch_isolating: a partition whose data cannot be decoded is reported and
stepped over; the other partitions' records are still returned."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import UnsupportedCodecError

from streams.poison import fetch_isolating

GOOD = TopicPartition("events.a", 0)
BAD = TopicPartition("events.a", 1)
PAUSED = TopicPartition("events.a", 2)


class FakeConsumer:
    """What fetch_isolating uses of AIOKafkaConsumer: a bad batch at BAD's
    offset 7 raises from every fetch that includes BAD."""

    def __init__(self) -> None:
        self.positions = {GOOD: 0, BAD: 7, PAUSED: 0}
        self.seeks: list[tuple[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def paused(self) -> set[TopicPartition]:
        return {PAUSED}

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        wanted = set(partitions) or (self.assignment() - self.paused())
        if BAD in wanted and self.positions[BAD] == 7:
            raise UnsupportedCodecError("snappy")
        return {GOOD: ["record"]} if GOOD in wanted else {}

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.positions[tp] = offset


async def test_a_poisoned_partition_is_reported_skipped_and_the_rest_returned() -> None:
    consumer = FakeConsumer()
    reported: list[tuple[TopicPartition, int, str]] = []

    async def on_unreadable(tp: TopicPartition, offset: int, exc: Exception) -> None:
        reported.append((tp, offset, type(exc).__name__))

    found = await fetch_isolating(
        consumer,  # type: ignore[arg-type]
        timeout_ms=10,
        max_records=None,
        on_unreadable=on_unreadable,
    )
    assert found == {GOOD: ["record"]}
    assert reported == [(BAD, 7, "UnsupportedCodecError")]
    assert consumer.seeks == [(BAD, 8)]
    # The next fetch is an ordinary one again.
    again = await fetch_isolating(
        consumer,  # type: ignore[arg-type]
        timeout_ms=10,
        max_records=None,
        on_unreadable=on_unreadable,
    )
    assert again == {GOOD: ["record"]}
    assert len(reported) == 1
