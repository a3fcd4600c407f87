from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from hookstream.delivery.retry_policy import decide, parse_retry_after, tier_hold
from hookstream.delivery.retry_schedule import tier_labels
from hookstream.delivery.sender import AttemptResult

SCHEDULE = (5.0, 60.0, 300.0)
NOW = 1_000_000.0


def failed(status: int | None = 500, **headers: str) -> AttemptResult:
    outcome = "http_error" if status else "timeout"
    return AttemptResult(outcome, 0.1, status=status, headers=headers)


def test_tiers_are_distinct_delays_shortest_first() -> None:
    assert tier_labels((60.0, 5.0, 60.0, 86400.0)) == ["5s", "1m", "1d"]


def test_each_attempt_uses_its_slot_with_jitter() -> None:
    rng = random.Random(1)
    for attempt, delay, tier in [(1, 5.0, "5s"), (2, 60.0, "1m"), (3, 300.0, "5m")]:
        decision = decide(attempt=attempt, result=failed(), schedule=SCHEDULE, now=NOW, rng=rng)
        assert decision.action == "retry" and decision.tier == tier
        assert delay * 0.8 <= decision.not_before - NOW <= delay * 1.2


def test_after_the_last_slot_the_delivery_is_dead_lettered() -> None:
    decision = decide(
        attempt=4, result=failed(None), schedule=SCHEDULE, now=NOW, rng=random.Random()
    )
    assert decision.action == "dead_letter"
    assert "4 attempts" in decision.reason and "timeout" in decision.reason


def test_gone_disables() -> None:
    decision = decide(
        attempt=1, result=failed(410), schedule=SCHEDULE, now=NOW, rng=random.Random()
    )
    assert decision.action == "disable" and "410" in decision.reason


def test_retry_after_is_honoured_in_a_tier_long_enough() -> None:
    decision = decide(
        attempt=1,
        result=failed(429, **{"Retry-After": "90"}),
        schedule=SCHEDULE,
        now=NOW,
        rng=random.Random(),
    )
    assert decision.not_before == NOW + 90
    assert decision.tier == "5m"


def test_retry_after_shorter_than_the_schedule_does_not_shorten_it() -> None:
    decision = decide(
        attempt=2,
        result=failed(503, **{"retry-after": "1"}),
        schedule=SCHEDULE,
        now=NOW,
        rng=random.Random(3),
    )
    assert decision.not_before - NOW >= 48 and decision.tier == "1m"


def test_retry_after_ignored_for_other_statuses() -> None:
    decision = decide(
        attempt=1,
        result=failed(500, **{"Retry-After": "999"}),
        schedule=SCHEDULE,
        now=NOW,
        rng=random.Random(),
    )
    assert decision.not_before - NOW <= 6


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == 120
    moment = datetime.fromtimestamp(NOW + 30, tz=UTC)
    assert parse_retry_after(format_datetime(moment, usegmt=True), NOW) == 30
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("99999999", NOW) == 86400


@given(st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_a_scheduled_retry_holds_its_tier_until_it_is_due(attempt: int, seed: int) -> None:
    schedule = (1.0, 5.0, 60.0, 300.0, 1800.0, 7200.0, 28800.0, 86400.0)
    decision = decide(
        attempt=attempt, result=failed(), schedule=schedule, now=NOW, rng=random.Random(seed)
    )
    assert decision.tier is not None
    tier = schedule[attempt - 1]
    assert tier_hold(decision.not_before, NOW, tier) == decision.not_before


def test_a_long_retry_after_holds_the_longest_tier_no_longer_than_its_own_records() -> None:
    """Asked to wait an hour, with 5 minutes the longest tier: the record holds
    that tier's partition (every webhook's retries) at most 6 minutes at a time."""
    decision = decide(
        attempt=1,
        result=failed(503, **{"Retry-After": "3600"}),
        schedule=SCHEDULE,
        now=NOW,
        rng=random.Random(),
    )
    assert decision.tier == "5m" and decision.not_before == NOW + 3600
    assert tier_hold(decision.not_before, NOW, 300.0) == NOW + 360
    # Written again once released, it holds again from then, until it is due.
    assert tier_hold(decision.not_before, NOW + 3500, 300.0) == NOW + 3600
    assert tier_hold(decision.not_before, None, 300.0) == NOW + 3600  # no timestamp: as asked
    # Due within a second of the tier's longest delay: it waits there, not round again.
    assert tier_hold(NOW + 360.5, NOW, 300.0) == NOW + 360.5
