from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hookstream.inbound.verification import (
    VerificationError,
    verify_signed,
    verify_token_in_body,
)
from hookstream.json_paths import get_path
from schemas.listeners import ListenerSpec, Verification

BODY = b'{"id": "evt_1", "amount": 5}'
NOW = 1_800_000_000.0


def rule_for(provider: str = "custom", **verification: Any) -> Verification:
    spec = ListenerSpec.model_validate(
        {"name": "n", "provider": provider, "verification": verification}
    )
    return spec.verification


def check(
    rule: Verification, headers: dict[str, str], body: bytes = BODY, token: str | None = None
) -> None:
    verify_signed(rule, headers, body, token, NOW)


def hexmac(secret: str, message: bytes, algo: Any = hashlib.sha256) -> str:
    return hmac.new(secret.encode(), message, algo).hexdigest()


def test_basic() -> None:
    rule = rule_for(type="basic", username="u", password="p")
    good = "Basic " + base64.b64encode(b"u:p").decode()
    check(rule, {"Authorization": good})
    for bad in ("Basic " + base64.b64encode(b"u:x").decode(), "Bearer abc", "Basic !!", ""):
        with pytest.raises(VerificationError):
            check(rule, {"Authorization": bad})


@pytest.mark.parametrize(
    ("algorithm", "digest"), [("sha1", hashlib.sha1), ("sha256", hashlib.sha256)]
)
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_custom_hmac(algorithm: str, digest: Any, encoding: str) -> None:
    rule = rule_for(type="hmac", algorithm=algorithm, encoding=encoding, header="X-Sig", secret="s")
    raw = hmac.new(b"s", BODY, digest).digest()
    signature = raw.hex() if encoding == "hex" else base64.b64encode(raw).decode()
    check(rule, {"x-sig": signature})  # header names are case-insensitive
    with pytest.raises(VerificationError, match="does not match"):
        check(rule, {"X-Sig": signature}, body=BODY + b" ")
    with pytest.raises(VerificationError, match="missing"):
        check(rule, {})


def test_github_preset_with_sha256_prefix() -> None:
    rule = rule_for("github", secret="gh")
    assert (rule.type, rule.header, rule.encoding) == ("hmac", "X-Hub-Signature-256", "hex")
    check(rule, {"X-Hub-Signature-256": "sha256=" + hexmac("gh", BODY)})
    with pytest.raises(VerificationError):
        check(rule, {"X-Hub-Signature-256": "sha256=" + hexmac("other", BODY)})


def test_shopify_preset_base64() -> None:
    rule = rule_for("shopify", secret="sh")
    signature = base64.b64encode(hmac.new(b"sh", BODY, hashlib.sha256).digest()).decode()
    check(rule, {"X-Shopify-Hmac-Sha256": signature})
    with pytest.raises(VerificationError):
        check(rule, {"X-Shopify-Hmac-Sha256": signature[:-4] + "AAA="})


def stripe_header(secret: str, timestamp: int, body: bytes = BODY) -> str:
    return f"t={timestamp},v1={hexmac(secret, f'{timestamp}.'.encode() + body)},v0=ignored"


def test_stripe_preset_with_tolerance() -> None:
    rule = rule_for("stripe", secret="whsec_stripe")
    check(rule, {"Stripe-Signature": stripe_header("whsec_stripe", int(NOW) - 10)})
    with pytest.raises(VerificationError, match="tolerance"):
        check(rule, {"Stripe-Signature": stripe_header("whsec_stripe", int(NOW) - 301)})
    with pytest.raises(VerificationError, match="does not match"):
        check(rule, {"Stripe-Signature": stripe_header("wrong", int(NOW))})
    with pytest.raises(VerificationError, match="malformed"):
        check(rule, {"Stripe-Signature": "garbage"})
    # More digits than a float holds: an OverflowError once, a 500 to anyone.
    with pytest.raises(VerificationError, match="malformed"):
        check(rule, {"Stripe-Signature": stripe_header("whsec_stripe", 10**400)})


def test_slack_preset() -> None:
    rule = rule_for("slack", secret="sl")
    ts = str(int(NOW))
    sig = "v0=" + hexmac("sl", f"v0:{ts}:".encode() + BODY)
    check(rule, {"X-Slack-Signature": sig, "X-Slack-Request-Timestamp": ts})
    with pytest.raises(VerificationError, match="tolerance"):
        old = str(int(NOW) - 3600)
        check(
            rule,
            {
                "X-Slack-Signature": "v0=" + hexmac("sl", f"v0:{old}:".encode() + BODY),
                "X-Slack-Request-Timestamp": old,
            },
        )


def test_standard_webhooks_preset_signed_by_the_reference_library() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    rule = rule_for("standard-webhooks", secret=secret)
    now = time.time()
    from datetime import UTC, datetime

    signature = StandardWebhook(secret).sign(
        "msg_1", datetime.fromtimestamp(now, tz=UTC), BODY.decode()
    )
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signature,
    }
    verify_signed(rule, headers, BODY, None, now)
    with pytest.raises(VerificationError):
        verify_signed(rule, headers, BODY + b"x", None, now)
    with pytest.raises(VerificationError, match="tolerance"):
        verify_signed(rule, headers, BODY, None, now + 600)


def test_secret_url_and_token_in_body() -> None:
    url_rule = rule_for(type="secret_url", token="t0k")
    check(url_rule, {}, token="t0k")
    for bad in (None, "t0x", ""):
        with pytest.raises(VerificationError):
            check(url_rule, {}, token=bad)
    body_rule = rule_for(type="token", path="myAuth.token", token="abc")
    verify_token_in_body(body_rule, {"myAuth": {"token": "abc"}})
    for payload in ({"myAuth": {"token": "abd"}}, {"myAuth": "abc"}, {}, ["abc"]):
        with pytest.raises(VerificationError):
            verify_token_in_body(body_rule, payload)


def test_get_path() -> None:
    assert get_path({"a": {"b": [1, {"c": 2}]}}, "a.b.1.c") == 2
    assert get_path({"a": 1}, "a.b") is None


def test_presets_require_their_secret() -> None:
    for provider in ("github", "stripe", "shopify", "slack", "standard-webhooks"):
        with pytest.raises(ValueError, match="secret"):
            rule_for(provider)


@given(st.binary(max_size=300), st.text(min_size=1, max_size=40), st.integers(0, 299))
def test_hmac_accepts_exactly_the_signed_body(body: bytes, secret: str, flip: int) -> None:
    rule = Verification(type="hmac", header="X-Sig", secret=secret)
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    verify_signed(rule, {"X-Sig": signature}, body, None, NOW)
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        with pytest.raises(VerificationError):
            verify_signed(rule, {"X-Sig": signature}, tampered, None, NOW)


@given(st.integers(-10_000, 10_000))
def test_stripe_tolerance_is_symmetric(offset: int) -> None:
    rule = Verification(type="stripe", header="Stripe-Signature", secret="s")
    headers = {"Stripe-Signature": stripe_header("s", int(NOW) + offset)}
    if abs(offset) <= 300:
        verify_signed(rule, headers, BODY, None, NOW)
    else:
        with pytest.raises(VerificationError):
            verify_signed(rule, headers, BODY, None, NOW)
