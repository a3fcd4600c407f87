from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hookstream import headers as h
from hookstream.delivery.payloads import build_request
from hookstream.secret_box import SecretBox, SecretKeyError, load_or_create_key
from schemas.webhooks import Webhook
from tests.unit.factories import make_delivery, make_webhook

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_stored_record_never_holds_plaintext_and_round_trips() -> None:
    box = SecretBox("k1")
    webhook = make_webhook(secret="s3cret", basicAuth={"username": "u", "password": "hunter2"})
    stored = webhook.to_json(box)
    assert b"s3cret" not in stored and b"hunter2" not in stored
    assert Webhook.from_json(stored, box) == webhook


def test_wrong_key_is_a_clear_error() -> None:
    stored = make_webhook(secret="s3cret").to_json(SecretBox("k1"))
    with pytest.raises(SecretKeyError, match="HOOKSTREAM_SECRET_KEY"):
        Webhook.from_json(stored, SecretBox("k2"))


def test_generated_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "data")
    assert load_or_create_key(tmp_path / "data") == key
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600


def rotated(old_secret: str, new_secret: str, *, scheme: str = "etl") -> Webhook:
    old = make_webhook(secret=old_secret, signatureScheme=scheme)
    new = make_webhook(secret=new_secret, signatureScheme=scheme)
    new.previous_secrets = new.rotated_from(old, NOW)
    return new


def test_rotation_keeps_the_old_secret_for_24_hours() -> None:
    webhook = rotated("old", "new")
    assert webhook.signing_secrets(NOW + timedelta(hours=23)) == ["new", "old"]
    assert webhook.signing_secrets(NOW + timedelta(hours=25)) == ["new"]
    assert webhook.public()["previousSecretExpiresAt"] == "2026-11-24T10:00:00.000Z"
    assert "old" not in str(webhook.public())


def test_both_etl_signatures_are_sent_during_rotation() -> None:
    webhook = rotated("old", "new")
    now = int((NOW + timedelta(hours=1)).timestamp())
    request = build_request(webhook, make_delivery(webhook), api_url="https://x", now=now)
    body = request.body or b""
    assert request.headers[h.SIGNATURE] == hmac.new(b"new", body, hashlib.sha1).hexdigest()
    assert request.headers[h.SIGNATURE_PREVIOUS] == hmac.new(b"old", body, hashlib.sha1).hexdigest()
    later = int((NOW + timedelta(hours=30)).timestamp())
    after = build_request(webhook, make_delivery(webhook), api_url="https://x", now=later)
    assert h.SIGNATURE_PREVIOUS not in after.headers


def test_standard_webhooks_receivers_with_either_secret_verify() -> None:
    old = "whsec_" + base64.b64encode(b"o" * 32).decode()
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    webhook = rotated(old, new, scheme="standard-webhooks")
    import time

    now = int(time.time())
    webhook.previous_secrets[0].expires_at = "2999-01-01T00:00:00.000Z"
    request = build_request(webhook, make_delivery(webhook), api_url="https://x", now=now)
    headers = {k: request.headers[k] for k in (h.SW_ID, h.SW_TIMESTAMP, h.SW_SIGNATURE)}
    assert len(request.headers[h.SW_SIGNATURE].split(" ")) == 2
    for secret in (old, new):
        assert StandardWebhook(secret).verify(request.body or b"", headers)["eventId"] == "e-1"


def test_secrets_are_kept_byte_exact() -> None:
    webhook = make_webhook(secret=" padded secret\t")
    assert webhook.secret == " padded secret\t"
    assert (
        Webhook.from_json(webhook.to_json(SecretBox("k")), SecretBox("k")).secret
        == " padded secret\t"
    )
