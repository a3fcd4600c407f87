"""Admin API routes for inbound listeners."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import READ, WRITE, Route
from hookstream.api.wire import (
    BOOLEAN,
    INTEGER,
    STRING,
    STRING_MAP,
    TIME,
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
    """The last 100 requests the ingress received for this listener, newest first."""
    ctx = request.app[CONTEXT_KEY]
    listener = ctx.listeners.get(request.match_info["listener_id"])
    return json_response({"data": ctx.inbound_log.newest_first(listener.id)})


INBOUND_REQUEST = obj(
    {
        "requestId": STRING,
        "listenerId": STRING,
        "at": TIME,
        "status": INTEGER,
        "verified": nullable(BOOLEAN),
        "reason": nullable(STRING),
        "method": STRING,
        "headers": STRING_MAP,
        "body": STRING,
        "contentType": nullable(STRING),
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
          "The last 100 requests to this listener, newest first (secrets redacted)", READ,
          {200: data_of(INBOUND_REQUEST)}),
]  # fmt: skip
