"""Concurrent processing of one topic-partition without losing at-least-once.

A lane runs up to ``concurrency`` records of its partition at once, keeps
records with the same key in order (per-entity ordering), and reports the
highest offset that is safe to commit: everything below it is done. A slow
record holds back only its own partition's commits and, once the lane's
backlog is full, its own partition's fetching (the dispatcher pauses it);
every other partition keeps flowing.

Records wait in one queue per key; a key whose next record may start is
"ready". Up to ``concurrency`` worker tasks take ready keys and run their
next record. Workers live while there is work and end when the lane is idle,
so a busy lane pays for a task per worker, not one task, future and callback
per record, and an idle lane (most of a thousand webhooks) costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

RETRY_HANDLER_AFTER = 1.0


class OffsetTracker:
    """Which offsets of one partition are in flight; pure bookkeeping."""

    def __init__(self) -> None:
        self._pending: set[int] = set()
        self._next: int | None = None  # one past the highest offset seen

    def add(self, offset: int) -> None:
        self._pending.add(offset)
        if self._next is None or offset >= self._next:
            self._next = offset + 1

    def done(self, offset: int) -> None:
        self._pending.discard(offset)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def committable(self) -> int | None:
        """Offset to commit (the next one to read after a restart), or None."""
        if self._pending:
            return min(self._pending)
        return self._next


Handler = Callable[[Any], Awaitable[None]]


class PartitionLane:
    """``on_low`` is called each time a finished record brings the backlog
    down to ``low_water``: the dispatcher resumes a paused partition there and
    then, rather than at its next fetch round (which, with every partition
    paused, waits out its whole poll timeout while the lanes run dry)."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        concurrency: int,
        *,
        low_water: int = 0,
        on_low: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.tracker = OffsetTracker()
        self._handler = handler
        self._concurrency = max(1, concurrency)
        self._low_water = low_water
        self._on_low = on_low
        # Per key: records not yet finished, oldest first; the head may be running.
        self._queues: dict[bytes | None, deque[Any]] = {}
        self._ready: deque[bytes | None] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def backlog(self) -> int:
        return self.tracker.in_flight

    @property
    def running(self) -> int:
        """Records being handled right now (one per worker task)."""
        return len(self._workers)

    @property
    def concurrency(self) -> int:
        return self._concurrency

    @concurrency.setter
    def concurrency(self, value: int) -> None:
        """Raised or lowered while running: more workers start at once; when
        lowered, workers beyond the new limit end after their current record."""
        self._concurrency = max(1, value)
        self._spawn_workers()

    def submit(self, record: Any) -> None:
        self.tracker.add(record.offset)
        queue = self._queues.get(record.key)
        if queue is not None:
            queue.append(record)  # runs after the key's earlier records
            return
        self._queues[record.key] = deque((record,))
        self._ready.append(record.key)
        self._spawn_workers()

    def _spawn_workers(self) -> None:
        while not self._closing and len(self._workers) < min(self._concurrency, len(self._ready)):
            task = asyncio.create_task(self._work(), name=f"lane:{self.name}")
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        while self._ready and not self._closing:
            if len(self._workers) > self._concurrency:
                # Concurrency was lowered: leave now (and say so at once, so
                # exactly the surplus workers leave).
                self._workers.discard(asyncio.current_task())
                return
            key = self._ready.popleft()
            queue = self._queues[key]
            record = queue[0]
            await self._handle_until_done(record)
            self.tracker.done(record.offset)
            if self._on_low is not None and self.tracker.in_flight == self._low_water:
                self._on_low()
            queue.popleft()
            if queue:
                self._ready.append(key)
                self._spawn_workers()
            else:
                del self._queues[key]

    async def _handle_until_done(self, record: Any) -> None:
        # A handler deals with delivery failures itself (retry topics); what
        # reaches here is infrastructure trouble, e.g. Kafka unavailable while
        # scheduling a retry. Try again rather than skip: nothing is dropped.
        while True:
            try:
                await self._handler(record)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._closing:
                    raise
                log.exception(
                    "lane=%s offset=%s handler failed; retrying", self.name, record.offset
                )
                await asyncio.sleep(RETRY_HANDLER_AFTER)

    async def close(self, grace: float) -> None:
        """Let in-flight records finish for up to ``grace`` seconds, then cancel
        the rest; they stay uncommitted and are processed again later."""
        self._closing = True
        if not self._workers:
            return
        _, pending = await asyncio.wait(set(self._workers), timeout=grace)
        for task in pending:
            task.cancel()
        results = await asyncio.gather(*pending, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("lane=%s closed with a failing record: %r", self.name, result)
