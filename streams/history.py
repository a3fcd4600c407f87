"""Reading a stretch of topics' history: the newest records (filter
backtests) or everything from a time on (replay).

A reader is a plain consumer of the caller's own, assigned the partitions
it reads, in no group and committing nothing, so reading history never moves
a consumer group nor pauses anybody. Ends come from
:func:`streams.broker_compat.true_end_offsets` (``end_offsets`` is short on
Tansu), start times from
:func:`streams.broker_compat.offsets_for_time_lower_bound`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.broker_compat import manual_consumer_options

POLL_MS = 200
# Seconds without a record before a reader asks whether the topics it still
# has to read exist: a fetch from a deleted topic returns nothing, forever.
QUIET_CHECK = 5.0


class TopicDeletedError(KafkaError):  # type: ignore[misc]  # aiokafka is untyped
    """A topic was deleted while its history was being read (not retriable:
    what it held is gone)."""

    retriable = False


def history_consumer(bootstrap: str, *, client_id: str) -> AIOKafkaConsumer:
    """A reader's consumer (start it; it is assigned by :func:`read_between`)."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        client_id=client_id,
        **manual_consumer_options(),
    )


async def partitions_of(consumer: AIOKafkaConsumer, pattern: str) -> list[TopicPartition]:
    """Every partition of every topic whose name matches ``pattern`` (search)."""
    regex = re.compile(pattern)
    topics = sorted(topic for topic in await consumer.topics() if regex.search(topic))
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]


async def newest_starts(
    consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int], count: int
) -> dict[TopicPartition, int]:
    """Where the newest ``count`` records of each partition begin."""
    begins: dict[TopicPartition, int] = await consumer.beginning_offsets(list(ends))
    return {tp: max(begins[tp], end - count) for tp, end in ends.items()}


async def read_between(
    consumer: AIOKafkaConsumer,
    starts: dict[TopicPartition, int],
    ends: dict[TopicPartition, int],
    *,
    max_records: int = 2000,
    quiet_check: float = QUIET_CHECK,
) -> AsyncIterator[list[Any]]:
    """The records of each partition from its start up to (not including)
    its end, a fetched batch at a time, until every partition is read. A
    gap (compaction, retention) is stepped over by the fetch itself. Raises
    :class:`TopicDeletedError` when, after ``quiet_check`` seconds without a
    record, a topic still to be read no longer exists."""
    todo = {tp for tp, end in ends.items() if starts.get(tp, end) < end}
    consumer.assign(sorted(todo, key=lambda tp: (tp.topic, tp.partition)))
    for tp in todo:
        consumer.seek(tp, starts[tp])
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    while todo:
        batches = await consumer.getmany(*todo, timeout_ms=POLL_MS, max_records=max_records)
        if batches:
            quiet_since = loop.time()
        elif loop.time() - quiet_since >= quiet_check:
            await _still_there(consumer, todo)
            quiet_since = loop.time()
        out = [
            record
            for tp, records in batches.items()
            for record in records
            if record.offset < ends[tp]
        ]
        for tp in list(todo):
            if await consumer.position(tp) >= ends[tp]:
                todo.discard(tp)
        if out:
            yield out


async def _still_there(consumer: AIOKafkaConsumer, partitions: set[TopicPartition]) -> None:
    """Raise :class:`TopicDeletedError` if a topic of ``partitions`` is gone
    (fresh metadata; a broker that cannot answer raises its KafkaError)."""
    gone = sorted({tp.topic for tp in partitions} - set(await consumer.topics()))
    if gone:
        raise TopicDeletedError(f"topic {', '.join(gone)} was deleted while it was being read")
