"""Admin API routes for webhooks."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.replays import backfill, pop_replay_from
from hookstream.api.routes import TENANT_READ, TENANT_WRITE, Route
from hookstream.api.tenant_scope import caller_tenant, with_caller_tenant
from hookstream.api.tenants import require_tenant
from hookstream.api.webhook_store import WebhookStore
from hookstream.api.wire import data_of, ref
from hookstream.http_common import json_response, read_json_object

BASE = "/api/v1/webhooks"
ONE = BASE + "/{webhook_id}"


def webhooks_of(request: web.Request) -> WebhookStore:
    return request.app[CONTEXT_KEY].webhooks


async def webhook_body(request: web.Request) -> dict[str, Any]:
    """The request's webhook body, in the caller's tenant for a portal token;
    a ``tenantId`` it names must exist."""
    body = with_caller_tenant(request, await read_json_object(request))
    require_tenant(request.app[CONTEXT_KEY], body)
    return body


async def list_webhooks(request: web.Request) -> web.Response:
    webhooks = webhooks_of(request).list()
    tenant_id = caller_tenant(request)
    if tenant_id is not None:
        webhooks = [wh for wh in webhooks if wh.tenant_id == tenant_id]
    return json_response({"data": [wh.public() for wh in webhooks]})


async def create_webhook(request: web.Request) -> web.Response:
    body = await webhook_body(request)
    replay_from = pop_replay_from(body)
    webhook = await webhooks_of(request).create(body)
    view = webhook.public()
    if replay_from is not None:  # backfill: its history since then, as a replay
        view["replay"] = await backfill(request, webhook.id, replay_from)
    location = f"{BASE}/{webhook.id}"
    return json_response(view, status=201, headers={"Location": location})


async def get_webhook(request: web.Request) -> web.Response:
    return json_response(webhooks_of(request).get(request.match_info["webhook_id"]).public())


async def replace_webhook(request: web.Request) -> web.Response:
    body = await webhook_body(request)
    webhook = await webhooks_of(request).replace(request.match_info["webhook_id"], body)
    return json_response(webhook.public())


async def update_webhook(request: web.Request) -> web.Response:
    body = await webhook_body(request)
    webhook = await webhooks_of(request).update(request.match_info["webhook_id"], body)
    return json_response(webhook.public())


async def delete_webhook(request: web.Request) -> web.Response:
    await webhooks_of(request).delete(request.match_info["webhook_id"])
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_webhooks, "List webhooks, oldest first", TENANT_READ,
          {200: data_of(ref("Webhook"))}),
    Route("POST", BASE, create_webhook, "Create a webhook", TENANT_WRITE,
          {201: ref("WebhookCreated")}, request=ref("WebhookCreate"), errors=(503,),
          response_headers={201: {"Location": "the new webhook's path"}},
          description="With replayFrom, the webhook's history from then to now is "
                      "replayed to it as well (the response's replay; follow it at "
                      "/webhooks/{id}/replays/{replayId})."),
    Route("GET", ONE, get_webhook, "Read a webhook", TENANT_READ, {200: ref("Webhook")}),
    Route("PUT", ONE, replace_webhook, "Replace a webhook; omitted secrets are kept", TENANT_WRITE,
          {200: ref("Webhook")}, request=ref("WebhookSpec"), errors=(503,)),
    Route("PATCH", ONE, update_webhook, "Change some fields; null clears secret/basicAuth",
          TENANT_WRITE, {200: ref("Webhook")}, request=ref("WebhookPatch"), errors=(503,)),
    Route("DELETE", ONE, delete_webhook, "Delete a webhook", TENANT_WRITE, {204: None},
          errors=(503,)),
]  # fmt: skip
