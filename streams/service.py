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
from collections.abc import Callable

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


def no_restart_hook(name: str) -> None:
    """Default ``on_restart``: nothing to count."""


class SupervisedLoop:
    name = "loop"

    def __init__(self, *, on_restart: Callable[[str], None] = no_restart_hook) -> None:
        self._on_restart = on_restart
        self._task: asyncio.Task[None] | None = None
        self._healthy = False
        self.restarts = 0

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
