"""What the ingress decides about one request, as a pure function: status,
verification result, reason and parsed payload. The ingress (receive.py) and
the admin API's dry run (``POST /listeners/{id}/test``) both use it, so a dry
run answers exactly what the ingress would.

Also the redaction of what the inbound log keeps about a request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookstream.inbound.bodies import (
    UnparseableBodyError,
    UnsupportedContentTypeError,
    body_kind,
    parse_body,
)
from hookstream.inbound.verification import (
    VerificationError,
    verify_signed,
    verify_token_in_body,
)
from schemas.listeners import Listener
from schemas.webhooks import REDACTED_VALUE

MAX_BODY = 1024 * 1024
MAX_LOGGED_BODY = 4096
# Never copied into flow triggers; shown as [redacted] in the inbound log.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "proxy-authorization",
        "x-hub-signature",
        "x-hub-signature-256",
        "stripe-signature",
        "x-slack-signature",
        "x-shopify-hmac-sha256",
        "webhook-signature",
    }
)


@dataclass(frozen=True, slots=True)
class Examination:
    status: int  # what the ingress answers: 202, 400, 401, 413 or 415
    verified: bool | None  # None: no verification configured, or not reached
    reason: str | None = None  # why not 202; never secret material
    payload: Any = None

    @property
    def accepted(self) -> bool:
        return self.status == 202


def content_type_problem(content_type: str | None) -> Examination | None:
    """415 before reading anything."""
    try:
        body_kind(content_type)
    except UnsupportedContentTypeError as exc:
        return Examination(415, None, str(exc))
    return None


def examine(
    listener: Listener,
    headers: Mapping[str, str],
    body: bytes,
    *,
    content_type: str | None,
    url_token: str | None,
    now: float,
) -> Examination:
    if len(body) > MAX_BODY:
        return Examination(413, None, f"body larger than {MAX_BODY} bytes")
    refused = content_type_problem(content_type)
    if refused is not None:
        return refused
    rule = listener.verification
    verified: bool | None = None
    try:
        verify_signed(rule, headers, body, url_token, now)
        if rule.type not in ("none", "token"):
            verified = True
        payload = parse_body(content_type, body)
        if rule.type == "token":
            verify_token_in_body(rule, payload)
            verified = True
    except UnparseableBodyError as exc:
        return Examination(400, verified, str(exc))
    except VerificationError as exc:
        return Examination(401, False, f"verification failed: {exc}")
    return Examination(202, verified, None, payload)


def split_headers(
    headers: Mapping[str, str], listener: Listener
) -> tuple[dict[str, str], dict[str, str]]:
    """In one pass (a request's headers are looked at once): what the inbound
    log shows (every header, credentials and signatures as ``[redacted]``)
    and what a flow trigger carries (all but those)."""
    logged, forwarded = {}, {}
    signature_header = (listener.verification.header or "").lower()
    for k, v in headers.items():
        name = str(k)  # aiohttp's keys are istr, which orjson refuses
        lowered = name.lower()
        if lowered in SENSITIVE_HEADERS or lowered == signature_header:
            logged[name] = REDACTED_VALUE
        else:
            logged[name] = forwarded[name] = v
    return logged, forwarded


def logged_headers(headers: Mapping[str, str], listener: Listener) -> dict[str, str]:
    """Every header, with credentials and signatures shown as ``[redacted]``."""
    return split_headers(headers, listener)[0]


def logged_body(body: bytes, listener: Listener) -> str:
    """The body cut at 4096 characters, with any of the listener's secrets (a token in
    the body, say) replaced by ``[redacted]``."""
    # Redact before cutting, so no prefix of a secret survives at the cut.
    text = body.decode("utf-8", "replace")
    rule = listener.verification
    for secret in (rule.token, rule.secret, rule.password):
        if secret:
            text = text.replace(secret, REDACTED_VALUE)
    if len(text) > MAX_LOGGED_BODY:
        text = text[:MAX_LOGGED_BODY] + f"… [{len(text) - MAX_LOGGED_BODY} more characters]"
    return text
