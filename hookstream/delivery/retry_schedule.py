"""Parsing and applying ``HOOKSTREAM_RETRY_SCHEDULE`` (pure functions)."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(text: str) -> float:
    """``"5s"`` → 5.0, ``"2h"`` → 7200.0."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 5s, 1m, 2h, 1d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"5s,1m"`` → (5.0, 60.0). An empty schedule means no retries."""
    parts = [part for part in text.split(",") if part.strip()]
    return tuple(parse_duration(part) for part in parts)


def format_duration(seconds: float) -> str:
    """The inverse of :func:`parse_duration` for the largest whole unit."""
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


def tier_labels(schedule: tuple[float, ...]) -> list[str]:
    """One delay-tier topic per distinct delay in the schedule, shortest first."""
    return [format_duration(delay) for delay in sorted(set(schedule))]
