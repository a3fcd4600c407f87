"""The value written to ``hookstream.invalid-events``: input hookstream could
not use, with the reason, where it came from and (cut) what it was."""

from __future__ import annotations

import orjson

MAX_INVALID_VALUE = 64 * 1024


def invalid_record(
    *,
    reason: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None = None,
    value: bytes | None = None,
    timestamp: int | None = None,
) -> bytes:
    raw = value or b""
    return orjson.dumps(
        {
            "reason": reason,
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "key": key.decode("utf-8", "replace") if key else None,
            "value": raw[:MAX_INVALID_VALUE].decode("utf-8", "replace"),
            "truncated": len(raw) > MAX_INVALID_VALUE,
            "timestamp": timestamp,
        }
    )


def unreadable_record(topic: str, partition: int, offset: int, exc: Exception) -> bytes:
    """The invalid-events value for a record that could not even be decoded
    (streams/poison.py steps over it): where it was and why, no value."""
    return invalid_record(
        reason=f"unreadable record: {exc!r}", topic=topic, partition=partition, offset=offset
    )
