"""Admin API routes for inbound listeners."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY, ApiContext
from hookstream.api.routes import READ, WRITE, Route
from hookstream.api.wire import (
    BOOLEAN,
    INTEGER,
    STRING,
    STRING_MAP,
    TIME,
    array,
    data_of,
    nullable,
    obj,
    ref,
)
from hookstream.http_common import json_response, read_json_object


def _public_url(request: web.Request) -> str:
    return request.app[CONTEXT_KEY].settings.public_url


async def list_listeners(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    return json_response({"data": [item.public(_public_url(request)) for item in store.list()]})


async def create_listener(request: web.Request) -> web.Response:
    listener = await request.app[CONTEXT_KEY].listeners.create(await read_json_object(request))
    headers = {"Location": f"/api/v1/listeners/{listener.id}"}
    return json_response(listener.public(_public_url(request)), status=201, headers=headers)


async def get_listener(request: web.Request) -> web.Response:
    listener = request.app[CONTEXT_KEY].listeners.get(request.match_info["listener_id"])
    return json_response(listener.public(_public_url(request)))


async def replace_listener(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    body = await read_json_object(request)
    listener = await store.replace(request.match_info["listener_id"], body)
    return json_response(listener.public(_public_url(request)))


async def update_listener(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    body = await read_json_object(request)
    listener = await store.update(request.match_info["listener_id"], body)
    return json_response(listener.public(_public_url(request)))


async def delete_listener(request: web.Request) -> web.Response:
    await request.app[CONTEXT_KEY].listeners.delete(request.match_info["listener_id"])
    return web.Response(status=204)


async def generate_url(request: web.Request) -> web.Response:
    store = request.app[CONTEXT_KEY].listeners
    return json_response(
        await store.generate_url(request.match_info["listener_id"], _public_url(request))
    )


async def inbound_requests(request: web.Request) -> web.Response:
    """The last 100 requests the ingress received for this listener, newest
    first, each with the runs of the flows it started."""
    ctx = request.app[CONTEXT_KEY]
    listener = ctx.listeners.get(request.match_info["listener_id"])
    runs = flow_runs(ctx, listener.id)
    entries = [
        {"deliveryId": None, **entry, "flowRuns": runs.get(entry.get("deliveryId") or "", [])}
        for entry in ctx.inbound_log.newest_first(listener.id)
    ]
    return json_response({"data": entries})


def flow_runs(ctx: ApiContext, listener_id: str) -> dict[str, list[dict[str, Any]]]:
    """The kept runs (``flow.executed`` / ``flow.failed`` events) of the
    listener's flows, by the inbound delivery id that started them."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for flow in ctx.flows.list():
        if flow.listener_id != listener_id:
            continue
        for execution in ctx.flow_executions.newest_first(flow.id):
            entity = execution.get("entity") or {}
            trigger = entity.get("triggerDeliveryId")
            if not isinstance(trigger, str):
                continue
            runs.setdefault(trigger, []).append(
                {
                    "flowId": flow.id,
                    "flowName": flow.name,
                    "executionId": str(execution.get("eventId", "")),
                    "status": str(execution.get("eventType", "")).removeprefix("flow."),
                    "at": str(execution.get("timestamp", "")),
                }
            )
    return runs


FLOW_RUN = obj(
    {
        "flowId": STRING,
        "flowName": STRING,
        "executionId": STRING,
        "status": {"type": "string", "enum": ["executed", "failed"]},
        "at": TIME,
    }
)

INBOUND_REQUEST = obj(
    {
        "requestId": STRING,
        "listenerId": STRING,
        "at": TIME,
        "status": INTEGER,
        "verified": nullable(BOOLEAN),
        "reason": nullable(STRING),
        "method": STRING,
        "deliveryId": nullable(STRING),
        "headers": STRING_MAP,
        "body": STRING,
        "contentType": nullable(STRING),
        "flowRuns": array(FLOW_RUN),
    }
)

BASE = "/api/v1/listeners"
ONE = BASE + "/{listener_id}"

ROUTES = [
    Route("GET", BASE, list_listeners, "List inbound listeners", READ,
          {200: data_of(ref("Listener"))}),
    Route("POST", BASE, create_listener, "Create a listener", WRITE, {201: ref("Listener")},
          request=ref("ListenerSpec"), errors=(503,),
          response_headers={201: {"Location": "the new listener's path"}}),
    Route("GET", ONE, get_listener, "Read a listener", READ, {200: ref("Listener")}),
    Route("PUT", ONE, replace_listener, "Replace a listener; omitted secrets are kept", WRITE,
          {200: ref("Listener")}, request=ref("ListenerSpec"), errors=(503,)),
    Route("PATCH", ONE, update_listener, "Change some fields", WRITE, {200: ref("Listener")},
          request=ref("ListenerPatch"), errors=(503,)),
    Route("DELETE", ONE, delete_listener, "Delete a listener", WRITE, {204: None},
          errors=(503,)),
    Route("POST", ONE + "/generate-url", generate_url,
          "The public URL; a new token for secret_url and token listeners", WRITE,
          {200: obj({"url": STRING, "token": STRING, "path": STRING}, required=["url"])},
          errors=(503,)),
    Route("GET", ONE + "/requests", inbound_requests,
          "The last 100 requests to this listener, newest first (secrets redacted), each "
          "with the runs of the flows it started", READ,
          {200: data_of(INBOUND_REQUEST)}),
]  # fmt: skip
