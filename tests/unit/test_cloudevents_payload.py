"""payloadFormat "cloudevents": the request body is a structured-mode
CloudEvent the official SDK reads, signed like any other body; and the
``traceparent`` of the attempt's span goes on every request."""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson
import pytest
from cloudevents.v1.http import from_http
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hookstream import headers as h
from hookstream.delivery.payloads import build_request
from schemas.trace_context import parse_traceparent
from tests.unit.factories import make_delivery, make_webhook

API = "https://hooks.example"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_body_is_a_cloudevent_the_sdk_parses() -> None:
    webhook = make_webhook(payloadFormat="cloudevents", secret="s3cret")
    delivery = make_delivery(webhook, tenant_id="acme")
    request = build_request(webhook, delivery, api_url=API, now=0)
    assert request.headers[h.CONTENT_TYPE] == "application/cloudevents+json"
    event = from_http(request.headers, request.body)
    assert event["specversion"] == "1.0"
    assert event["id"] == delivery.delivery_id == request.headers[h.EVENT_ID]
    assert event["type"] == "order.created"
    assert event["subject"] == "42"
    assert event["time"] == "2026-11-23T10:00:00.000Z"
    assert event["datacontenttype"] == "application/json"
    assert event["source"] + "/" + event["subject"] == request.headers[h.ENTITY_URL]
    assert event["entityurl"] == request.headers[h.ENTITY_URL]
    assert event["tenantid"] == "acme"
    assert event.data == {"id": 42}
    expected = hmac.new(b"s3cret", request.body or b"", hashlib.sha1).hexdigest()
    assert request.headers[h.SIGNATURE] == expected


def test_a_cloudevent_keeps_its_source_and_always_carries_its_data() -> None:
    webhook = make_webhook(payloadFormat="cloudevents", includeEntity=False)
    delivery = make_delivery(webhook, source="https://shop.example/orders")
    body = orjson.loads(build_request(webhook, delivery, api_url=API, now=0).body or b"")
    assert body["source"] == "https://shop.example/orders"
    assert body["data"] == {"id": 42}
    assert "tenantid" not in body


def test_standard_webhooks_signs_the_cloudevent_too() -> None:
    webhook = make_webhook(
        payloadFormat="cloudevents", signatureScheme="standard-webhooks", secret=WHSEC
    )
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=int(time.time()))
    payload = request.body or b""
    verified = StandardWebhook(WHSEC).verify(payload, request.headers)  # type: ignore[no-untyped-call]
    assert verified["id"] == request.headers[h.EVENT_ID]


@pytest.mark.parametrize(
    "fields",
    [{"method": "GET"}, {"contentType": "application/x-www-form-urlencoded"}],
)
def test_cloudevents_needs_a_json_body(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="payloadFormat"):
        make_webhook(payloadFormat="cloudevents", **fields)


def test_the_etl_body_is_unchanged_by_default() -> None:
    webhook = make_webhook()
    body = orjson.loads(
        build_request(webhook, make_delivery(webhook), api_url=API, now=0).body or b""
    )
    assert "specversion" not in body
    assert body["eventId"] == "e-1"


def test_the_attempts_span_goes_on_the_request_and_tracestate_is_kept() -> None:
    parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v")
    assert parent is not None
    span = parent.child()
    webhook = make_webhook(headers={"traceparent": "custom-never-wins"})
    request = build_request(webhook, make_delivery(webhook), api_url=API, now=0, trace=span)
    assert request.headers["traceparent"] == span.traceparent
    assert request.headers["tracestate"] == "k=v"
    untraced = build_request(webhook, make_delivery(webhook), api_url=API, now=0)
    assert "tracestate" not in untraced.headers


def test_post_events_takes_a_cloudevent_and_publishes_its_domain_event() -> None:
    from hookstream.api.event_input import parse_item
    from schemas.events import InvalidEventError

    item = {
        "specversion": "1.0",
        "id": "ce-9",
        "type": "order.created",
        "source": "https://shop.example/orders",
        "subject": "42",
        "tenantid": "acme",
        "data": {"id": 42},
        "topic": "events.shop",
    }
    published = parse_item(item, event_topics=r"^events\..+", now_millis=0)
    assert published.topic == "events.shop"
    assert published.event.to_dict() == {
        "eventId": "ce-9",
        "eventType": "order.created",
        "entityId": "42",
        "entity": {"id": 42},
        "timestamp": "1970-01-01T00:00:00.000Z",
        "tenantId": "acme",
        "source": "https://shop.example/orders",
    }
    with pytest.raises(InvalidEventError, match="required attribute source is missing"):
        parse_item(
            {k: v for k, v in item.items() if k != "source"},
            event_topics=r"^events\..+",
            now_millis=0,
        )
