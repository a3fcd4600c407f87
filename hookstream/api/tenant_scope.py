"""What a portal token (role ``tenant``) sees: its own tenant's webhooks only.

One middleware does it for every route with a ``{webhook_id}`` (read,
update, delete, events, redeliver, ping, dead letters, recover, replay): a
webhook of another tenant, or of none, answers 404 exactly as a missing one,
so a portal user cannot even learn which ids exist. The few tenant routes
without a webhook id scope themselves (list and create webhooks) or show
nothing tenant-specific (event types, whoami); :func:`check_tenant_routes`
refuses at start-up any other route opened to tenants, so a new route cannot
be opened to them by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from hookstream.api.auth import CALLER_KEY
from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import Route
from hookstream.errors import NotFoundError, invalid_field
from hookstream.http_common import Handler

WEBHOOK_PARAM = "{webhook_id}"
# Tenant routes without a webhook id, and why each is safe.
SCOPES_ITSELF = frozenset(
    {
        ("GET", "/api/v1/webhooks"),  # lists the caller's tenant's webhooks only
        ("POST", "/api/v1/webhooks"),  # sets tenantId to the caller's tenant
        ("GET", "/api/v1/event-types"),  # the types one may subscribe to; no tenant data
        ("GET", "/api/v1/deliveries"),  # looks through the caller's tenant's webhooks only
        ("GET", "/api/v1/whoami"),  # the caller itself
        ("POST", "/api/v1/filters/test"),  # evaluates the caller's own filter and event
        ("POST", "/api/v1/filters/backtest"),  # on the caller's tenant's events only
    }
)


def check_tenant_routes(table: Iterable[Route]) -> None:
    """Every route open to the ``tenant`` role names a webhook or scopes itself."""
    for route in table:
        if route.roles is None or "tenant" not in route.roles:
            continue
        if WEBHOOK_PARAM not in route.path and (route.method, route.path) not in SCOPES_ITSELF:
            raise RuntimeError(
                f"{route.method} {route.path} is open to tenants but is not scoped to one; "
                "see hookstream/api/tenant_scope.py"
            )


def caller_tenant(request: web.Request) -> str | None:
    """The tenant of a portal token; None for every other caller."""
    caller = request.get(CALLER_KEY)
    return caller.tenant_id if caller is not None else None


def with_caller_tenant(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """A webhook body as a portal token may write it: in its own tenant.
    ``tenantId`` may be left out (it is set) but never names another tenant."""
    tenant_id = caller_tenant(request)
    if tenant_id is None:
        return body
    named = body.get("tenantId", tenant_id)
    if named != tenant_id:
        message = "a portal token creates and changes webhooks of its own tenant only"
        raise invalid_field("tenantId", message)
    return {**body, "tenantId": tenant_id}


@web.middleware
async def tenant_scope(request: web.Request, handler: Handler) -> web.StreamResponse:
    tenant_id = caller_tenant(request)
    webhook_id = request.match_info.get("webhook_id")
    if tenant_id is not None and webhook_id is not None:
        webhook = request.app[CONTEXT_KEY].webhooks.table.get(webhook_id)
        if webhook is None or webhook.tenant_id != tenant_id:
            raise NotFoundError(f"webhook {webhook_id} not found")
    return await handler(request)
