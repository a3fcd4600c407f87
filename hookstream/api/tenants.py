"""Admin API routes for tenants and their portal links."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY, ApiContext
from hookstream.api.routes import READ, WRITE, Param, Route
from hookstream.api.wire import BOOLEAN, STRING, TIME, array, nullable, obj
from hookstream.errors import invalid_field
from hookstream.http_common import json_response, read_json_object
from hookstream.tenants.store import DEFAULT_PAGE, MAX_PAGE, parse_limit
from schemas.tenants import TENANT_ID_RULE, PortalLinkSpec, TenantSpec
from schemas.timestamps import iso_from_millis

BASE = "/api/v1/tenants"
ONE = BASE + "/{tenant_id}"
# Where a portal link opens the console; the token follows in the fragment,
# which browsers never send to a server, proxy or Referer header.
PORTAL_PAGE = "/ui/portal"


def require_tenant(ctx: ApiContext, body: dict[str, Any]) -> None:
    """A webhook body's ``tenantId`` names an existing tenant (422 otherwise)."""
    tenant_id = body.get("tenantId")
    if isinstance(tenant_id, str) and ctx.tenants.find(tenant_id) is None:
        message = f"no tenant {tenant_id}; create it with PUT {BASE}/{{tenantId}} first"
        raise invalid_field("tenantId", message)


async def put_tenant(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    tenant_id = request.match_info["tenant_id"]
    tenant, created = await ctx.tenants.put(tenant_id, await read_json_object(request))
    headers = {"Location": f"{BASE}/{tenant_id}"} if created else None
    return json_response(tenant.public(), status=201 if created else 200, headers=headers)


async def list_tenants(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    limit = parse_limit(request.query.get("limit"))
    tenants, next_cursor = ctx.tenants.page(limit=limit, cursor=request.query.get("cursor"))
    return json_response({"data": [t.public() for t in tenants], "nextCursor": next_cursor})


async def get_tenant(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    return json_response(ctx.tenants.get(request.match_info["tenant_id"]).public())


async def delete_tenant(request: web.Request) -> web.Response:
    """The tenant's webhooks go first: should this fail midway, the tenant
    is still there and the same DELETE finishes the job."""
    ctx = request.app[CONTEXT_KEY]
    tenant = ctx.tenants.get(request.match_info["tenant_id"])
    for webhook in ctx.webhooks.list():
        if webhook.tenant_id == tenant.id:
            await ctx.webhooks.delete(webhook.id)
    await ctx.tenants.delete(tenant.id)
    return web.Response(status=204)


async def portal_link(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    tenant = ctx.tenants.get(request.match_info["tenant_id"])
    # Both fields have defaults: no body at all asks for the default link.
    body = await read_json_object(request) if request.can_read_body else {}
    spec = PortalLinkSpec.model_validate(body)
    issued = ctx.portal.issue(tenant.id, expires_in=spec.expires_in, read_only=spec.read_only)
    url = f"{ctx.settings.api_url.rstrip('/')}{PORTAL_PAGE}#token={issued.token}"
    link = {
        "token": issued.token,
        "url": url,
        "expiresAt": iso_from_millis(issued.expires_at * 1000),
        "tenantId": tenant.id,
        "readOnly": spec.read_only,
    }
    return json_response(link, status=201)


async def revoke_portal(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    await ctx.tenants.revoke_portal(request.match_info["tenant_id"], time.time_ns() // 1000)
    return web.Response(status=204)


TENANT = obj(
    {
        "id": STRING,
        "name": STRING,
        "metadata": {"type": "object"},
        "createdAt": TIME,
        "updatedAt": TIME,
        "portalRevokedAt": nullable(TIME),
    }
)
TENANT_SPEC = TenantSpec.model_json_schema(by_alias=True)
PORTAL_SPEC = PortalLinkSpec.model_json_schema(by_alias=True)
PORTAL_LINK = obj(
    {"token": STRING, "url": STRING, "expiresAt": TIME, "tenantId": STRING, "readOnly": BOOLEAN}
)

ROUTES = [
    Route("GET", BASE, list_tenants, "List tenants by id, a page at a time", READ,
          {200: obj({"data": array(TENANT), "nextCursor": nullable(STRING)})},
          query=(
              Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                              "default": DEFAULT_PAGE}, "page size"),
              Param("cursor", STRING, "nextCursor of the previous page"),
          )),
    Route("PUT", ONE, put_tenant, "Create (201) or update (200) a tenant", WRITE,
          {200: TENANT, 201: TENANT}, request=TENANT_SPEC, errors=(503,),
          description=f"The id is the platform's own customer id: {TENANT_ID_RULE}, else 422.",
          response_headers={201: {"Location": "the new tenant's path"}}),
    Route("GET", ONE, get_tenant, "Read a tenant", READ, {200: TENANT}),
    Route("DELETE", ONE, delete_tenant, "Delete a tenant and its webhooks", WRITE, {204: None},
          errors=(503,)),
    Route("POST", ONE + "/portal", portal_link,
          "A portal link: a token for this tenant's webhooks, and the console URL with it",
          WRITE, {201: PORTAL_LINK}, request=PORTAL_SPEC,
          description=(
              "expiresIn is 60 to 604800 seconds (default 86400); readOnly tokens cannot "
              "write. The url carries the token in its fragment (#token=...), never in a "
              "query string. The token is a Bearer token with role tenant."
          )),
    Route("POST", ONE + "/portal/revoke", revoke_portal,
          "Refuse every portal token of this tenant issued before now", WRITE, {204: None},
          errors=(503,)),
]  # fmt: skip
