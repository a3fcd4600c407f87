"""The admin API application."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from hookstream.api import (
    catalog,
    dashboard,
    dead_letters,
    deliveries,
    dry_runs,
    events,
    filters,
    flows,
    listeners,
    replays,
    tenants,
    webhooks,
)
from hookstream.api.auth import CALLER_KEY, auth_middleware
from hookstream.api.context import CONTEXT_KEY, kafka_resources
from hookstream.api.openapi import document
from hookstream.api.routes import ANY_ROLE, PUBLIC, Route, register
from hookstream.api.tenant_scope import check_tenant_routes, tenant_scope
from hookstream.api.wire import ANY, STRING, obj
from hookstream.console import add_console
from hookstream.http_common import (
    METRICS_KEY,
    Handler,
    add_operational_routes,
    error_middleware,
    json_response,
)
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.tokens import ROLES, Role

MAX_BODY = 1024 * 1024
OPENAPI_PATH = "/api/v1/openapi.json"


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``hookstream_api_requests_total`` by route template (bounded), never raw path."""
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[METRICS_KEY].api_requests.labels(request.method, route, str(response.status)).inc()
    return response


async def openapi(request: web.Request) -> web.Response:
    return json_response(document(ROUTES))


async def whoami(request: web.Request) -> web.Response:
    """The caller's role, so a client (the console) offers only what it may do;
    a portal token also learns its tenant and whether it is read-only."""
    caller = request[CALLER_KEY]
    if caller.tenant_id is None:
        return json_response({"role": caller.role})
    tenant = request.app[CONTEXT_KEY].tenants.find(caller.tenant_id)
    return json_response(
        {
            "role": caller.role,
            "tenantId": caller.tenant_id,
            "tenantName": tenant.name if tenant is not None else caller.tenant_id,
            "readOnly": caller.read_only,
        }
    )


# Every route of the admin API: registered and documented from this one table.
ROUTES: list[Route] = [
    *webhooks.ROUTES,
    *deliveries.ROUTES,
    *dead_letters.ROUTES,
    *catalog.ROUTES,
    *listeners.ROUTES,
    *flows.ROUTES,
    *events.ROUTES,
    *dry_runs.ROUTES,
    *filters.ROUTES,
    *replays.ROUTES,
    *dashboard.ROUTES,
    *tenants.ROUTES,
    Route(
        "GET",
        "/api/v1/whoami",
        whoami,
        "The role of the presented token",
        ANY_ROLE,
        {
            200: obj(
                {
                    "role": {"enum": list(ROLES)},
                    "tenantId": STRING,
                    "readOnly": {"type": "boolean"},
                },
                required=["role"],
            )
        },
    ),
    Route("GET", OPENAPI_PATH, openapi, "This document (OpenAPI 3.1)", PUBLIC, {200: ANY}),
]


def create_api(*, tokens: Mapping[str, Role], metrics: Metrics) -> web.Application:
    """The bare application; Kafka resources are attached through ``cleanup_ctx``
    by :func:`create_api_from_settings`."""
    app = web.Application(
        middlewares=[count_requests, error_middleware, auth_middleware(tokens), tenant_scope],
        client_max_size=MAX_BODY,
    )
    app[METRICS_KEY] = metrics
    add_operational_routes(app)
    check_tenant_routes(ROUTES)
    register(app, ROUTES)
    add_console(app)  # /ui/: the web console (page and static files need no token)
    return app


def create_api_from_settings(settings: Settings, metrics: Metrics | None = None) -> web.Application:
    if settings.token_roles is None:
        raise SystemExit("HOOKSTREAM_API_TOKENS is not set (make run generates one)")
    app = create_api(tokens=settings.token_roles, metrics=metrics or Metrics())
    app.cleanup_ctx.append(kafka_resources(settings))
    return app
