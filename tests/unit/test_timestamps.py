"""The cached "now" stamp is the same text the datetime formatting gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import timestamps
from schemas.timestamps import iso_utc, utc_now_iso


@pytest.mark.parametrize("now", [0.0, 1_763_892_000.0, 1_763_892_000.999, 1_763_892_001.0005])
def test_now_stamp_matches_iso_utc(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    monkeypatch.setattr(timestamps.time, "time", lambda: now)
    expected = iso_utc(datetime.fromtimestamp(now, tz=UTC))
    assert utc_now_iso() == expected


def test_each_second_is_formatted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([1_763_892_000.25, 1_763_892_001.5])
    monkeypatch.setattr(timestamps.time, "time", lambda: next(clock))
    assert utc_now_iso() == "2025-11-23T10:00:00.250Z"
    assert utc_now_iso() == "2025-11-23T10:00:01.500Z"
