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
