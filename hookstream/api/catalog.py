"""What hookstream has seen: event types, and the latest entity behind each
``X-Etl-Webhook-Entity-URL`` it generated."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import READ, TENANT_READ, Route
from hookstream.api.wire import ANY, STRING, TIME, data_of, obj
from hookstream.errors import NotFoundError
from hookstream.http_common import json_response
from streams.topics import entity_key


async def event_types(request: web.Request) -> web.Response:
    seen = request.app[CONTEXT_KEY].event_types.values()
    return json_response({"data": sorted(seen, key=lambda item: str(item.get("eventType")))})


async def entity(request: web.Request) -> web.Response:
    kind, entity_id = request.match_info["entity_type"], request.match_info["entity_id"]
    found = request.app[CONTEXT_KEY].entities.get(entity_key(kind, entity_id))
    if found is None:
        raise NotFoundError(f"no {kind} {entity_id} has been seen in an event")
    return json_response(found)


EVENT_TYPE = obj(
    {"eventType": STRING, "topic": STRING, "firstSeenAt": TIME}, required=["eventType"]
)

ROUTES = [
    Route("GET", "/api/v1/event-types", event_types, "Event types seen so far", TENANT_READ,
          {200: data_of(EVENT_TYPE)}),
    Route("GET", "/api/v1/entities/{entity_type}/{entity_id}", entity,
          "The latest entity seen in an event (what a generated entity URL points at)", READ,
          {200: ANY}),
]  # fmt: skip
