"""A webhook's ``rateLimit``: at most ``requests`` attempts start in any
``perSeconds`` window, retries and redeliveries included (they all pass
through the webhook's delivery lanes).

The window is exact, not a token bucket's average: an attempt starts only
when the last ``requests`` starts are all at least ``perSeconds`` old (or
fewer than ``requests`` are kept), which is the same as "never more than
``requests`` in any window of ``perSeconds``". Only the last ``requests``
starts are kept.

Nothing is booked ahead. A delivery takes a start only when the window has
room *now*; until then it waits its turn (waiters are served oldest first,
and only the oldest watches the clock). The one watching re-reads the
webhook at least every :data:`RECHECK_EVERY` seconds, so a limit raised,
lowered or removed, or a webhook disabled or deleted, applies to deliveries
already waiting within that time, instead of after slots booked hours ahead
at the old limit. A wait is neither a failure nor an attempt. The delivery
waits in its own lane; its lanes fill and only its own partitions pause, so
no other webhook slows down.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from schemas.webhooks import RateLimit, Webhook

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# The longest a waiting delivery goes without looking at its webhook again.
RECHECK_EVERY = 1.0


class SlidingWindow:
    """Pure: start times against an injected ``now``."""

    def __init__(self, requests: int, per_seconds: float) -> None:
        self.requests = requests
        self.per_seconds = per_seconds
        self._starts: deque[float] = deque(maxlen=requests)

    def free_at(self, now: float) -> float:
        """The earliest time (``now`` or later) a start fits in the window."""
        if len(self._starts) < self.requests:
            return now
        # The oldest of the last ``requests`` starts: one window after it.
        return max(now, self._starts[0] + self.per_seconds)

    def take(self, at: float) -> None:
        """Record a start at ``at`` (callers take ``free_at``'s answer or later)."""
        self._starts.append(at)

    def resize(self, requests: int, per_seconds: float) -> None:
        """A changed limit keeps the starts already made (the newest
        ``requests`` of them): lowering a limit lets no burst through."""
        self.requests = requests
        self.per_seconds = per_seconds
        self._starts = deque(self._starts, maxlen=requests)


class RateLimiter:
    """A window with a clock and a sleep (both injectable for tests) and a
    queue of waiters, served oldest first."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        recheck_every: float = RECHECK_EVERY,
    ) -> None:
        self.limit = limit
        self._window = SlidingWindow(limit.requests, limit.per_seconds)
        self._clock = clock
        self._sleep = sleep
        self._recheck_every = recheck_every
        self._turns = asyncio.Lock()  # FIFO: the oldest waiter goes first

    def change(self, limit: RateLimit) -> None:
        """Apply a new limit, to deliveries waiting now as well."""
        if limit != self.limit:
            self.limit = limit
            self._window.resize(limit.requests, limit.per_seconds)

    def free_in(self) -> float:
        """Seconds until the window has room for a start (0: now), not
        counting deliveries already waiting their turn."""
        now = self._clock()
        return self._window.free_at(now) - now

    async def acquire(
        self,
        still_limited: Callable[[], bool] = lambda: True,
        on_wait: Callable[[], None] = lambda: None,
    ) -> float | None:
        """Wait until a start fits in the window and take it; the seconds
        waited. ``still_limited`` is asked before each look at the window (at
        least every ``recheck_every`` seconds while waiting): when it answers
        False the wait ends with None and no start is taken (the webhook was
        disabled, deleted or its limit removed; the caller decides again).
        ``on_wait`` is called when this one has to wait, as the wait begins."""
        began = self._clock()
        waited = self._turns.locked()  # others are ahead: this one waits
        if waited:
            on_wait()
        async with self._turns:
            while True:
                if not still_limited():
                    return None
                now = self._clock()
                free = self._window.free_at(now)
                if free <= now:
                    self._window.take(now)
                    return now - began if waited else 0.0
                if not waited:
                    waited = True
                    on_wait()
                await self._sleep(min(free - now, self._recheck_every))


Lookup = Callable[[], Webhook | None]


class RateLimits:
    """One limiter per rate-limited webhook of this worker; a changed limit
    is applied to the webhook's limiter in place (waiters included)."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        recheck_every: float = RECHECK_EVERY,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._recheck_every = recheck_every
        self._limiters: dict[str, RateLimiter] = {}

    def of(self, webhook: Webhook) -> RateLimiter | None:
        limit = webhook.rate_limit
        if limit is None:
            self._limiters.pop(webhook.id, None)
            return None
        limiter = self._limiters.get(webhook.id)
        if limiter is None:
            limiter = self._limiters[webhook.id] = RateLimiter(
                limit, clock=self._clock, sleep=self._sleep, recheck_every=self._recheck_every
            )
        else:
            limiter.change(limit)
        return limiter

    async def wait_turn(
        self, current: Lookup, on_wait: Callable[[], None] = lambda: None
    ) -> tuple[Webhook | None, float]:
        """Wait until the webhook ``current()`` reads (its latest version)
        may start one more attempt; that webhook then (None: deleted; not
        enabled: disabled meanwhile, send nothing) and the seconds waited.
        A webhook without a limit, or disabled or deleted, does not wait.
        ``on_wait`` is called once, when the wait begins (if it does)."""
        began = self._clock()
        waited = False

        def waiting() -> None:
            nonlocal waited
            if not waited:
                waited = True
                on_wait()

        while True:
            webhook = current()
            limiter = self.of(webhook) if webhook is not None and webhook.enabled else None
            if limiter is None:
                return webhook, self._clock() - began if waited else 0.0

            def still(limiter: RateLimiter = limiter) -> bool:
                now = current()
                return now is not None and now.enabled and self.of(now) is limiter

            if await limiter.acquire(still, waiting) is not None:
                return current(), self._clock() - began if waited else 0.0
