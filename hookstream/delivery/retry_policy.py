"""What happens after a failed attempt (pure: no I/O, clock and randomness
passed in)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from hookstream.delivery.retry_schedule import format_duration
from hookstream.delivery.sender import AttemptResult
from hookstream.headers import RETRY_AFTER

JITTER = 0.2  # ±20 %, so endpoints recovering from an outage are not hit in lockstep
HONOURS_RETRY_AFTER = frozenset({429, 503})
GONE = 410
MAX_RETRY_AFTER = 86_400.0


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["retry", "dead_letter", "disable"]
    reason: str
    tier: str | None = None  # retry topic label, e.g. "5m"
    not_before: float = 0.0  # epoch seconds


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(moment.timestamp() - now, 0.0), MAX_RETRY_AFTER)


def decide(
    *,
    attempt: int,
    result: AttemptResult,
    schedule: tuple[float, ...],
    now: float,
    rng: random.Random,
) -> Decision:
    """``attempt`` is the number of the attempt that just failed (1-based)."""
    reason = f"{result.outcome}" + (f" (HTTP {result.status})" if result.status else "")
    if result.status == GONE:
        return Decision("disable", "endpoint answered 410 Gone")
    if attempt > len(schedule):
        return Decision("dead_letter", f"gave up after {attempt} attempts; last: {reason}")
    delay = schedule[attempt - 1] * rng.uniform(1 - JITTER, 1 + JITTER)
    tier_delay = schedule[attempt - 1]
    if result.status in HONOURS_RETRY_AFTER:
        asked = parse_retry_after(_header(result, RETRY_AFTER), now)
        if asked is not None and asked > delay:
            # Wait at least as long as asked, in the first tier long enough
            # (tiers are FIFO, so a record never waits behind a longer one).
            delay = asked
            longer = [d for d in sorted(set(schedule)) if d >= asked]
            tier_delay = longer[0] if longer else max(schedule)
    return Decision("retry", reason, tier=format_duration(tier_delay), not_before=now + delay)


# A record due this close after its tier's longest delay waits for it there
# rather than going round again (timestamps are in milliseconds; going round
# puts it behind the whole tier).
TIER_SLACK = 1.0


def tier_hold(not_before: float, written_at: float | None, tier_seconds: float) -> float:
    """Until when a record may hold its tier partition (epoch seconds): its
    ``notBefore``, but no longer than its tier's longest jittered delay after
    it was written. A tier partition waits at its first record that is not
    due, and every record behind it is due within that; a ``Retry-After``
    longer than the longest tier would otherwise hold all of them (every
    webhook's) that long. Released early, the record goes round its tier again."""
    if written_at is None:
        return not_before
    longest = written_at + tier_seconds * (1 + JITTER)
    return not_before if not_before <= longest + TIER_SLACK else longest


def _header(result: AttemptResult, name: str) -> str | None:
    lowered = name.lower()
    for key, value in result.headers.items():
        if key.lower() == lowered:
            return value
    return None
