"""Replaying a webhook's history (``POST /webhooks/{id}/replay``), its
progress and cancelling it. The API only records the request (and a cancel
mark) on ``hookstream.replays``; a worker runs it (agents/replay_webhooks.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.replay_store import ReplayRequest, ReplayStore
from hookstream.api.routes import TENANT_READ, TENANT_WRITE, Route
from hookstream.api.wire import TIME, data_of, nullable, obj, ref
from hookstream.errors import ValidationFailedError
from hookstream.http_common import json_response, read_json_object, validation_error

ONE_WEBHOOK = "/api/v1/webhooks/{webhook_id}"


def replays_of(request: web.Request) -> ReplayStore:
    return request.app[CONTEXT_KEY].replays


async def parse_replay_request(body: dict[str, Any]) -> ReplayRequest:
    try:
        return ReplayRequest.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc) from None


def pop_replay_from(body: dict[str, Any]) -> datetime | None:
    """``replayFrom`` of a webhook being created (taken out of the body: it
    is not part of the webhook), checked before anything is stored."""
    if body.get("replayFrom") is None:
        body.pop("replayFrom", None)
        return None
    try:
        return ReplayRequest.model_validate({"since": body.pop("replayFrom")}).since
    except ValidationError:
        message = "must be an ISO 8601 time with a timezone"
        raise ValidationFailedError(
            f"replayFrom: {message}", details=[{"field": "replayFrom", "message": message}]
        ) from None


async def backfill(request: web.Request, webhook_id: str, since: datetime) -> dict[str, Any]:
    """Replay a new webhook's history from ``since`` to now (``replayFrom``)."""
    store = replays_of(request)
    return store.view(await store.start(webhook_id, since, None))


async def start_replay(request: web.Request) -> web.Response:
    webhook = request.app[CONTEXT_KEY].webhooks.get(request.match_info["webhook_id"])
    body = await parse_replay_request(await read_json_object(request))
    replay = await replays_of(request).start(webhook.id, body.since, body.until)
    location = f"/api/v1/webhooks/{webhook.id}/replays/{replay.replay_id}"
    return json_response(
        replays_of(request).view(replay), status=202, headers={"Location": location}
    )


async def list_replays(request: web.Request) -> web.Response:
    webhook = request.app[CONTEXT_KEY].webhooks.get(request.match_info["webhook_id"])
    store = replays_of(request)
    return json_response({"data": [store.view(r) for r in store.of_webhook(webhook.id)]})


async def get_replay(request: web.Request) -> web.Response:
    store = replays_of(request)
    info = request.match_info
    return json_response(store.view(store.get(info["webhook_id"], info["replay_id"])))


async def cancel_replay(request: web.Request) -> web.Response:
    store = replays_of(request)
    info = request.match_info
    return json_response(store.view(await store.cancel(info["webhook_id"], info["replay_id"])))


REPLAY = ref("Replay")
REPLAY_REQUEST = obj(
    {"since": {**TIME, "format": "date-time"}, "until": nullable({**TIME, "format": "date-time"})},
    required=["since"],
    closed=True,
)

ROUTES = [
    Route(
        "POST",
        ONE_WEBHOOK + "/replay",
        start_replay,
        "Deliver the webhook's events from since to until again, from Kafka",
        TENANT_WRITE,
        {202: REPLAY},
        request=REPLAY_REQUEST,
        errors=(503,),
        response_headers={202: {"Location": "the replay's path"}},
        description=(
            "Events of every event topic written from since to until (default now) that "
            "the webhook's current events, tenant and filter match are delivered again, "
            "with the delivery ids their live deliveries had. A worker runs it; follow it "
            "at the Location. Reaches as far back as the event topics' retention."
        ),
    ),
    Route(
        "GET",
        ONE_WEBHOOK + "/replays",
        list_replays,
        "The webhook's replays, newest first",
        TENANT_READ,
        {200: data_of(REPLAY)},
    ),
    Route(
        "GET",
        ONE_WEBHOOK + "/replays/{replay_id}",
        get_replay,
        "A replay's progress",
        TENANT_READ,
        {200: REPLAY},
    ),
    Route(
        "DELETE",
        ONE_WEBHOOK + "/replays/{replay_id}",
        cancel_replay,
        "Cancel a replay; deliveries already queued are still made",
        TENANT_WRITE,
        {200: REPLAY},
        errors=(503,),
    ),
]
