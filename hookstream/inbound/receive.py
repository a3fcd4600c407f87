"""``POST /hooks/{listenerId}[/{urlToken}]``: verify, normalise, store.

A 202 means the flow trigger is acknowledged by all in-sync replicas of
``hookstream.flow-triggers``; nothing is written for a request that fails
verification or parsing, and Kafka trouble is a 503 with Retry-After, never
a 202 for a message that was not stored."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from multidict import CIMultiDict

from hookstream.errors import (
    BadRequestError,
    HookstreamError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    kafka_unavailable,
)
from hookstream.http_common import json_response
from hookstream.inbound.bodies import media_type
from hookstream.inbound.examine import (
    MAX_BODY,
    content_type_problem,
    examine,
    logged_body,
    split_headers,
)
from hookstream.json_paths import get_path
from hookstream.metrics import Metrics
from hookstream.tracing import Tracing
from schemas.listeners import Listener
from schemas.timestamps import utc_now_iso
from schemas.trace_context import TRACEPARENT, TRACESTATE, TraceContext, parse_traceparent
from streams.broker_compat import MAX_RECORD_BYTES, fits_in_a_record
from streams.coalesce import Coalesced
from streams.queued_writer import AcknowledgedWriter, QueuedWriter
from streams.table import CompactedTable, SeenKeys
from streams.topics import INBOUND_SEEN

log = logging.getLogger(__name__)

STORE_TIMEOUT = 10.0
CATCH_UP_TIMEOUT = 1.0


@dataclass
class Ingress:
    listeners: CompactedTable[Listener]
    seen: SeenKeys
    producer: AIOKafkaProducer
    # Flow triggers, acknowledged within STORE_TIMEOUT; requests share batches.
    triggers: AcknowledgedWriter
    inbound_log: QueuedWriter  # never delays or fails a response
    metrics: Metrics
    clock: Any = time.time
    tracing: Tracing = field(default_factory=lambda: Tracing("hookstream-ingress"))
    pending: set[str] = field(default_factory=set)  # ids being written right now
    # Catch-ups for unknown listener ids, shared: a flood of requests to ids
    # that do not exist costs the broker one request per round trip.
    listeners_caught_up: Coalesced = field(init=False)

    def __post_init__(self) -> None:
        self.listeners_caught_up = Coalesced(
            functools.partial(self.listeners.catch_up, timeout=CATCH_UP_TIMEOUT)
        )

    @property
    def ready(self) -> bool:
        return self.listeners.ready and self.seen.ready


INGRESS_KEY = web.AppKey("ingress", Ingress)


# Identifiers made per request, not secrets: random's generator (seeded from
# the OS, reseeded in a forked child) instead of ``secrets``, whose system
# call per id was 3 % of the ingress's CPU.
def request_id() -> str:
    return f"rq_{random.getrandbits(96):024x}"


def inbound_delivery_id() -> str:
    return f"in_{random.getrandbits(128):032x}"


def text_headers(request: web.Request) -> Mapping[str, str]:
    """The request's headers as valid UTF-8 text. aiohttp keeps header bytes
    that are not UTF-8 as surrogate escapes, which orjson (rightly) refuses to
    write and ``str.encode`` refuses to encode; such bytes become U+FFFD.
    Headers that are all ASCII (nearly every request) are used as they are."""
    headers = request.headers
    if all(k.isascii() and v.isascii() for k, v in headers.items()):
        return headers
    return CIMultiDict((_text(k), _text(v)) for k, v in headers.items())


def _text(raw: str) -> str:
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def new_log_entry(
    request: web.Request,
    headers: Mapping[str, str],
    logged: dict[str, str],
    listener: Listener,
) -> dict[str, Any]:
    """The ``hookstream.inbound-log`` record of a request (status filled in at
    the end), with its ``logged`` headers. Never the path: a secret-URL token
    lives there."""
    content_type = headers.get("Content-Type")
    return {
        "requestId": request_id(),
        "listenerId": listener.id,
        "at": utc_now_iso(),
        "status": 500,  # until known
        "verified": None,
        "reason": None,
        "method": request.method,
        # The inbound delivery id of an accepted request (its flows' runs name it).
        "deliveryId": None,
        "headers": logged,
        "body": "",
        "contentType": media_type(content_type) if content_type else None,
    }


def provider_delivery_id(listener: Listener, headers: Any, payload: Any) -> str | None:
    rule = listener.verification
    if rule.delivery_id_header and headers.get(rule.delivery_id_header):
        return str(headers[rule.delivery_id_header])
    if rule.delivery_id_path:
        found = get_path(payload, rule.delivery_id_path)
        if isinstance(found, str | int) and not isinstance(found, bool):
            return str(found)
    return None


async def receive(request: web.Request) -> web.Response:
    ingress = request.app[INGRESS_KEY]
    listener_id = request.match_info["listener_id"]
    listener = ingress.listeners.get(listener_id)
    if listener is None or not listener.enabled:
        # Maybe created or enabled a moment ago through another process (GitHub
        # pings the instant a hook is saved): catch up before answering 404.
        await ingress.listeners_caught_up(timeout=CATCH_UP_TIMEOUT)
        listener = ingress.listeners.get(listener_id)
    if listener is None:
        raise NotFoundError(f"no enabled listener {listener_id}")
    # One inbound-log record per request to a known listener, whatever the outcome.
    headers = text_headers(request)
    logged, forwarded = split_headers(headers, listener)
    entry = new_log_entry(request, headers, logged, listener)
    # Continues the sender's trace, or starts one; the flow trigger carries it on.
    span = ingress.tracing.start(
        "ingress request",
        parse_traceparent(headers.get(TRACEPARENT), headers.get(TRACESTATE)),
        kind="server",
        attributes={"hookstream.listener.id": listener.id, "http.request.method": "POST"},
        new_trace_if_none=True,
    )
    try:
        response = await _receive(
            request, headers, ingress, listener, entry, forwarded=forwarded, trace=span.context
        )
        entry["status"] = response.status
        return response
    except HookstreamError as exc:
        entry["status"], entry["reason"] = exc.status, exc.message
        raise
    finally:
        if entry["status"] == 500 and entry["reason"] is None:
            entry["reason"] = "internal error"
        ingress.inbound_log.write(listener.id, entry)
        span.set("http.response.status_code", entry["status"])
        if entry["status"] >= 500:
            span.fail(entry["reason"] or "internal error")
        span.end()


_REFUSALS: dict[int, type[HookstreamError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
}


async def _receive(
    request: web.Request,
    headers: Mapping[str, str],
    ingress: Ingress,
    listener: Listener,
    entry: dict[str, Any],
    *,
    forwarded: dict[str, str],
    trace: TraceContext | None = None,
) -> web.Response:
    if not listener.enabled:
        raise NotFoundError(f"no enabled listener {listener.id}")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLargeError(f"body larger than {MAX_BODY} bytes")
    content_type = headers.get("Content-Type")
    refused = content_type_problem(content_type)  # 415 before reading anything
    if refused is not None:
        raise UnsupportedMediaTypeError(refused.reason or "unsupported content type")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLargeError(f"body larger than {MAX_BODY} bytes") from None
    entry["body"] = logged_body(body, listener)

    result = examine(
        listener,
        headers,
        body,
        content_type=content_type,
        url_token=request.match_info.get("token"),
        now=ingress.clock(),
    )
    entry["verified"] = result.verified
    if not result.accepted:
        if result.status == 401:
            ingress.metrics.ingress_verification_failures.labels(listener=listener.id).inc()
            log.info(
                "ingress verification failed listener=%s reason=%s", listener.id, result.reason
            )
        raise _REFUSALS[result.status](result.reason or "refused")
    payload = result.payload

    provider_id = provider_delivery_id(listener, headers, payload)
    seen_key = f"{listener.id}:{provider_id}" if provider_id else None
    if seen_key and (seen_key in ingress.seen or seen_key in ingress.pending):
        entry["reason"] = "duplicate: this provider delivery id was already accepted"
        entry["deliveryId"] = provider_id
        return json_response(
            {"accepted": True, "duplicate": True, "deliveryId": provider_id}, status=202
        )

    delivery_id = provider_id or inbound_delivery_id()
    entry["deliveryId"] = delivery_id
    trigger = {
        "listenerId": listener.id,
        "receivedAt": entry["at"],  # the moment the log entry was made
        "headers": forwarded,
        "contentType": media_type(content_type),
        "payload": payload,
        "deliveryId": delivery_id,
    }
    key, value = listener.id.encode(), orjson.dumps(trigger)
    if not fits_in_a_record(key, value):
        # A body near the limit, with the headers beside it: Kafka would
        # refuse the record, so say what is wrong instead of 503.
        raise PayloadTooLargeError(
            f"body too large to store with its headers ({len(value)} bytes, "
            f"a Kafka record holds {MAX_RECORD_BYTES})"
        )
    if seen_key:
        ingress.pending.add(seen_key)
    try:
        await ingress.triggers.write(key, value, trace.kafka_headers() if trace else None)
        if seen_key:
            await ingress.producer.send(INBOUND_SEEN, key=seen_key.encode(), value=b"1")
            ingress.seen.apply(seen_key, b"1")
    except (KafkaError, TimeoutError) as exc:
        reason = exc if str(exc) else TimeoutError("no acknowledgement")
        raise kafka_unavailable(reason, "store the webhook") from None
    finally:
        if seen_key:
            ingress.pending.discard(seen_key)
    return json_response({"accepted": True, "deliveryId": delivery_id}, status=202)
