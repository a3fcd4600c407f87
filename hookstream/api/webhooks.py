"""Admin API routes for webhooks."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import READ, WRITE, Route
from hookstream.api.webhook_store import WebhookStore
from hookstream.api.wire import data_of, ref
from hookstream.http_common import json_response, read_json_object

BASE = "/api/v1/webhooks"
ONE = BASE + "/{webhook_id}"


def webhooks_of(request: web.Request) -> WebhookStore:
    return request.app[CONTEXT_KEY].webhooks


async def list_webhooks(request: web.Request) -> web.Response:
    store = webhooks_of(request)
    return json_response({"data": [wh.public() for wh in store.list()]})


async def create_webhook(request: web.Request) -> web.Response:
    webhook = await webhooks_of(request).create(await read_json_object(request))
    location = f"{BASE}/{webhook.id}"
    return json_response(webhook.public(), status=201, headers={"Location": location})


async def get_webhook(request: web.Request) -> web.Response:
    return json_response(webhooks_of(request).get(request.match_info["webhook_id"]).public())


async def replace_webhook(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    webhook = await webhooks_of(request).replace(request.match_info["webhook_id"], body)
    return json_response(webhook.public())


async def update_webhook(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    webhook = await webhooks_of(request).update(request.match_info["webhook_id"], body)
    return json_response(webhook.public())


async def delete_webhook(request: web.Request) -> web.Response:
    await webhooks_of(request).delete(request.match_info["webhook_id"])
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_webhooks, "List webhooks, oldest first", READ,
          {200: data_of(ref("Webhook"))}),
    Route("POST", BASE, create_webhook, "Create a webhook", WRITE, {201: ref("Webhook")},
          request=ref("WebhookSpec"), errors=(503,),
          response_headers={201: {"Location": "the new webhook's path"}}),
    Route("GET", ONE, get_webhook, "Read a webhook", READ, {200: ref("Webhook")}),
    Route("PUT", ONE, replace_webhook, "Replace a webhook; omitted secrets are kept", WRITE,
          {200: ref("Webhook")}, request=ref("WebhookSpec"), errors=(503,)),
    Route("PATCH", ONE, update_webhook, "Change some fields; null clears secret/basicAuth",
          WRITE, {200: ref("Webhook")}, request=ref("WebhookPatch"), errors=(503,)),
    Route("DELETE", ONE, delete_webhook, "Delete a webhook", WRITE, {204: None}, errors=(503,)),
]  # fmt: skip
