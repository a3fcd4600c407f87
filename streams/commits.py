"""Throttled offset commits for a consumer whose batches finish out of its
fetch loop's sight.

A commit per batch was as many broker requests as fetches, so finished
offsets wait here and go out at most every ``every`` seconds, when the topic
goes quiet and when partitions are given up. A crash replays at most that
much, which the receivers absorb (stable ids, at-least-once).

One policy for every caller: only partitions still assigned are committed
(another member owns the rest now and commits its own progress), and a failed
commit keeps its offsets for the next one, unless a newer offset for the same
partition arrived meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)


class ThrottledCommits:
    def __init__(
        self,
        consumer: Any,
        *,
        every: float,
        name: str,
        on_committed: Callable[[TopicPartition, int], None] | None = None,
    ) -> None:
        self._consumer = consumer
        self._every = every
        self._name = name
        self._on_committed = on_committed
        self._finished: dict[TopicPartition, int] = {}
        self._last = time.monotonic()

    def __bool__(self) -> bool:
        return bool(self._finished)

    def finished(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Record the next offset to read of each partition whose records are done."""
        self._finished.update(offsets)

    def due(self) -> bool:
        return bool(self._finished) and time.monotonic() - self._last >= self._every

    def forget(self) -> None:
        """Drop what is not committed yet (the loop reads it again)."""
        self._finished.clear()

    async def commit(self) -> None:
        assigned = self._consumer.assignment()
        offsets = {tp: n for tp, n in self._finished.items() if tp in assigned}
        self._finished.clear()
        self._last = time.monotonic()
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:
            log.warning("%s commit failed (the next one covers it): %r", self._name, exc)
            for tp, offset in offsets.items():
                self._finished.setdefault(tp, offset)
            return
        if self._on_committed is not None:
            for tp, offset in offsets.items():
                self._on_committed(tp, offset)
