"""A webhook's ``rateLimit``: at most ``requests`` attempts start in any
``perSeconds`` window, retries and redeliveries included (they all pass
through the webhook's delivery lanes).

The window is exact, not a token bucket's average: each attempt is given
the earliest start that keeps every ``requests + 1`` consecutive starts at
least ``perSeconds`` apart, which is the same as "never more than
``requests`` in any window of ``perSeconds``". Only the last ``requests``
starts are kept. A delivery over the limit waits in its own lane, neither a
failure nor an attempt; its lanes fill and only its own partitions pause,
so no other webhook slows down.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from schemas.webhooks import RateLimit, Webhook

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """Pure: reservations of start times against an injected ``now``."""

    def __init__(self, requests: int, per_seconds: float) -> None:
        self.requests = requests
        self.per_seconds = per_seconds
        self._starts: deque[float] = deque(maxlen=requests)

    def reserve(self, now: float) -> float:
        """The start time given to the next attempt (``now`` if it may start
        at once), recorded as taken. Reservations never go back in time, so
        the kept starts stay in order."""
        if len(self._starts) < self.requests:
            start = now
        else:
            # The oldest of the last ``requests`` starts: one window after it.
            start = max(now, self._starts[0] + self.per_seconds)
        self._starts.append(start)
        return start


class RateLimiter:
    """A window with a clock and a sleep (both injectable for tests)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self._window = SlidingWindow(limit.requests, limit.per_seconds)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self) -> float:
        """Wait for this attempt's turn; returns the seconds waited."""
        wait = self._window.reserve(self._clock()) - self._clock()
        if wait > 0:
            await self._sleep(wait)
            return wait
        return 0.0


class RateLimits:
    """One limiter per rate-limited webhook of this worker, replaced when
    the webhook's limit changes (a new limit starts with a fresh window)."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._limiters: dict[str, RateLimiter] = {}

    def of(self, webhook: Webhook) -> RateLimiter | None:
        limit = webhook.rate_limit
        if limit is None:
            self._limiters.pop(webhook.id, None)
            return None
        limiter = self._limiters.get(webhook.id)
        if limiter is None or limiter.limit != limit:
            limiter = self._limiters[webhook.id] = RateLimiter(
                limit, clock=self._clock, sleep=self._sleep
            )
        return limiter
