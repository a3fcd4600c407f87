"""Pages of a list API, pure: the ``limit`` query parameter and opaque
cursors. A cursor is a JSON value (where the next page starts) in URL-safe
base64, so clients treat it as a token and the listing order can change
without breaking their code."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from hookstream.errors import ValidationFailedError, invalid_field


def encode_cursor(mark: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(mark)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The mark a cursor of :func:`encode_cursor` holds; None for anything else."""
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        return None


def bad_cursor() -> ValidationFailedError:
    return invalid_field("cursor", "not a cursor this API returned")


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    """``?limit=``: absent means ``default``; anything but 1 to ``maximum`` is a 422."""
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= maximum:
        raise invalid_field("limit", f"limit must be an integer from 1 to {maximum}")
    return limit
