"""The cached "now" stamp is the same text the datetime formatting gives."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import timestamps
from schemas.timestamps import MAX_MILLIS, MIN_MILLIS, iso_from_millis, iso_utc, utc_now_iso


def clock(now: object) -> SimpleNamespace:
    """timestamps' own view of the time module, with a fixed ``time()``
    (the real module stays untouched for everything else)."""
    return SimpleNamespace(time=now, gmtime=time.gmtime, strftime=time.strftime)


@pytest.mark.parametrize("now", [0.0, 1_763_892_000.0, 1_763_892_000.999, 1_763_892_001.0005])
def test_now_stamp_matches_iso_utc(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    monkeypatch.setattr(timestamps, "time", clock(lambda: now))
    expected = iso_utc(datetime.fromtimestamp(now, tz=UTC))
    assert utc_now_iso() == expected


def test_each_second_is_formatted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    moments = iter([1_763_892_000.25, 1_763_892_001.5])
    monkeypatch.setattr(timestamps, "time", clock(lambda: next(moments)))
    assert utc_now_iso() == "2025-11-23T10:00:00.250Z"
    assert utc_now_iso() == "2025-11-23T10:00:01.500Z"


@pytest.mark.parametrize(
    "millis",
    [0, 999, 1000, 1_763_892_000_000, 1_763_892_000_999, 1_763_892_001_005, 4_102_444_800_000],
)
def test_broker_millis_stamp_matches_iso_utc(millis: int) -> None:
    expected = iso_utc(datetime.fromtimestamp(millis / 1000, tz=UTC))
    assert iso_from_millis(millis) == expected
    assert iso_from_millis(millis) == expected  # the second time from the cache


@given(st.integers(min_value=MIN_MILLIS, max_value=MAX_MILLIS))  # years 1 to 9999
def test_any_broker_millis_stamp_is_exact(millis: int) -> None:
    # Exact integer arithmetic (a float of the seconds rounds a millisecond
    # away far from 1970, as the datetime path used to).
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    assert iso_from_millis(millis) == iso_utc(moment)


@pytest.mark.parametrize("millis", [MIN_MILLIS - 1, MAX_MILLIS + 1, 10**17, -(10**17)])
def test_millis_outside_the_calendar_are_refused(millis: int) -> None:
    with pytest.raises(ValueError, match="years 1 to 9999"):
        iso_from_millis(millis)
