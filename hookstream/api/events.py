"""``POST /api/v1/events``: publish domain events over HTTP.

A 202 is sent only after the broker acknowledged every accepted event
(acks=all); the answer names where each one landed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from hookstream.api.context import CONTEXT_KEY, ApiContext
from hookstream.api.event_input import (
    MAX_BATCH,
    Publish,
    items_of,
    parse_item,
)
from hookstream.api.routes import PUBLISH, Route
from hookstream.api.wire import ANY, INTEGER, STRING, array, nullable, obj, ref
from hookstream.errors import (
    BadRequestError,
    HookstreamError,
    PayloadTooLargeError,
    ValidationFailedError,
    kafka_unavailable,
)
from hookstream.http_common import json_response
from schemas.events import EVENT_TYPE_RE, MAX_ID_LENGTH, InvalidEventError
from streams.topics import API_EVENTS, EVENT_TOPIC_PARTITIONS, TopicSpec

PATH = "/api/v1/events"
# Longer than this without the broker's acknowledgement: 503.
PUBLISH_TIMEOUT = 10.0


async def read_json(request: web.Request) -> Any:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLargeError("body larger than 1 MiB") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"body is not valid JSON: {exc}") from None


def published(item: Publish, meta: RecordMetadata) -> dict[str, Any]:
    return {
        "eventId": item.event.event_id,
        "topic": meta.topic,
        "partition": meta.partition,
        "offset": meta.offset,
    }


async def produce(ctx: ApiContext, items: Sequence[Publish]) -> list[RecordMetadata | Exception]:
    """Send every event (key = entityId) and wait for each acknowledgement.
    Raises :class:`UnavailableError` when the topics cannot be created or the
    broker does not answer in time; a single send failing is returned in its slot."""
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            topics = sorted({item.topic for item in items})
            await ctx.topics.ensure(TopicSpec(t, EVENT_TOPIC_PARTITIONS) for t in topics)
            futures = [
                await ctx.producer.send(
                    item.topic,
                    key=item.event.entity_id.encode(),
                    value=orjson.dumps(item.event.to_dict()),
                )
                for item in items
            ]
            results = await asyncio.gather(*futures, return_exceptions=True)
    except (KafkaError, TimeoutError) as exc:
        reason = exc if str(exc) else TimeoutError("no acknowledgement in time")
        raise kafka_unavailable(reason, "publish the event") from None
    out: list[RecordMetadata | Exception] = []
    for result in results:
        if isinstance(result, RecordMetadata | Exception):
            out.append(result)
        else:  # a BaseException such as CancelledError: not ours to swallow
            raise result
    return out


def _error(exc: HookstreamError) -> dict[str, Any]:
    return exc.body()


async def publish_events(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    items, batch = items_of(await read_json(request))
    if batch and len(items) > MAX_BATCH:
        raise PayloadTooLargeError(f"at most {MAX_BATCH} events per request, got {len(items)}")
    if batch and not items:
        raise ValidationFailedError("the list of events is empty")
    now_millis = int(time.time() * 1000)
    parsed: list[Publish | InvalidEventError] = []
    for item in items:
        try:
            parsed.append(
                parse_item(item, event_topics=ctx.settings.event_topics, now_millis=now_millis)
            )
        except InvalidEventError as exc:
            parsed.append(exc)
    valid = [p for p in parsed if isinstance(p, Publish)]
    if not valid:
        details = [
            {"index": i, "message": str(p)}
            for i, p in enumerate(parsed)
            if not isinstance(p, Publish)
        ]
        message = str(parsed[0]) if not batch else f"no event is valid; first: [0] {parsed[0]}"
        raise ValidationFailedError(message, details=details if batch else None)
    results = iter(await produce(ctx, valid))
    answers: list[dict[str, Any]] = []
    for item in parsed:
        if isinstance(item, InvalidEventError):
            answers.append(_error(ValidationFailedError(str(item))))
            continue
        result = next(results)
        if isinstance(result, RecordMetadata):
            answers.append(published(item, result))
        else:
            answers.append(_error(kafka_unavailable(result, "publish the event")))
    if not batch:
        only = answers[0]
        if "error" in only:
            raise kafka_unavailable(RuntimeError(only["error"]["message"]), "publish the event")
        return json_response(only, status=202)
    if not any("error" not in a for a in answers):
        raise kafka_unavailable(RuntimeError("no event was acknowledged"), "publish the events")
    return json_response({"data": answers}, status=202)


_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}
EVENT_INPUT = obj(
    {
        "eventType": {"type": "string", "pattern": f"^{EVENT_TYPE_RE.pattern}$"},
        "entityId": {"anyOf": [_ID, {"type": "integer"}]},
        "eventId": nullable(_ID),
        "entity": ANY,
        "entityUrl": nullable(STRING),
        "tenantId": nullable(
            {
                **_ID,
                "description": "only webhooks of this tenant, and those "
                "without a tenant, receive the event",
            }
        ),
        "timestamp": nullable(
            {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}
        ),
        "topic": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9._-]{1,249}$",
            "description": f"default {API_EVENTS}; must match HOOKSTREAM_EVENT_TOPICS, "
            "never hookstream.*",
        },
    },
    required=["eventType", "entityId"],
    closed=True,
)
# A CloudEvent in the JSON format (structured mode, CloudEvents 1.0).
CLOUDEVENT_INPUT = {
    **obj(
        {
            "specversion": {"type": "string", "const": "1.0"},
            "id": _ID,
            "type": {"type": "string", "pattern": f"^{EVENT_TYPE_RE.pattern}$"},
            "source": {"type": "string", "minLength": 1},
            "subject": nullable(_ID),
            "time": nullable({"type": "string", "format": "date-time"}),
            "datacontenttype": nullable(STRING),
            "data": ANY,
            "data_base64": nullable(STRING),
            "tenantid": nullable(_ID),
            "topic": EVENT_INPUT["properties"]["topic"],
        },
        required=["specversion", "id", "type", "source"],
    ),
    "description": "id -> eventId, type -> eventType, subject (else id) -> entityId, "
    "time -> timestamp, data -> entity, tenantid -> tenantId; other extensions are ignored",
}
PUBLISHED = obj({"eventId": STRING, "topic": STRING, "partition": INTEGER, "offset": INTEGER})

ROUTES = [
    Route(
        "POST",
        PATH,
        publish_events,
        "Publish a domain event or CloudEvent, or a list of up to 500 (answered one by one)",
        PUBLISH,
        {202: {"anyOf": [PUBLISHED, obj({"data": array({"anyOf": [PUBLISHED, ref("Error")]})})]}},
        request={
            "anyOf": [
                EVENT_INPUT,
                CLOUDEVENT_INPUT,
                array({"anyOf": [EVENT_INPUT, CLOUDEVENT_INPUT]}, minItems=1, maxItems=MAX_BATCH),
            ]
        },
        errors=(503,),
        description=(
            "Validated by the router's own parser; eventId is generated when absent and "
            "timestamp defaults to now. Produced with acks=all, key = entityId; 202 only "
            "after the broker acknowledged. A list is answered per event: "
            "{data: [{eventId, topic, partition, offset} | {error}]}, 202 when any was "
            "accepted, 422 when none is valid, 413 over 500 events."
        ),
    )
]
