"""rateLimit: never more than N starts in any window of S seconds, nothing
booked ahead, and waiting deliveries follow the webhook as it changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hookstream.delivery.rate_limit import RateLimiter, RateLimits, SlidingWindow
from schemas.webhooks import RateLimit, Webhook
from tests.unit.factories import make_webhook


def test_n_start_at_once_then_one_window_after_each() -> None:
    window = SlidingWindow(3, 1.0)
    starts = []
    for _ in range(7):
        start = window.free_at(10.0)
        window.take(start)
        starts.append(start)
    assert starts == [10, 10, 10, 11, 11, 11, 12]
    assert window.free_at(20.0) == 20.0  # long quiet: at once again


@given(
    requests=st.integers(1, 5),
    per_seconds=st.floats(0.01, 10),
    gaps=st.lists(st.floats(0, 3), min_size=1, max_size=60),
)
def test_no_window_ever_holds_more_than_the_limit(
    requests: int, per_seconds: float, gaps: list[float]
) -> None:
    window = SlidingWindow(requests, per_seconds)
    now, starts = 0.0, []
    for gap in gaps:
        now += gap
        start = window.free_at(now)
        assert start >= now
        window.take(start)
        starts.append(start)
    assert starts == sorted(starts)
    for first, later in zip(starts, starts[requests:], strict=False):
        assert later - first >= per_seconds - 1e-9


def test_a_lowered_limit_keeps_the_starts_already_made() -> None:
    window = SlidingWindow(10, 1.0)
    for _ in range(5):
        window.take(100.0)
    window.resize(1, 60.0)
    assert window.free_at(100.5) == 160.0  # no burst through the change
    window.resize(10, 1.0)
    assert window.free_at(100.5) == 100.5


class FakeTime:
    """A clock that moves only when somebody sleeps; ``at(t, action)`` runs
    ``action`` once the clock reaches ``t``."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._actions: list[tuple[float, Callable[[], None]]] = []

    def clock(self) -> float:
        return self.now

    def at(self, when: float, action: Callable[[], None]) -> None:
        self._actions.append((when, action))

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        for item in [a for a in self._actions if a[0] <= self.now]:
            self._actions.remove(item)
            item[1]()
        await asyncio.sleep(0)


async def test_an_attempt_over_the_limit_waits_its_turn_looking_every_second() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RateLimit(requests=2, perSeconds=5), clock=fake.clock, sleep=fake.sleep)
    assert limiter.free_in() == 0.0
    assert [await limiter.acquire() for _ in range(2)] == [0.0, 0.0]
    assert limiter.free_in() == 5.0
    assert await limiter.acquire() == 5.0
    assert fake.slept == [1.0] * 5


class Table:
    """The worker's webhook table, as the limiter sees it."""

    def __init__(self, **fields: Any) -> None:
        self.webhook: Webhook | None = make_webhook(id="wh_1", **fields)
        self.waits = 0  # deliveries that began to wait

    def count_wait(self) -> None:
        self.waits += 1

    def get(self) -> Webhook | None:
        return self.webhook

    def change(self, **fields: Any) -> Callable[[], None]:
        def apply() -> None:
            assert self.webhook is not None
            self.webhook = self.webhook.model_copy(update=fields)

        return apply


async def waiters(
    limits: RateLimits, table: Table, fake: FakeTime, count: int
) -> list[tuple[Webhook | None, float, float]]:
    """``count`` deliveries waiting at once: (webhook, seconds waited, clock
    when each may start), in the order they were queued."""

    async def one() -> tuple[Webhook | None, float, float]:
        webhook, waited = await limits.wait_turn(table.get, on_wait=table.count_wait)
        return webhook, waited, fake.now

    async with asyncio.timeout(10):
        return await asyncio.gather(*(one() for _ in range(count)))


HOURLY = {"rateLimit": {"requests": 1, "perSeconds": 3600}}


async def test_nothing_is_booked_ahead_so_a_raised_limit_frees_every_waiter_at_once() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table(**HOURLY)
    fake.at(110.0, table.change(rate_limit=RateLimit(requests=100, perSeconds=1)))
    done = await waiters(limits, table, fake, 5)
    # The first at once; the four behind it within a look of the change (booked
    # ahead at the old limit they would have started an hour apart).
    assert [at for _, _, at in done] == [100.0, 110.0, 110.0, 110.0, 110.0]
    assert done[0][1] == 0.0 and all(waited > 0 for _, waited, _ in done[1:])
    assert table.waits == 4  # counted as each began to wait
    assert max(fake.slept) <= 1.0


async def test_a_removed_limit_lets_every_waiter_go() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table(**HOURLY)
    fake.at(103.0, table.change(rate_limit=None))
    done = await waiters(limits, table, fake, 3)
    assert [at for _, _, at in done] == [100.0, 103.0, 103.0]
    assert all(webhook is not None and webhook.rate_limit is None for webhook, _, _ in done[1:])


async def test_a_lowered_limit_holds_deliveries_already_waiting() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table(rateLimit={"requests": 1, "perSeconds": 10})
    fake.at(101.0, table.change(rate_limit=RateLimit(requests=1, perSeconds=60)))
    done = await waiters(limits, table, fake, 3)
    assert [at for _, _, at in done] == [100.0, 160.0, 220.0]


async def test_a_disabled_webhook_ends_the_waits_and_they_take_no_start() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table(**HOURLY)
    fake.at(105.0, table.change(enabled=False))
    done = await waiters(limits, table, fake, 4)
    assert [at for _, _, at in done] == [100.0, 105.0, 105.0, 105.0]
    assert [webhook.enabled for webhook, _, _ in done if webhook is not None] == [
        True,
        False,
        False,
        False,
    ]
    # Enabled again: the next delivery has the hour after the one start made
    # (the abandoned waits booked nothing).
    table.change(enabled=True)()
    (webhook, _, at), = await waiters(limits, table, fake, 1)  # fmt: skip
    assert webhook is not None and webhook.enabled and at == 3700.0


async def test_a_deleted_webhook_ends_the_waits() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table(**HOURLY)

    def delete() -> None:
        table.webhook = None

    fake.at(102.0, delete)
    done = await waiters(limits, table, fake, 3)
    assert [(webhook is None, at) for webhook, _, at in done] == [
        (False, 100.0),
        (True, 102.0),
        (True, 102.0),
    ]


async def test_waiters_start_oldest_first() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table(rateLimit={"requests": 2, "perSeconds": 1})
    done = await waiters(limits, table, fake, 7)
    assert [at for _, _, at in done] == [100, 100, 101, 101, 102, 102, 103]


async def test_an_unlimited_webhook_never_waits() -> None:
    fake = FakeTime()
    limits = RateLimits(clock=fake.clock, sleep=fake.sleep)
    table = Table()
    done = await waiters(limits, table, fake, 50)
    assert {(waited, at) for _, waited, at in done} == {(0.0, 100.0)}
    assert fake.slept == [] and table.waits == 0


def test_a_changed_limit_is_applied_to_the_same_limiter() -> None:
    limits = RateLimits()
    limited = make_webhook(rateLimit={"requests": 1, "perSeconds": 1})
    first = limits.of(limited)
    assert first is not None and limits.of(limited) is first
    faster = make_webhook(rateLimit={"requests": 10, "perSeconds": 1})
    assert limits.of(faster) is first and first.limit.requests == 10
    assert limits.of(make_webhook()) is None
