"""Standard Webhooks secrets: ``whsec_`` followed by the base64 of the key
(https://www.standardwebhooks.com). One home for the form, so a secret that
would fail at signing time is refused when it is stored."""

from __future__ import annotations

import base64
import binascii

WHSEC_PREFIX = "whsec_"


def whsec_key(secret: str) -> bytes | None:
    """The key a ``whsec_`` secret stands for; None when it is not one
    (no prefix, not base64, or empty)."""
    if not secret.startswith(WHSEC_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(WHSEC_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII text
        return None
    return key or None


INVALID_WHSEC = "standard-webhooks secrets look like whsec_<base64 of the key>"


def acceptable_whsec(secret: str, *, stored: bool) -> bool:
    """Written now, a secret must stand for a key; read back (``stored``), the
    rule it was written under holds: the prefix alone (signing then fails
    visibly for that webhook or listener instead of it disappearing)."""
    return secret.startswith(WHSEC_PREFIX) if stored else whsec_key(secret) is not None
