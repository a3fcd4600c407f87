"""Timestamps on the wire: timezone-aware UTC, ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return iso_utc(datetime.now(UTC))


def iso_from_millis(millis: int) -> str:
    return iso_utc(datetime.fromtimestamp(millis / 1000, tz=UTC))
