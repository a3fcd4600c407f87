"""Turn (webhook, delivery) into the exact HTTP request to send. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import orjson

from hookstream import headers as h
from hookstream.delivery.signing import (
    basic_auth_header,
    etl_signature,
    standard_webhooks_signature,
)
from schemas.deliveries import Delivery
from schemas.events import DomainEvent
from schemas.trace_context import TraceContext
from schemas.webhooks import CLOUDEVENTS, FORM, REDACTED_VALUE, Webhook, is_sensitive_header
from schemas.whsec import whsec_key

# Fields of the form-encoded body and of the GET query string (DESIGN.md).
FORM_FIELDS = ("eventId", "eventType", "webhookId", "entityId", "timestamp")
# payloadFormat "cloudevents": the body is a CloudEvent in the JSON format (structured mode).
CLOUDEVENTS_JSON = "application/cloudevents+json"


@dataclass(slots=True)  # made for every attempt: see AttemptResult
class OutboundRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


# What a path segment may hold as it is (RFC 3986 unreserved): most ids are
# this, and checking costs a third of quoting (once per delivery).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


def _segment(text: str) -> str:
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def entity_url(event: DomainEvent, api_url: str) -> str:
    """The producer's ``entityUrl``, or hookstream's own entity endpoint."""
    if event.entity_url:
        return event.entity_url
    base = api_url.rstrip("/")
    return f"{base}/api/v1/entities/{_segment(event.entity_type)}/{_segment(event.entity_id)}"


def payload_fields(webhook: Webhook, delivery: Delivery, api_url: str) -> dict[str, Any]:
    event = delivery.event
    fields: dict[str, Any] = {
        "eventId": event.event_id,
        "eventType": event.event_type,
        "webhookId": webhook.id,
        "entityId": event.entity_id,
    }
    if webhook.include_entity:
        fields["entity"] = event.entity
    fields["entityUrl"] = entity_url(event, api_url)
    fields["timestamp"] = event.timestamp
    return fields


def entity_source(event: DomainEvent, api_url: str) -> str:
    """A CloudEvent's ``source``: the producer's, kept from a CloudEvent, or
    the collection of hookstream's entity endpoint (so ``source`` + "/" +
    ``subject`` is the generated entityUrl)."""
    if event.source:
        return event.source
    return f"{api_url.rstrip('/')}/api/v1/entities/{_segment(event.entity_type)}"


def cloudevent(webhook: Webhook, delivery: Delivery, api_url: str) -> dict[str, Any]:
    """The structured-mode CloudEvent 1.0 of a delivery. ``id`` is the delivery
    id (stable across retries: receivers dedupe on it, as on
    X-Etl-Webhook-Event-Id); ``data`` is always the entity, since a
    CloudEvent's data is the event (includeEntity shapes the etl body only)."""
    event = delivery.event
    out: dict[str, Any] = {
        "specversion": "1.0",
        "id": delivery.delivery_id,
        "type": event.event_type,
        "source": entity_source(event, api_url),
        "subject": event.entity_id,
        "time": event.timestamp,
        "datacontenttype": "application/json",
        "data": event.entity,
        # Extensions (lowercase letters and digits, CloudEvents 1.0).
        "entityurl": entity_url(event, api_url),
    }
    if event.tenant_id is not None:
        out["tenantid"] = event.tenant_id
    return out


def _form(fields: dict[str, Any]) -> str:
    return urlencode([(name, str(fields[name])) for name in FORM_FIELDS])


def _with_query(url: str, query: str) -> str:
    parts = urlsplit(url)
    merged = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, merged, parts.fragment))


def build_request(
    webhook: Webhook,
    delivery: Delivery,
    *,
    api_url: str,
    now: int,
    trace: TraceContext | None = None,
) -> OutboundRequest:
    """``now`` is epoch seconds, used for the Standard Webhooks timestamp;
    ``trace`` is the attempt's span, sent as ``traceparent``/``tracestate``."""
    fields = payload_fields(webhook, delivery, api_url)
    out_headers: dict[str, str] = {
        h.USER_AGENT: h.USER_AGENT_VALUE,
        h.EVENT_ID: delivery.delivery_id,
        h.EVENT: delivery.event.event_type,
        h.WEBHOOK_ID: webhook.id,
        h.ENTITY_ID: delivery.event.entity_id,
        h.ENTITY_URL: fields["entityUrl"],
        h.ATTEMPT: str(delivery.attempt),
    }
    out_headers.update(webhook.headers)
    if trace is not None:
        out_headers.update(trace.headers())
    if webhook.basic_auth is not None:
        out_headers[h.AUTHORIZATION] = basic_auth_header(
            webhook.basic_auth.username, webhook.basic_auth.password
        )

    body: bytes | None
    if webhook.method == "GET":
        form = _form(fields)
        url, body, signed = _with_query(webhook.url, form), None, form.encode()
    else:
        url = webhook.url
        if webhook.payload_format == CLOUDEVENTS:
            body = orjson.dumps(cloudevent(webhook, delivery, api_url))
            out_headers[h.CONTENT_TYPE] = CLOUDEVENTS_JSON
        else:
            as_form = webhook.content_type == FORM
            body = _form(fields).encode() if as_form else orjson.dumps(fields)
            out_headers[h.CONTENT_TYPE] = webhook.content_type
        signed = body

    # During a rotation window the replaced secret signs too, so receivers
    # still holding it keep verifying (Standard Webhooks: a space-separated list).
    keys = webhook.signing_secrets(datetime.fromtimestamp(now, tz=UTC)) if webhook.secret else []
    if keys:
        if webhook.signature_scheme == "standard-webhooks":
            out_headers[h.SW_ID] = delivery.delivery_id
            out_headers[h.SW_TIMESTAMP] = str(now)
            # A secret stored before secrets were checked on write may not be
            # one: the receiver then sees no signature (and refuses), instead
            # of the lane retrying an exception forever.
            out_headers[h.SW_SIGNATURE] = " ".join(
                standard_webhooks_signature(key, delivery.delivery_id, now, signed)
                for key in keys
                if whsec_key(key) is not None
            )
        out_headers[h.SIGNATURE] = etl_signature(keys[0], signed)
        if len(keys) > 1:
            out_headers[h.SIGNATURE_PREVIOUS] = etl_signature(keys[1], signed)
    return OutboundRequest(webhook.method, url, out_headers, body)


# Header name → shown redacted in the delivery log; the names a worker sends
# are few (hookstream's own and the webhooks' custom ones), so each is judged once.
_redacted_names: dict[str, bool] = {}


def _redacted(name: str) -> bool:
    hidden = _redacted_names.get(name)
    if hidden is None:
        hidden = name.lower() in h.REDACTED or is_sensitive_header(name)
        if len(_redacted_names) < 10_000:  # bounded, whatever names come along
            _redacted_names[name] = hidden
    return hidden


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED_VALUE if _redacted(k) else v) for k, v in headers.items()}
