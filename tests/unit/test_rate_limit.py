"""rateLimit: never more than N starts in any window of S seconds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hookstream.delivery.rate_limit import RateLimiter, RateLimits, SlidingWindow
from schemas.webhooks import RateLimit
from tests.unit.factories import make_webhook


def test_n_start_at_once_then_one_window_after_each() -> None:
    window = SlidingWindow(3, 1.0)
    assert [window.reserve(10.0) for _ in range(7)] == [10, 10, 10, 11, 11, 11, 12]
    assert window.reserve(20.0) == 20.0  # long quiet: at once again


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
        start = window.reserve(now)
        assert start >= now
        starts.append(start)
    assert starts == sorted(starts)
    for first, later in zip(starts, starts[requests:], strict=False):
        assert later - first >= per_seconds - 1e-9


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_an_attempt_over_the_limit_waits_its_turn() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RateLimit(requests=2, perSeconds=5), clock=fake.clock, sleep=fake.sleep)
    assert [await limiter.acquire() for _ in range(3)] == [0.0, 0.0, 5.0]
    assert fake.slept == [5.0]


def test_a_changed_limit_gets_a_fresh_window() -> None:
    limits = RateLimits()
    limited = make_webhook(rateLimit={"requests": 1, "perSeconds": 1})
    first = limits.of(limited)
    assert first is not None and limits.of(limited) is first
    faster = make_webhook(rateLimit={"requests": 10, "perSeconds": 1})
    assert limits.of(faster) is not first
    assert limits.of(make_webhook()) is None
