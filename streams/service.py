"""One supervision rule for every long-running loop (routing, delivery,
retry tiers, membership, table views).

A :class:`SupervisedLoop` runs ``run()`` in a task. If ``run()`` raises, the
failure is logged with its traceback, ``on_restart(name)`` is called (the
worker counts ``hookstream_agent_restarts_total{agent}``), the loop is
reported unhealthy, and ``run()`` starts again after an exponential backoff.
Nothing is lost by a restart: every loop here commits offsets only for work
that is done, so a restarted loop resumes from its last commit. Start, stop
and restart therefore live in one place instead of one copy per agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
# A loop that beats (calls progressed() on every round) and has not for this
# long is stuck somewhere: reported with where it waits, and not ready.
STALL_AFTER = 30.0
STALL_CHECK_EVERY = 5.0


def no_restart_hook(name: str) -> None:
    """Default ``on_restart``: nothing to count."""


class SupervisedLoop:
    name = "loop"
    # True for loops whose every round calls progressed() (fetch loops: a
    # round takes at most a poll timeout, data or not).
    beats = False

    def __init__(self, *, on_restart: Callable[[str], None] = no_restart_hook) -> None:
        self._on_restart = on_restart
        self._task: asyncio.Task[None] | None = None
        self._healthy = False
        self._last_progress = time.monotonic()
        self.restarts = 0

    def progressed(self) -> None:
        """One more round done (see ``beats``)."""
        self._last_progress = time.monotonic()

    def stalled_for(self, now: float) -> float:
        """Seconds since the last round of a beating loop that should be
        running (0 for loops that do not beat or are not running)."""
        if not self.beats or not self.running:
            return 0.0
        return max(0.0, now - self._last_progress)

    def waiting_in(self) -> list[str]:
        """Where the loop's task waits now, outermost first (``file:line in function``)."""
        return await_chain(self._task) if self._task is not None else []

    async def setup(self) -> None:
        """Open what ``run`` needs (clients, subscriptions); runs once, in ``start``."""

    async def run(self) -> None:
        """The loop itself; returns only when there is nothing left to do."""
        raise NotImplementedError

    async def recover(self) -> None:
        """Called before ``run`` is started again after a failure."""

    async def teardown(self) -> None:
        """Close what ``setup`` opened; runs once, in ``stop``."""

    async def start(self) -> None:
        await self.setup()
        self._healthy = True
        self._task = asyncio.create_task(self._supervise(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.teardown()

    @property
    def running(self) -> bool:
        """Started, not stopped, and not waiting to restart after a failure."""
        return self._task is not None and not self._task.done() and self._healthy

    async def _supervise(self) -> None:
        backoff = FIRST_BACKOFF
        while True:
            started = time.monotonic()
            self.progressed()
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._healthy = False
                self.restarts += 1
                self._on_restart(self.name)
                if time.monotonic() - started > 2 * MAX_BACKOFF:
                    backoff = FIRST_BACKOFF  # it ran well for a while: a fresh failure
                log.exception("agent=%s failed; restarting in %.1fs", self.name, backoff)
            else:
                log.info("agent=%s finished", self.name)
                return
            # Recover (e.g. seek back to the last commit) before running again;
            # a recovery that fails is tried again after a longer wait.
            while True:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                try:
                    await self.recover()
                    break
                except Exception:
                    log.exception("agent=%s could not recover; trying again", self.name)
            self._healthy = True


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """The coroutines a task is suspended in, outermost first. (``Task.get_stack``
    gives only the outermost frame of a suspended task.)"""
    found: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(found) < 50:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            found.append(f"awaiting {awaited!r}"[:200])
            break
        found.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return found


class StallWatch:
    """Reports beating loops that stopped making progress: a log line with
    where each waits (once per stall, and when it moves again), and
    :meth:`stalled` for readiness. A stall is a bug (every wait in these loops
    has a timeout); this makes one visible instead of silent."""

    def __init__(
        self,
        loops: Callable[[], Iterable[SupervisedLoop]],
        *,
        after: float = STALL_AFTER,
        every: float = STALL_CHECK_EVERY,
    ) -> None:
        self._loops = loops
        self._after = after
        self._every = every
        self._reported: set[str] = set()

    def stalled(self) -> list[SupervisedLoop]:
        now = time.monotonic()
        return [
            loop for loop in self._loops() if loop.beats and loop.stalled_for(now) >= self._after
        ]

    def check(self) -> None:
        stalled = {loop.name: loop for loop in self.stalled()}
        for name, loop in stalled.items():
            if name not in self._reported:
                log.error(
                    "agent=%s made no progress for %.0fs; it waits in:\n  %s",
                    name,
                    loop.stalled_for(time.monotonic()),
                    "\n  ".join(loop.waiting_in()),
                )
        for name in self._reported - set(stalled):
            log.warning("agent=%s is making progress again", name)
        self._reported = set(stalled)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            self.check()
