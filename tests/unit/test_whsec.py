"""Standard Webhooks secrets: what counts as one (schemas/whsec.py)."""

from __future__ import annotations

import base64

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookstream.delivery.payloads import build_request
from hookstream.secret_box import SecretBox
from schemas.listeners import Listener, Verification
from schemas.webhooks import Webhook, WebhookSpec
from schemas.whsec import whsec_key
from tests.unit.factories import make_delivery, make_webhook


@given(st.binary(min_size=1, max_size=64))
def test_a_whsec_secret_stands_for_its_key(key: bytes) -> None:
    assert whsec_key("whsec_" + base64.b64encode(key).decode()) == key


@pytest.mark.parametrize(
    "secret", ["", "plain", "whsec_", "whsec_abc", "whsec_a b c d", "whsec_ünï==", "WHSEC_AAAA"]
)
def test_anything_else_is_not_one(secret: str) -> None:
    assert whsec_key(secret) is None


def test_a_listener_refuses_a_secret_it_could_not_verify_with() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        Verification(type="standard-webhooks", secret="whsec_abc")
    good = "whsec_" + base64.b64encode(b"k" * 24).decode()
    assert Verification(type="standard-webhooks", secret=good).secret == good


def test_records_stored_under_the_prefix_rule_still_load() -> None:
    """Refused on write, but one stored before the check must not vanish from
    every view (the API's 404, the worker's 'deleted'): it loads, and its
    signature is left out (the receiver refuses) until it is fixed."""
    box = SecretBox("unit-test-key")
    webhook = make_webhook(signatureScheme="standard-webhooks")
    stored = orjson.loads(webhook.to_json(box))
    stored["secret"] = box.seal("whsec_abc")
    loaded = Webhook.from_json(orjson.dumps(stored), box)
    assert loaded.secret == "whsec_abc"
    request = build_request(loaded, make_delivery(loaded), api_url="http://api", now=1)
    assert request.headers["webhook-signature"] == ""
    with pytest.raises(ValueError, match="whsec_"):
        WebhookSpec.model_validate(loaded.model_dump(include=set(WebhookSpec.model_fields)))

    listener = Listener.model_validate(
        {"id": "ls_1", "name": "l", "createdAt": "x", "updatedAt": "x"}
    )
    raw = orjson.loads(listener.to_json(box))
    raw["verification"] = {"type": "standard-webhooks", "secret": box.seal("whsec_abc")}
    assert Listener.from_json(orjson.dumps(raw), box).verification.secret == "whsec_abc"
