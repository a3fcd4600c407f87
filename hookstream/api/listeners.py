"""Admin API routes for inbound listeners."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.http_common import json_response, read_json_object

routes = web.RouteTableDef()


def _public_url(request: web.Request) -> str:
    return request.app[CONTEXT_KEY].settings.public_url


@routes.get("/api/v1/listeners")
async def list_listeners(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    return json_response({"data": [item.public(_public_url(request)) for item in store.list()]})


@routes.post("/api/v1/listeners")
async def create_listener(request: web.Request) -> web.Response:
    listener = await request.app[CONTEXT_KEY].listeners.create(await read_json_object(request))
    headers = {"Location": f"/api/v1/listeners/{listener.id}"}
    return json_response(listener.public(_public_url(request)), status=201, headers=headers)


@routes.get("/api/v1/listeners/{listener_id}")
async def get_listener(request: web.Request) -> web.Response:
    listener = request.app[CONTEXT_KEY].listeners.get(request.match_info["listener_id"])
    return json_response(listener.public(_public_url(request)))


@routes.put("/api/v1/listeners/{listener_id}")
async def replace_listener(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    body = await read_json_object(request)
    listener = await store.replace(request.match_info["listener_id"], body)
    return json_response(listener.public(_public_url(request)))


@routes.patch("/api/v1/listeners/{listener_id}")
async def update_listener(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    body = await read_json_object(request)
    listener = await store.update(request.match_info["listener_id"], body)
    return json_response(listener.public(_public_url(request)))


@routes.delete("/api/v1/listeners/{listener_id}")
async def delete_listener(request: web.Request) -> web.Response:
    await request.app[CONTEXT_KEY].listeners.delete(request.match_info["listener_id"])
    return web.Response(status=204)


@routes.post("/api/v1/listeners/{listener_id}/generate-url")
async def generate_url(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    return json_response(
        await store.generate_url(request.match_info["listener_id"], _public_url(request))
    )
