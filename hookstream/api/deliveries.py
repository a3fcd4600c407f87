"""Seeing and repairing deliveries: the delivery log, redelivery and ping."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from aiohttp import web
from aiokafka.errors import KafkaError

from hookstream.api.context import CONTEXT_KEY, ApiContext
from hookstream.api.routes import TENANT_READ, TENANT_WRITE, Param, Route
from hookstream.api.tenant_scope import caller_tenant
from hookstream.api.wire import STRING, data_of, obj, ref
from hookstream.errors import ConflictError, NotFoundError, invalid_field, kafka_unavailable
from hookstream.http_common import json_response
from hookstream.paging import parse_limit
from schemas.deliveries import Delivery
from schemas.events import DomainEvent
from schemas.timestamps import utc_now_iso
from schemas.webhooks import Webhook

PING_EVENT = "webhook.ping"
FIND_LIMIT = 100
FIND_MAX = 1000


async def delivery_log(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    webhook = ctx.webhooks.get(request.match_info["webhook_id"])
    attempts = [_public(record) for record in ctx.delivery_log.newest_first(webhook.id)]
    return json_response({"data": attempts})


async def find_deliveries(request: web.Request) -> web.Response:
    """The kept attempts of one event (``eventId``) or one delivery
    (``deliveryId``) across every webhook the caller may see, newest first:
    Svix's message view. A portal token sees its own tenant's webhooks only."""
    ctx = request.app[CONTEXT_KEY]
    event_id = request.query.get("eventId", "").strip() or None
    delivery_id = request.query.get("deliveryId", "").strip() or None
    if event_id is None and delivery_id is None:
        raise invalid_field("eventId", "give an eventId or a deliveryId to look for")
    limit = parse_limit(request.query.get("limit"), default=FIND_LIMIT, maximum=FIND_MAX)
    tenant_id = caller_tenant(request)
    found: list[dict[str, Any]] = []
    for webhook_id in ctx.delivery_log.webhooks_naming(event_id=event_id, delivery_id=delivery_id):
        webhook = ctx.webhooks.table.get(webhook_id)
        if webhook is None or (tenant_id is not None and webhook.tenant_id != tenant_id):
            continue  # deleted, or another tenant's
        found += [
            _public(record)
            for record in ctx.delivery_log.newest_first(webhook_id)
            if event_id in (None, record.get("eventId"))
            and delivery_id in (None, record.get("deliveryId"))
        ]
    found.sort(key=lambda record: str(record.get("at", "")), reverse=True)
    return json_response({"data": found[:limit]})


async def redeliver(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    webhook = ctx.webhooks.get(request.match_info["webhook_id"])
    delivery_id = request.match_info["delivery_id"]
    record = next(
        (r for r in ctx.delivery_log.newest_first(webhook.id) if r["deliveryId"] == delivery_id),
        None,
    )
    if record is None:
        raise NotFoundError(
            f"delivery {delivery_id} is not among the last attempts of {webhook.id}"
        )
    if not webhook.enabled:
        raise ConflictError(f"webhook {webhook.id} is disabled; enable it before redelivering")
    event = DomainEvent.from_dict(record["event"])
    redelivery = Delivery(delivery_id, webhook.id, event, trigger="redelivery")
    await queue_deliveries(ctx, webhook, [redelivery])
    return json_response(
        {"deliveryId": delivery_id, "webhookId": webhook.id, "status": "queued"}, status=202
    )


async def queue_deliveries(ctx: ApiContext, webhook: Webhook, deliveries: list[Delivery]) -> None:
    """Queue deliveries on the webhook's delivery topic and wait for every ack.
    Each keeps its delivery id (a receiver that already processed it can tell)
    and starts again at attempt 1."""
    try:
        topic = await ctx.webhooks.delivery_topic(webhook)
        futures = [
            await ctx.producer.send(
                topic, key=delivery.event.entity_id.encode(), value=delivery.to_json()
            )
            for delivery in deliveries
        ]
        await asyncio.gather(*futures)
    except KafkaError as exc:
        raise kafka_unavailable(exc, "queue the redelivery") from None


async def ping(request: web.Request) -> web.Response:
    """Send a ``webhook.ping`` event now (also to a disabled webhook, to test
    it before enabling) and return the attempt."""
    ctx = request.app[CONTEXT_KEY]
    webhook = ctx.webhooks.get(request.match_info["webhook_id"])
    event = DomainEvent(
        event_id="ping_" + secrets.token_hex(8),
        event_type=PING_EVENT,
        entity_id=webhook.id,
        timestamp=utc_now_iso(),
        entity={"webhookId": webhook.id, "name": webhook.name, "message": "ping from hookstream"},
        entity_url=f"{ctx.settings.api_url.rstrip('/')}/api/v1/webhooks/{webhook.id}",
    )
    delivery = Delivery.for_event(webhook.id, event, trigger="ping")
    _, record = await ctx.attempter.attempt(webhook, delivery)
    return json_response(_public(record))


# Fields of attempts logged before they were recorded.
_LATER_FIELDS = {"trigger": "event", "nextAttemptAt": None, "deadLetterReason": None}


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The stored attempt minus the internal copy of the event."""
    return {**_LATER_FIELDS, **{k: v for k, v in record.items() if k != "event"}}


ROUTES = [
    Route("GET", "/api/v1/deliveries", find_deliveries,
          "Find the attempts of an event or a delivery across webhooks, newest first",
          TENANT_READ, {200: data_of(ref("Attempt"))},
          query=(
              Param("eventId", STRING, "the event's eventId"),
              Param("deliveryId", STRING, "a delivery id (X-Etl-Webhook-Event-Id); with "
                    "eventId too, attempts must match both"),
              Param("limit", {"type": "integer", "minimum": 1, "maximum": FIND_MAX,
                              "default": FIND_LIMIT}, "at most this many attempts"),
          ),
          description="Looks through the attempts the API keeps (the last 100 per webhook) of "
          "every webhook the caller may see; a portal token sees its own tenant's webhooks "
          "only. One of eventId and deliveryId is required (422 otherwise)."),
    Route("GET", "/api/v1/webhooks/{webhook_id}/events", delivery_log,
          "The last 100 attempts, newest first", TENANT_READ, {200: data_of(ref("Attempt"))}),
    Route("POST", "/api/v1/webhooks/{webhook_id}/events/{delivery_id}/redeliver", redeliver,
          "Send a delivery again with the same delivery id", TENANT_WRITE,
          {202: obj({"deliveryId": STRING, "webhookId": STRING, "status": STRING})},
          errors=(409, 503)),
    Route("POST", "/api/v1/webhooks/{webhook_id}/ping", ping,
          "Send a webhook.ping event now (also to a disabled webhook); returns the attempt",
          TENANT_WRITE, {200: ref("Attempt")}),
]  # fmt: skip
