"""The cached "now" stamp is the same text the datetime formatting gives."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from schemas import timestamps
from schemas.timestamps import iso_utc, utc_now_iso


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
