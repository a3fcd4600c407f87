"""Timestamps on the wire: timezone-aware UTC, ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The "now" stamp is taken for every delivery attempt and every inbound
# webhook: its whole-second part is formatted once a second, not each time.
_second = -1
_second_text = ""


def utc_now_iso() -> str:
    global _second, _second_text  # noqa: PLW0603 - a one-entry cache
    now = time.time()
    second = int(now)
    if second != _second:
        _second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = second
    return f"{_second_text}.{int((now - second) * 1000):03d}Z"


def iso_from_millis(millis: int) -> str:
    return iso_utc(datetime.fromtimestamp(millis / 1000, tz=UTC))
