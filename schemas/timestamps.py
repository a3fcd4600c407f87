"""Timestamps on the wire: timezone-aware UTC, ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ISO 8601 without an expanded year: 0001-01-01 to 9999-12-31, in epoch ms.
MIN_MILLIS = -62_135_596_800_000
MAX_MILLIS = 253_402_300_799_999


def iso_from_millis(millis: int) -> str:
    """Raises ValueError outside the years 1 to 9999."""
    if not MIN_MILLIS <= millis <= MAX_MILLIS:
        raise ValueError(f"{millis} epoch milliseconds is outside the years 1 to 9999")
    if millis < 0:  # before 1970: rare, and strftime would not pad years below 1000
        return iso_utc(_EPOCH + timedelta(milliseconds=millis))
    second, milli = divmod(millis, 1000)
    return f"{_second_iso(second)}.{milli:03d}Z"
