"""Concurrent processing of one topic-partition without losing at-least-once.

A lane runs up to ``concurrency`` records of its partition at once, keeps
records with the same key in order (per-entity ordering), and reports the
highest offset that is safe to commit: everything below it is done. A slow
record holds back only its own partition's commits and, once the lane's
backlog is full, its own partition's fetching (the dispatcher pauses it);
every other partition keeps flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
    def __init__(self, name: str, handler: Handler, concurrency: int) -> None:
        self.name = name
        self.tracker = OffsetTracker()
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._tails: dict[bytes | None, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def backlog(self) -> int:
        return self.tracker.in_flight

    def submit(self, record: Any) -> None:
        self.tracker.add(record.offset)
        previous = self._tails.get(record.key)
        done = asyncio.get_running_loop().create_future()
        self._tails[record.key] = done
        task = asyncio.create_task(self._run(record, previous, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, record: Any, previous: asyncio.Future[None] | None, done: asyncio.Future[None]
    ) -> None:
        # ``done`` resolves however this record ends (even cancelled), so the
        # next record of the same key never waits forever and never sees our error.
        try:
            if previous is not None and not previous.done():
                await asyncio.shield(previous)
            async with self._slots:
                await self._handle_until_done(record)
            self.tracker.done(record.offset)
        finally:
            done.set_result(None)
            if self._tails.get(record.key) is done:
                del self._tails[record.key]

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
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
