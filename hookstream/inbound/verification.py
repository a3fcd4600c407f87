"""Verifying inbound webhooks (pure: headers, raw body and clock in; a
reason out). Every comparison of a secret is constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from hookstream.headers import AUTHORIZATION
from hookstream.json_paths import get_path
from schemas.listeners import Verification
from schemas.whsec import whsec_key


class VerificationError(Exception):
    """Why a request failed verification (never includes secret material)."""


def _header(headers: Mapping[str, str], name: str | None) -> str:
    if not name:
        return ""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def _raw(text: str) -> bytes:
    """Header text back to its bytes. aiohttp decodes header bytes as UTF-8 with
    surrogateescape, so any byte can arrive; a plain ``encode()`` would raise."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _equal(a: str | bytes, b: str | bytes) -> bool:
    left = _raw(a) if isinstance(a, str) else a
    right = _raw(b) if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def _digest(algorithm: str, key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha1 if algorithm == "sha1" else hashlib.sha256).digest()


def verify_basic(rule: Verification, headers: Mapping[str, str]) -> None:
    scheme, _, encoded = _header(headers, AUTHORIZATION).partition(" ")
    if scheme.lower() != "basic":
        raise VerificationError("missing basic credentials")
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):  # binascii.Error, or non-ASCII text
        raise VerificationError("malformed basic credentials") from None
    ok_user = _equal(username, rule.username or "")
    ok_pass = _equal(password, rule.password or "")
    if not (ok_user and ok_pass):
        raise VerificationError("wrong username or password")


def verify_hmac(rule: Verification, headers: Mapping[str, str], body: bytes) -> None:
    presented = _header(headers, rule.header).strip()
    if not presented:
        raise VerificationError(f"missing {rule.header} header")
    # Accept GitHub-style "sha256=<sig>" prefixes (a base64 signature has "="
    # only as padding at its end, so it never looks like one).
    prefix, sep, rest = presented.partition("=")
    if sep and prefix.lower() in ("sha1", "sha256"):
        presented = rest
    digest = _digest(rule.algorithm, (rule.secret or "").encode(), body)
    expected = digest.hex() if rule.encoding == "hex" else base64.b64encode(digest).decode()
    candidate = presented.lower() if rule.encoding == "hex" else presented
    if not _equal(candidate, expected):
        raise VerificationError("signature does not match")


def _check_fresh(timestamp: str, now: float, tolerance: int) -> None:
    try:
        age = abs(now - int(timestamp))
    except (ValueError, OverflowError):  # OverflowError: more digits than a float holds
        raise VerificationError("malformed timestamp") from None
    if age > tolerance:
        raise VerificationError(f"timestamp outside the {tolerance}s tolerance (replay?)")


def verify_stripe(rule: Verification, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """``Stripe-Signature: t=<ts>,v1=<hex>[,v1=…]`` over ``<ts>.<body>``."""
    parts = [item.split("=", 1) for item in _header(headers, rule.header).split(",") if "=" in item]
    timestamp = next((v for k, v in parts if k.strip() == "t"), "")
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if not timestamp or not signatures:
        raise VerificationError(f"missing or malformed {rule.header} header")
    _check_fresh(timestamp, now, rule.tolerance_seconds)
    expected = _digest(
        "sha256", (rule.secret or "").encode(), timestamp.encode() + b"." + body
    ).hex()
    if not any(_equal(sig, expected) for sig in signatures):
        raise VerificationError("signature does not match")


def verify_slack(rule: Verification, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """``X-Slack-Signature: v0=<hex>`` over ``v0:<X-Slack-Request-Timestamp>:<body>``."""
    timestamp = _header(headers, "X-Slack-Request-Timestamp")
    presented = _header(headers, rule.header or "X-Slack-Signature")
    if not timestamp or not presented.startswith("v0="):
        raise VerificationError("missing Slack signature or timestamp")
    _check_fresh(timestamp, now, rule.tolerance_seconds)
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + _digest("sha256", (rule.secret or "").encode(), base).hex()
    if not _equal(presented, expected):
        raise VerificationError("signature does not match")


def verify_standard_webhooks(
    rule: Verification, headers: Mapping[str, str], body: bytes, now: float
) -> None:
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature").split()
    if not (msg_id and timestamp and signatures):
        raise VerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    _check_fresh(timestamp, now, rule.tolerance_seconds)
    key = whsec_key(rule.secret or "")
    if key is None:  # stored before secrets were checked on write
        raise VerificationError("listener secret is not valid base64")
    signed = _raw(f"{msg_id}.{timestamp}.") + body
    expected = base64.b64encode(_digest("sha256", key, signed)).decode()
    if not any(
        version == "v1" and _equal(sig, expected)
        for version, _, sig in (item.partition(",") for item in signatures)
    ):
        raise VerificationError("signature does not match")


def verify_token_in_body(rule: Verification, payload: Any) -> None:
    presented = get_path(payload, rule.path or "")
    if not isinstance(presented, str) or not _equal(presented, rule.token or "\x00"):
        raise VerificationError(f"missing or wrong token at {rule.path}")


def verify_url_token(rule: Verification, url_token: str | None) -> None:
    if not url_token or not rule.token or not _equal(url_token, rule.token):
        raise VerificationError("missing or wrong URL token")


def verify_signed(
    rule: Verification, headers: Mapping[str, str], body: bytes, url_token: str | None, now: float
) -> None:
    """Every check that needs only the raw request (``token`` needs the parsed
    body: :func:`verify_token_in_body`)."""
    if rule.type == "basic":
        verify_basic(rule, headers)
    elif rule.type == "hmac":
        verify_hmac(rule, headers, body)
    elif rule.type == "secret_url":
        verify_url_token(rule, url_token)
    elif rule.type == "stripe":
        verify_stripe(rule, headers, body, now)
    elif rule.type == "slack":
        verify_slack(rule, headers, body, now)
    elif rule.type == "standard-webhooks":
        verify_standard_webhooks(rule, headers, body, now)
    elif rule.type == "token" and rule.token is None:
        raise VerificationError("no token generated yet: POST /listeners/{id}/generate-url")
