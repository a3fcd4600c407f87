"""Fetching past records that cannot be read, one partition at a time.

aiokafka raises from ``getmany`` when a fetched batch cannot be decoded (a
codec it lacks, a bad CRC) without saying which partition it came from, and
raises again on the next call: one poisoned partition would stop a consumer
for good. :func:`fetch_isolating` then fetches partition by partition,
returns what the healthy ones hold, reports the unreadable record
(``on_unreadable``) and steps over it, so the loop goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CorruptRecordException, UnsupportedCodecError

log = logging.getLogger(__name__)

# What a fetch raises for bad *data* (retrying cannot help), as opposed to
# broker or network trouble (retrying does).
UNREADABLE: tuple[type[Exception], ...] = (
    UnsupportedCodecError,
    CorruptRecordException,
    UnicodeDecodeError,
)

Records = dict[TopicPartition, list[Any]]
OnUnreadable = Callable[[TopicPartition, int, Exception], Awaitable[None]]


async def fetch_isolating(
    consumer: AIOKafkaConsumer,
    *,
    timeout_ms: int,
    max_records: int | None,
    on_unreadable: OnUnreadable,
) -> Records:
    try:
        return await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)  # type: ignore[no-any-return]
    except UNREADABLE as exc:
        log.warning("fetch returned unreadable data (%r); isolating the partition", exc)
    found: Records = {}
    paused = consumer.paused()
    for tp in sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition)):
        if tp in paused:
            continue
        try:
            found.update(await consumer.getmany(tp, timeout_ms=0, max_records=max_records))
        except UNREADABLE as exc:
            offset = await consumer.position(tp)
            await on_unreadable(tp, offset, exc)
            consumer.seek(tp, offset + 1)
    return found
