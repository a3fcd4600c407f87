"""Admin API routes for flows and their executions."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import READ, WRITE, Route
from hookstream.api.wire import ANY, data_of, ref
from hookstream.http_common import json_response, read_json_object


async def list_flows(request: web.Request) -> web.Response:
    flows = request.app[CONTEXT_KEY].flows.list()
    return json_response({"data": [flow.public() for flow in flows]})


async def create_flow(request: web.Request) -> web.Response:
    flow = await request.app[CONTEXT_KEY].flows.create(await read_json_object(request))
    headers = {"Location": f"/api/v1/flows/{flow.id}"}
    return json_response(flow.public(), status=201, headers=headers)


async def get_flow(request: web.Request) -> web.Response:
    return json_response(request.app[CONTEXT_KEY].flows.get(request.match_info["flow_id"]).public())


async def replace_flow(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    flow = await request.app[CONTEXT_KEY].flows.replace(request.match_info["flow_id"], body)
    return json_response(flow.public())


async def update_flow(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    flow = await request.app[CONTEXT_KEY].flows.update(request.match_info["flow_id"], body)
    return json_response(flow.public())


async def delete_flow(request: web.Request) -> web.Response:
    await request.app[CONTEXT_KEY].flows.delete(request.match_info["flow_id"])
    return web.Response(status=204)


async def executions(request: web.Request) -> web.Response:
    """The last 100 flow.executed / flow.failed events of this flow, newest first."""
    ctx = request.app[CONTEXT_KEY]
    flow = ctx.flows.get(request.match_info["flow_id"])
    return json_response({"data": ctx.flow_executions.newest_first(flow.id)})


BASE = "/api/v1/flows"
ONE = BASE + "/{flow_id}"

ROUTES = [
    Route("GET", BASE, list_flows, "List flows", READ, {200: data_of(ref("Flow"))}),
    Route("POST", BASE, create_flow, "Create a flow", WRITE, {201: ref("Flow")},
          request=ref("FlowSpec"), errors=(503,),
          response_headers={201: {"Location": "the new flow's path"}}),
    Route("GET", ONE, get_flow, "Read a flow", READ, {200: ref("Flow")}),
    Route("PUT", ONE, replace_flow, "Replace a flow", WRITE, {200: ref("Flow")},
          request=ref("FlowSpec"), errors=(503,)),
    Route("PATCH", ONE, update_flow, "Change some fields", WRITE, {200: ref("Flow")},
          request=ref("FlowPatch"), errors=(503,)),
    Route("DELETE", ONE, delete_flow, "Delete a flow", WRITE, {204: None}, errors=(503,)),
    Route("GET", ONE + "/executions", executions,
          "The last 100 flow.executed / flow.failed events of this flow, newest first", READ,
          {200: data_of(ANY)}),
]  # fmt: skip
