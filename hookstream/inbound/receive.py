"""``POST /hooks/{listenerId}[/{urlToken}]``: verify, normalise, store.

A 202 means the flow trigger is acknowledged by all in-sync replicas of
``hookstream.flow-triggers``; nothing is written for a request that fails
verification or parsing, and Kafka trouble is a 503 with Retry-After, never
a 202 for a message that was not stored."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hookstream.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    kafka_unavailable,
)
from hookstream.http_common import json_response
from hookstream.inbound.bodies import (
    UnparseableBodyError,
    UnsupportedContentTypeError,
    body_kind,
    media_type,
    parse_body,
)
from hookstream.inbound.verification import (
    VerificationError,
    verify_signed,
    verify_token_in_body,
)
from hookstream.json_paths import get_path
from hookstream.metrics import Metrics
from schemas.listeners import Listener
from schemas.timestamps import utc_now_iso
from streams.table import CompactedTable, SeenKeys
from streams.topics import FLOW_TRIGGERS, INBOUND_SEEN

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
STORE_TIMEOUT = 10.0
CATCH_UP_TIMEOUT = 1.0
# Never copied into flow triggers.
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


@dataclass
class Ingress:
    listeners: CompactedTable[Listener]
    seen: SeenKeys
    producer: AIOKafkaProducer
    metrics: Metrics
    clock: Any = time.time
    pending: set[str] = field(default_factory=set)  # ids being written right now

    @property
    def ready(self) -> bool:
        return self.listeners.ready and self.seen.ready


INGRESS_KEY = web.AppKey("ingress", Ingress)


def _redacted_headers(headers: Any, listener: Listener) -> dict[str, str]:
    secret_header = (listener.verification.header or "").lower()
    return {
        str(k): v  # aiohttp's keys are istr, which orjson refuses
        for k, v in headers.items()
        if k.lower() not in SENSITIVE_HEADERS and k.lower() != secret_header
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
        await ingress.listeners.catch_up(timeout=CATCH_UP_TIMEOUT)
        listener = ingress.listeners.get(listener_id)
    if listener is None or not listener.enabled:
        raise NotFoundError(f"no enabled listener {listener_id}")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLargeError(f"body larger than {MAX_BODY} bytes")
    content_type = request.headers.get("Content-Type")
    try:
        body_kind(content_type)  # 415 before reading anything
    except UnsupportedContentTypeError as exc:
        raise UnsupportedMediaTypeError(str(exc)) from None
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLargeError(f"body larger than {MAX_BODY} bytes") from None

    try:
        verify_signed(
            listener.verification,
            request.headers,
            body,
            request.match_info.get("token"),
            ingress.clock(),
        )
        payload = parse_body(content_type, body)
        if listener.verification.type == "token":
            verify_token_in_body(listener.verification, payload)
    except UnparseableBodyError as exc:
        raise BadRequestError(str(exc)) from None
    except VerificationError as exc:
        ingress.metrics.ingress_verification_failures.labels(listener=listener.id).inc()
        log.info("ingress verification failed listener=%s reason=%s", listener.id, exc)
        raise UnauthorizedError(f"verification failed: {exc}") from None

    provider_id = provider_delivery_id(listener, request.headers, payload)
    seen_key = f"{listener.id}:{provider_id}" if provider_id else None
    if seen_key and (seen_key in ingress.seen or seen_key in ingress.pending):
        return json_response(
            {"accepted": True, "duplicate": True, "deliveryId": provider_id}, status=202
        )

    delivery_id = provider_id or "in_" + secrets.token_hex(16)
    trigger = {
        "listenerId": listener.id,
        "receivedAt": utc_now_iso(),
        "headers": _redacted_headers(request.headers, listener),
        "contentType": media_type(content_type),
        "payload": payload,
        "deliveryId": delivery_id,
    }
    if seen_key:
        ingress.pending.add(seen_key)
    try:
        await asyncio.wait_for(
            ingress.producer.send_and_wait(
                FLOW_TRIGGERS, key=listener.id.encode(), value=orjson.dumps(trigger)
            ),
            STORE_TIMEOUT,
        )
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
