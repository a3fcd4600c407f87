"""The admin API's one route table: every route is registered with aiohttp
*and* described in ``/api/v1/openapi.json`` from the same :class:`Route`
entry, so the two cannot drift. An entry also says which roles may call it;
the auth middleware reads that from the matched route."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from hookstream.http_common import Handler
from hookstream.tokens import ROLES, Role

# Who may call a route.
READ: frozenset[Role] = frozenset({"admin", "viewer"})
WRITE: frozenset[Role] = frozenset({"admin"})
PUBLISH: frozenset[Role] = frozenset({"admin", "publisher"})
ANY_ROLE: frozenset[Role] = frozenset(ROLES)
# Routes a portal token may call as well: its own tenant's webhooks and what
# goes with them (hookstream/api/tenant_scope.py keeps it to those).
TENANT_READ: frozenset[Role] = READ | {"tenant"}
TENANT_WRITE: frozenset[Role] = WRITE | {"tenant"}
PUBLIC: frozenset[Role] | None = None  # no token needed

Schema = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """A query parameter (path parameters come from the path template)."""

    name: str
    schema: Schema
    description: str = ""


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # aiohttp template; also the OpenAPI path, e.g. /api/v1/webhooks/{webhook_id}
    handler: Handler
    summary: str
    roles: frozenset[Role] | None
    # status → JSON schema of the body, or None for no body (204)
    responses: Mapping[int, Schema | None]
    request: Schema | None = None  # JSON schema of the request body
    # Extra error statuses this route can answer besides the ones every
    # route of its kind can (see hookstream.api.openapi.error_statuses).
    errors: tuple[int, ...] = ()
    query: tuple[Param, ...] = ()
    description: str = ""
    response_headers: Mapping[int, Mapping[str, str]] = field(default_factory=dict)


ROUTE_KEY: web.AppKey[dict[AbstractRoute, Route]] = web.AppKey("api_routes")


def register(app: web.Application, table: list[Route]) -> None:
    """Add every route of ``table`` to ``app`` and remember which entry each
    aiohttp route came from (for role checks)."""
    entries: dict[AbstractRoute, Route] = {}
    for entry in table:
        route = app.router.add_route(entry.method, entry.path, entry.handler)
        entries[route] = entry
    app[ROUTE_KEY] = entries


def entry_for(request: web.Request) -> Route | None:
    entries = request.app.get(ROUTE_KEY)
    if entries is None:
        return None
    return entries.get(request.match_info.route)
