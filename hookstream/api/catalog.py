"""What hookstream has seen: event types, and the latest entity behind each
``X-Etl-Webhook-Entity-URL`` it generated."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.errors import NotFoundError
from hookstream.http_common import json_response
from streams.topics import entity_key

routes = web.RouteTableDef()


@routes.get("/api/v1/event-types")
async def event_types(request: web.Request) -> web.Response:
    seen = request.app[CONTEXT_KEY].event_types.values()
    return json_response({"data": sorted(seen, key=lambda item: str(item.get("eventType")))})


@routes.get("/api/v1/entities/{entity_type}/{entity_id}")
async def entity(request: web.Request) -> web.Response:
    kind, entity_id = request.match_info["entity_type"], request.match_info["entity_id"]
    found = request.app[CONTEXT_KEY].entities.get(entity_key(kind, entity_id))
    if found is None:
        raise NotFoundError(f"no {kind} {entity_id} has been seen in an event")
    return json_response(found)
