"""Timestamps on the wire: timezone-aware UTC, ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The "now" stamp is taken for every delivery attempt and every inbound
# webhook, and every event without a timestamp gets its broker time: the
# whole-second part is formatted once per second seen, not each time.
_second = -1
_second_text = ""


def _second_iso(second: int) -> str:
    global _second, _second_text  # noqa: PLW0603 - a one-entry cache
    if second != _second:
        _second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = second
    return _second_text


def utc_now_iso() -> str:
    now = time.time()
    second = int(now)
    return f"{_second_iso(second)}.{int((now - second) * 1000):03d}Z"


def iso_from_millis(millis: int) -> str:
    second, milli = divmod(millis, 1000)
    return f"{_second_iso(second)}.{milli:03d}Z"
