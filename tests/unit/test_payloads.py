from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import orjson
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hookstream import headers as h
from hookstream.delivery.payloads import build_request, redact_headers
from hookstream.secret_box import SecretBox
from schemas.webhooks import Webhook
from tests.unit.factories import make_delivery, make_webhook

API = "https://hooks.example"


def test_json_body_and_headers() -> None:
    webhook = make_webhook(includeEntity=True, headers={"X-Tenant": "acme"})
    delivery = make_delivery(webhook)
    request = build_request(webhook, delivery, api_url=API, now=0)
    assert request.method == "POST"
    assert request.url == webhook.url
    assert orjson.loads(request.body or b"") == {
        "eventId": "e-1",
        "eventType": "order.created",
        "webhookId": "wh_1",
        "entityId": "42",
        "entity": {"id": 42},
        "entityUrl": "https://hooks.example/api/v1/entities/order/42",
        "timestamp": "2026-11-23T10:00:00.000Z",
    }
    assert request.headers[h.EVENT_ID] == delivery.delivery_id
    assert request.headers[h.EVENT] == "order.created"
    assert request.headers[h.WEBHOOK_ID] == "wh_1"
    assert request.headers[h.ENTITY_ID] == "42"
    assert request.headers[h.ENTITY_URL] == "https://hooks.example/api/v1/entities/order/42"
    assert request.headers[h.CONTENT_TYPE] == "application/json"
    assert request.headers["X-Tenant"] == "acme"
    assert h.SIGNATURE not in request.headers
    assert h.AUTHORIZATION not in request.headers


def test_entity_only_when_included_and_entity_url_from_producer_wins() -> None:
    webhook = make_webhook(includeEntity=False)
    delivery = make_delivery(webhook, entity_url="https://shop/orders/42")
    body = orjson.loads(build_request(webhook, delivery, api_url=API, now=0).body or b"")
    assert "entity" not in body
    assert body["entityUrl"] == "https://shop/orders/42"


def test_signature_is_hmac_sha1_hex_of_exact_body() -> None:
    webhook = make_webhook(secret="s3cret")
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=0)
    expected = hmac.new(b"s3cret", request.body or b"", hashlib.sha1).hexdigest()
    assert request.headers[h.SIGNATURE] == expected
    assert expected == expected.lower()


def test_form_body() -> None:
    webhook = make_webhook(contentType="application/x-www-form-urlencoded", secret="k")
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=0)
    assert request.headers[h.CONTENT_TYPE] == "application/x-www-form-urlencoded"
    fields = {k: v[0] for k, v in parse_qs((request.body or b"").decode()).items()}
    assert fields == {
        "eventId": "e-1",
        "eventType": "order.created",
        "webhookId": "wh_1",
        "entityId": "42",
        "timestamp": "2026-11-23T10:00:00.000Z",
    }
    assert (
        request.headers[h.SIGNATURE]
        == hmac.new(b"k", request.body or b"", hashlib.sha1).hexdigest()
    )


def test_get_puts_fields_in_query_and_signs_the_query() -> None:
    webhook = make_webhook(method="GET", url="https://crm.example/hook?a=1", secret="k")
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=0)
    assert request.body is None
    query = urlsplit(request.url).query
    assert parse_qs(query)["a"] == ["1"]
    assert parse_qs(query)["eventType"] == ["order.created"]
    signed = query.split("&", 1)[1].encode()
    assert request.headers[h.SIGNATURE] == hmac.new(b"k", signed, hashlib.sha1).hexdigest()
    assert h.CONTENT_TYPE not in request.headers


def test_basic_auth_header_and_redaction() -> None:
    webhook = make_webhook(basicAuth={"username": "u", "password": "p"}, secret="k")
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=0)
    assert request.headers[h.AUTHORIZATION] == "Basic " + base64.b64encode(b"u:p").decode()
    redacted = redact_headers(request.headers)
    assert redacted[h.AUTHORIZATION] == "[redacted]"
    assert redacted[h.SIGNATURE] == "[redacted]"
    assert redacted[h.EVENT] == "order.created"


def test_standard_webhooks_signature_verifies_with_the_reference_library() -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    webhook = make_webhook(secret=secret, signatureScheme="standard-webhooks")
    import time

    now = int(time.time())
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=now)
    verified = StandardWebhook(secret).verify(
        request.body or b"",
        {
            "webhook-id": request.headers[h.SW_ID],
            "webhook-timestamp": request.headers[h.SW_TIMESTAMP],
            "webhook-signature": request.headers[h.SW_SIGNATURE],
        },
    )
    assert verified["eventId"] == "e-1"
    assert h.SIGNATURE in request.headers  # the etl signature is sent as well


def test_credential_headers_are_sealed_at_rest_and_redacted_in_the_log() -> None:
    box = SecretBox("unit-test-key")
    webhook = make_webhook(headers={"X-Api-Key": "k-123", "X-Tenant": "acme"})
    stored = webhook.to_json(box)
    assert b"k-123" not in stored and b"acme" in stored
    assert Webhook.from_json(stored, box).headers == webhook.headers
    assert redact_headers({"X-Api-Key": "k", "x-session-id": "s", "X-Tenant": "a"}) == {
        "X-Api-Key": "[redacted]",
        "x-session-id": "[redacted]",
        "X-Tenant": "a",
    }
