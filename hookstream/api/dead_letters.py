"""Dead letters per webhook, and recovering them ("redeliver everything that
failed since …", e.g. after an endpoint's outage).

``hookstream.dead-letters`` is keyed by delivery id; the API groups its
records by their ``webhookId`` and keeps the newest ``DEAD_LETTERS_KEPT`` per webhook."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from hookstream import paging
from hookstream.api.context import CONTEXT_KEY, DEAD_LETTERS_KEPT
from hookstream.api.deliveries import queue_deliveries
from hookstream.api.routes import TENANT_READ, TENANT_WRITE, Param, Route
from hookstream.api.wire import (
    ANY,
    INTEGER,
    NUMBER,
    STRING,
    TIME,
    nullable,
    obj,
)
from hookstream.errors import ConflictError, invalid_field
from hookstream.http_common import json_response, read_json_object
from hookstream.paging import bad_cursor, decode_cursor, encode_cursor
from schemas.deliveries import Delivery
from schemas.events import DomainEvent
from schemas.timestamps import iso_utc

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


# -- paging (pure) -------------------------------------------------------------


def cursor_of(record: dict[str, Any]) -> str:
    """Opaque: where the next page starts (just after this record)."""
    return encode_cursor([record.get("deadAt"), record.get("deliveryId")])


def _mark(cursor: str) -> list[Any]:
    mark = decode_cursor(cursor)
    if not (isinstance(mark, list) and len(mark) == 2):
        raise bad_cursor()
    return mark


def page(
    newest_first: list[dict[str, Any]], *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of records and the cursor of the next (None at the end). A
    cursor whose record has aged out of the view yields an empty page."""
    start = 0
    if cursor is not None:
        mark = _mark(cursor)
        start = next(
            (
                i + 1
                for i, record in enumerate(newest_first)
                if [record.get("deadAt"), record.get("deliveryId")] == mark
            ),
            len(newest_first),
        )
    chunk = newest_first[start : start + limit]
    more = start + limit < len(newest_first)
    return chunk, (cursor_of(chunk[-1]) if chunk and more else None)


def parse_limit(raw: str | None) -> int:
    return paging.parse_limit(raw, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def parse_since(body: dict[str, Any]) -> str:
    """``since`` as a wire timestamp (comparable as text with ``deadAt``)."""
    unknown = sorted(set(body) - {"since"})
    if unknown:
        raise invalid_field(unknown[0], "not a field of this request (only since)")
    value = body.get("since")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return iso_utc(moment)
        except (ValueError, OverflowError):
            pass
    raise invalid_field("since", "must be an ISO 8601 time with a zone, e.g. 2026-11-23T10:00Z")


def to_recover(records: list[dict[str, Any]], since: str) -> list[Delivery]:
    """One fresh delivery (same id, attempt 1) per delivery id dead since ``since``."""
    seen: set[str] = set()
    out: list[Delivery] = []
    for record in reversed(records):  # oldest first: recovered in the order they died
        delivery_id = record.get("deliveryId")
        if str(record.get("deadAt", "")) < since or not isinstance(delivery_id, str):
            continue
        if delivery_id in seen:
            continue
        seen.add(delivery_id)
        event = DomainEvent.from_dict(record["event"])
        out.append(Delivery(delivery_id, str(record["webhookId"]), event, trigger="recovery"))
    return out


# -- routes --------------------------------------------------------------------


async def dead_letters(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    webhook = ctx.webhooks.get(request.match_info["webhook_id"])
    limit = parse_limit(request.query.get("limit"))
    records, next_cursor = page(
        ctx.dead_letters.newest_first(webhook.id), limit=limit, cursor=request.query.get("cursor")
    )
    return json_response({"data": records, "nextCursor": next_cursor})


async def recover(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    webhook = ctx.webhooks.get(request.match_info["webhook_id"])
    since = parse_since(await read_json_object(request))
    if not webhook.enabled:
        raise ConflictError(f"webhook {webhook.id} is disabled; enable it before recovering")
    deliveries = to_recover(ctx.dead_letters.newest_first(webhook.id), since)
    if deliveries:
        await queue_deliveries(ctx, webhook, deliveries)
    log.info("recover webhook=%s since=%s queued=%d", webhook.id, since, len(deliveries))
    return json_response({"queued": len(deliveries)}, status=202)


DEAD_LETTER = obj(
    {
        "deliveryId": STRING,
        "webhookId": STRING,
        "reason": STRING,
        "deadAt": TIME,
        "attempts": {
            "type": "array",
            "items": obj(
                {
                    "attempt": INTEGER,
                    "at": TIME,
                    "outcome": STRING,
                    "status": nullable(INTEGER),
                    "error": nullable(STRING),
                    "durationMs": NUMBER,
                },
                required=["attempt", "at", "outcome"],
            ),
        },
        "event": ANY,
    }
)
ONE = "/api/v1/webhooks/{webhook_id}"

ROUTES = [
    Route(
        "GET",
        ONE + "/dead-letters",
        dead_letters,
        f"Dead letters of a webhook, newest first (the last {DEAD_LETTERS_KEPT} are kept)",
        TENANT_READ,
        {
            200: obj(
                {"data": {"type": "array", "items": DEAD_LETTER}, "nextCursor": nullable(STRING)}
            )
        },
        query=(
            Param(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                "page size",
            ),
            Param("cursor", STRING, "nextCursor of the previous page"),
        ),
    ),
    Route(
        "POST",
        ONE + "/recover",
        recover,
        "Redeliver every dead letter since a time, with the same delivery ids",
        TENANT_WRITE,
        {202: obj({"queued": INTEGER})},
        request=obj({"since": {"type": "string", "format": "date-time"}}, closed=True),
        errors=(409, 503),
        description=(
            "Each delivery id dead at or after `since` is queued once on the webhook's "
            "delivery topic, with its attempt counter reset to 1. 409 when the webhook "
            "is disabled."
        ),
    ),
]
