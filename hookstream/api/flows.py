"""Admin API routes for flows and their executions."""

from __future__ import annotations

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.http_common import json_response, read_json_object

routes = web.RouteTableDef()


@routes.get("/api/v1/flows")
async def list_flows(request: web.Request) -> web.Response:
    flows = request.app[CONTEXT_KEY].flows.list()
    return json_response({"data": [flow.public() for flow in flows]})


@routes.post("/api/v1/flows")
async def create_flow(request: web.Request) -> web.Response:
    flow = await request.app[CONTEXT_KEY].flows.create(await read_json_object(request))
    headers = {"Location": f"/api/v1/flows/{flow.id}"}
    return json_response(flow.public(), status=201, headers=headers)


@routes.get("/api/v1/flows/{flow_id}")
async def get_flow(request: web.Request) -> web.Response:
    return json_response(request.app[CONTEXT_KEY].flows.get(request.match_info["flow_id"]).public())


@routes.put("/api/v1/flows/{flow_id}")
async def replace_flow(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    flow = await request.app[CONTEXT_KEY].flows.replace(request.match_info["flow_id"], body)
    return json_response(flow.public())


@routes.patch("/api/v1/flows/{flow_id}")
async def update_flow(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    flow = await request.app[CONTEXT_KEY].flows.update(request.match_info["flow_id"], body)
    return json_response(flow.public())


@routes.delete("/api/v1/flows/{flow_id}")
async def delete_flow(request: web.Request) -> web.Response:
    await request.app[CONTEXT_KEY].flows.delete(request.match_info["flow_id"])
    return web.Response(status=204)


@routes.get("/api/v1/flows/{flow_id}/executions")
async def executions(request: web.Request) -> web.Response:
    """The last 100 flow.executed / flow.failed events of this flow, newest first."""
    ctx = request.app[CONTEXT_KEY]
    flow = ctx.flows.get(request.match_info["flow_id"])
    return json_response({"data": ctx.flow_executions.newest_first(flow.id)})
