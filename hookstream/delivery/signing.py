"""Signatures on outbound requests (pure functions)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from schemas.whsec import INVALID_WHSEC, whsec_key


def etl_signature(secret: str, body: bytes) -> str:
    """``X-Etl-Webhook-Signature``: lowercase hex HMAC-SHA1 of the exact body bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` value per the Standard Webhooks spec: ``v1,<base64>``
    of HMAC-SHA256 over ``{id}.{timestamp}.{body}`` keyed with the decoded secret."""
    key = whsec_key(secret)
    if key is None:
        raise ValueError(INVALID_WHSEC)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def basic_auth_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"
