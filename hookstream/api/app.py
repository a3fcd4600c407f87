"""The admin API application."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from hookstream.api import catalog, deliveries, flows, listeners, webhooks
from hookstream.api.auth import OPENAPI_PATH, auth_middleware
from hookstream.api.context import kafka_resources
from hookstream.api.openapi import openapi
from hookstream.http_common import (
    METRICS_KEY,
    Handler,
    add_operational_routes,
    error_middleware,
)
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.tokens import Role

MAX_BODY = 1024 * 1024


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``hookstream_api_requests_total`` by route template (bounded), never raw path."""
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[METRICS_KEY].api_requests.labels(request.method, route, str(response.status)).inc()
    return response


def create_api(*, tokens: Mapping[str, Role], metrics: Metrics) -> web.Application:
    """The bare application; Kafka resources are attached through ``cleanup_ctx``
    by :func:`create_api_from_settings`."""
    app = web.Application(
        middlewares=[count_requests, error_middleware, auth_middleware(tokens)],
        client_max_size=MAX_BODY,
    )
    app[METRICS_KEY] = metrics
    add_operational_routes(app)
    app.add_routes(webhooks.routes)
    app.add_routes(deliveries.routes)
    app.add_routes(catalog.routes)
    app.add_routes(listeners.routes)
    app.add_routes(flows.routes)
    app.router.add_get(OPENAPI_PATH, openapi)
    return app


def create_api_from_settings(settings: Settings, metrics: Metrics | None = None) -> web.Application:
    if settings.token_roles is None:
        raise SystemExit("HOOKSTREAM_API_TOKENS is not set (make run generates one)")
    app = create_api(tokens=settings.token_roles, metrics=metrics or Metrics())
    app.cleanup_ctx.append(kafka_resources(settings))
    return app
