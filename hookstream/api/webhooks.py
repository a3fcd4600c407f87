"""Admin API routes for webhooks."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.store import WebhookStore
from hookstream.http_common import json_response, read_json_object

routes = web.RouteTableDef()


def store_of(request: web.Request) -> WebhookStore:
    return request.app[CONTEXT_KEY].store


@routes.get("/api/v1/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    store = store_of(request)
    return json_response({"data": [wh.public() for wh in store.list()]})


@routes.post("/api/v1/webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    webhook = await store_of(request).create(await read_json_object(request))
    location = f"/api/v1/webhooks/{webhook.id}"
    return json_response(webhook.public(), status=201, headers={"Location": location})


@routes.get("/api/v1/webhooks/{webhook_id}")
async def get_webhook(request: web.Request) -> web.Response:
    return json_response(store_of(request).get(request.match_info["webhook_id"]).public())


@routes.put("/api/v1/webhooks/{webhook_id}")
async def replace_webhook(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    webhook = await store_of(request).replace(request.match_info["webhook_id"], body)
    return json_response(webhook.public())


@routes.patch("/api/v1/webhooks/{webhook_id}")
async def update_webhook(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    webhook = await store_of(request).update(request.match_info["webhook_id"], body)
    return json_response(webhook.public())


@routes.delete("/api/v1/webhooks/{webhook_id}")
async def delete_webhook(request: web.Request) -> web.Response:
    await store_of(request).delete(request.match_info["webhook_id"])
    return web.Response(status=204)
