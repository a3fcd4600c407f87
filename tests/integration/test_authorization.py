"""Every route of the API's one route table x every kind of caller, with the
status each must get (DESIGN.md: admin API roles; tenants and the portal).

Expectations come from the rules, not from a list of routes, so a route
added tomorrow is checked the day it is added:

* no token needed (roles None): anyone gets through;
* an expired, revoked or altered portal token: 401;
* a role the route does not name: 403; a read-only portal token writing: 403;
* tenant B on a route about tenant A's webhook: 404, as for a missing one;
* otherwise the caller got past authorization: not 401/403, no 5xx, and
  for tenant A not the "webhook not found" its scope would give.

Side effects are kept off the shared fixtures: a DELETE of a webhook gets a
fresh webhook of tenant A each time, and tenant deletes and revocations name
a scratch tenant, so tenant A's tokens keep working throughout.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from hookstream.api.app import ROUTES
from hookstream.api.routes import Route
from hookstream.tenants.tokens import PortalTokens, signing_key
from hookstream.testing.api import ADMIN_TOKEN, PUBLISHER_TOKEN, VIEWER_TOKEN, ApiClient
from hookstream.testing.processes import SECRET_KEY

# Connection refused at once: a ping by an allowed caller costs nothing.
HOOK = {"name": "authz", "url": "http://127.0.0.1:9/hook", "events": ["authz.test"]}
READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Who:
    name: str
    token: str
    role: str | None  # None: a token that must be refused (401)
    tenant: str | None = None
    read_only: bool = False


@dataclass
class World:
    tenant_a: str
    tenant_b: str
    scratch: str
    webhook_a: str
    callers: list[Who]


def altered(token: str, tenant_id: str) -> str:
    """The same signature over a payload that now names another tenant."""
    header, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = tenant_id
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


async def portal_token(api: ApiClient, tenant_id: str, read_only: bool = False) -> str:
    status, link = await api.call(
        "POST", f"/api/v1/tenants/{tenant_id}/portal", json={"readOnly": read_only}
    )
    assert status == 201, link
    return str(link["token"])


@pytest.fixture
async def world(api: ApiClient, unique: str) -> AsyncIterator[World]:
    a, b, revoked_tenant, scratch = (f"authz-{unique}-{n}" for n in "abrs")
    for tenant_id in (a, b, revoked_tenant):
        status, _ = await api.call("PUT", f"/api/v1/tenants/{tenant_id}", json={"name": tenant_id})
        assert status == 201
    webhook = await api.create_webhook(**HOOK, tenantId=a)
    token_a = await portal_token(api, a)
    revoked = await portal_token(api, revoked_tenant)
    status, _ = await api.call("POST", f"/api/v1/tenants/{revoked_tenant}/portal/revoke")
    assert status == 204
    expired = PortalTokens(signing_key(SECRET_KEY)).issue(
        a, expires_in=60, read_only=False, now=time.time() - 3600
    )
    callers = [
        Who("admin", ADMIN_TOKEN, "admin"),
        Who("viewer", VIEWER_TOKEN, "viewer"),
        Who("publisher", PUBLISHER_TOKEN, "publisher"),
        Who("tenant A", token_a, "tenant", a),
        Who("tenant A read-only", await portal_token(api, a, read_only=True), "tenant", a, True),
        Who("tenant B", await portal_token(api, b), "tenant", b),
        Who("expired", expired.token, None),
        Who("revoked", revoked, None),
        Who("altered", altered(token_a, b), None),
    ]
    yield World(a, b, scratch, webhook["id"], callers)
    for tenant_id in (a, b, revoked_tenant, scratch):
        await api.call("DELETE", f"/api/v1/tenants/{tenant_id}")


def expected(route: Route, who: Who, world: World) -> str:
    """``"401"``, ``"403"``, ``"404"`` (tenant scope) or ``"through"``."""
    if route.roles is None:
        return "through"
    if who.role is None:
        return "401"
    if who.role not in route.roles:
        return "403"
    if who.read_only and route.method not in READS:
        return "403"
    if who.tenant is not None and who.tenant != world.tenant_a and "{webhook_id}" in route.path:
        return "404"
    return "through"


async def path_for(api: ApiClient, route: Route, world: World) -> str:
    """The route's path with its parameters filled in. A DELETE of a webhook
    deletes a fresh one; tenant deletes and revocations name a scratch tenant."""
    webhook_id = world.webhook_a
    if route.method == "DELETE" and route.path.endswith("{webhook_id}"):
        webhook_id = (await api.create_webhook(**HOOK, tenantId=world.tenant_a))["id"]
    destructive = route.method == "DELETE" or route.path.endswith("/revoke")
    values = {
        "webhook_id": webhook_id,
        "tenant_id": world.scratch if destructive else world.tenant_a,
    }
    path = route.path
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end].split(":")[0]
        path = path[:start] + values.get(name, "nope") + path[end + 1 :]
    return path


async def call(api: ApiClient, method: str, path: str, token: str) -> tuple[int, Any]:
    # An empty object: past authorization most bodies are then a 422, which
    # is all this test needs to see (and changes nothing).
    body = None if method in READS or method == "DELETE" else {}
    return await api.call(method, path, json=body, token=token)


def outcome(status: int, body: Any, webhook_id: str) -> str:
    if status in (401, 403):
        return str(status)
    scoped = f"webhook {webhook_id} not found"
    if status == 404 and isinstance(body, dict) and body.get("error", {}).get("message") == scoped:
        return "404"
    assert status < 500, (status, body)
    return "through"


async def test_every_route_for_every_caller(api: ApiClient, world: World) -> None:
    wrong: list[str] = []
    for route in ROUTES:
        for who in world.callers:
            path = await path_for(api, route, world)
            status, body = await call(api, route.method, path, who.token)
            webhook_id = path.split("/")[4] if "{webhook_id}" in route.path else "-"
            got = outcome(status, body, webhook_id)
            want = expected(route, who, world)
            if got != want:
                wrong.append(
                    f"{route.method} {route.path} as {who.name}: {status} {body}, want {want}"
                )
    assert not wrong, "\n".join(wrong)


async def test_the_table_is_not_vacuous(world: World) -> None:
    """Each caller is refused somewhere and let through somewhere (but the
    refused tokens), and tenants reach webhooks and nothing of the platform's."""
    for who in world.callers:
        outcomes = {expected(route, who, world) for route in ROUTES if route.roles is not None}
        if who.role is None:
            assert outcomes == {"401"}, who.name
        elif who.role != "admin":
            assert {"403", "through"} <= outcomes, who.name
    tenant_paths = {r.path for r in ROUTES if r.roles is not None and "tenant" in r.roles}
    assert "/api/v1/webhooks/{webhook_id}/events" in tenant_paths
    # Besides its webhooks: the event types, itself, the search through its
    # own webhooks' attempts (test_api_find_deliveries.py: scoped), and
    # trying filters on its own traffic (test_filters_and_tenants.py).
    own = (
        "/api/v1/event-types",
        "/api/v1/whoami",
        "/api/v1/deliveries",
        "/api/v1/filters/test",
        "/api/v1/filters/backtest",
    )
    assert all(p.startswith("/api/v1/webhooks") or p in own for p in tenant_paths), tenant_paths
