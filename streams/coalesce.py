"""One refresh for many callers at once (pure asyncio).

A caller needs a refresh that *starts after* it asked (a catch-up proves
only what was acknowledged before it began). Callers that arrive while one
runs share the next, which starts when that one ends: however many ask, at
most one runs and one waits, so a flood of requests costs the broker one
request per round trip instead of one each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Coalesced:
    def __init__(self, refresh: Callable[[], Awaitable[bool]]) -> None:
        self._refresh = refresh
        self._running = asyncio.Lock()
        self._next: asyncio.Future[bool] | None = None  # not started yet: joinable

    async def __call__(self, timeout: float) -> bool:
        """The result of a refresh that started after this call; False if
        none finished within ``timeout``."""
        if self._next is None:
            self._next = asyncio.ensure_future(self._run())
        try:
            return await asyncio.wait_for(asyncio.shield(self._next), timeout)
        except TimeoutError:
            return False

    async def _run(self) -> bool:
        async with self._running:
            self._next = None  # from here on, new callers need the one after
            return await self._refresh()
