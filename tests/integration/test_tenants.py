"""Tenants and portal tokens through the real API (DESIGN.md, tenants)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from hookstream.tenants.tokens import PortalTokens, signing_key
from hookstream.testing.api import VIEWER_TOKEN, ApiClient
from hookstream.testing.processes import SECRET_KEY

HOOK = {"name": "crm", "url": "https://crm.example/hook", "events": ["order.created"]}


@pytest.fixture
async def tenants(api: ApiClient, unique: str) -> AsyncIterator[list[str]]:
    """Ids for this test's tenants, deleted (with their webhooks) afterwards."""
    ids = [f"t-{unique}-{n}" for n in range(3)]
    yield ids
    for tenant_id in ids:
        await api.call("DELETE", f"/api/v1/tenants/{tenant_id}")


async def portal(api: ApiClient, tenant_id: str, **body: object) -> dict[str, str]:
    status, link = await api.call("POST", f"/api/v1/tenants/{tenant_id}/portal", json=body)
    assert status == 201, link
    return link  # type: ignore[no-any-return]


async def test_put_creates_then_updates_and_lists_in_pages(
    api: ApiClient, tenants: list[str]
) -> None:
    a, b, c = tenants
    status, body = await api.call("PUT", f"/api/v1/tenants/{a}", json={"name": "Acme"})
    assert status == 201, body
    assert body["id"] == a and body["metadata"] == {} and body["portalRevokedAt"] is None
    status, body = await api.call(
        "PUT", f"/api/v1/tenants/{a}", json={"name": "Acme Inc", "metadata": {"plan": "pro"}}
    )
    assert status == 200 and body["name"] == "Acme Inc" and body["metadata"] == {"plan": "pro"}
    for tenant_id in (b, c):
        status, _ = await api.call("PUT", f"/api/v1/tenants/{tenant_id}", json={"name": "x"})
        assert status == 201
    status, body = await api.call("GET", f"/api/v1/tenants/{a}", token=VIEWER_TOKEN)
    assert status == 200 and body["name"] == "Acme Inc"

    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await api.call("GET", f"/api/v1/tenants{query}")
        assert status == 200 and len(page["data"]) <= 2, page
        seen += [item["id"] for item in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert [t for t in seen if t in tenants] == tenants


@pytest.mark.parametrize("bad", ["a" * 129, "sp ace", "slash%2Fin", "ümlaut", "a*b"])
async def test_a_tenant_id_outside_the_rule_is_422(api: ApiClient, bad: str) -> None:
    status, body = await api.call("PUT", f"/api/v1/tenants/{bad}", json={"name": "x"})
    assert status == 422, body


async def test_webhooks_name_existing_tenants_and_go_with_them(
    api: ApiClient, tenants: list[str]
) -> None:
    a = tenants[0]
    status, body = await api.call("POST", "/api/v1/webhooks", json={**HOOK, "tenantId": a})
    assert status == 422 and body["error"]["details"][0]["field"] == "tenantId"
    await api.call("PUT", f"/api/v1/tenants/{a}", json={"name": "Acme"})
    webhook = await api.create_webhook(**HOOK, tenantId=a)
    other = await api.create_webhook(**HOOK)
    assert webhook["tenantId"] == a
    status, body = await api.call(
        "PATCH", f"/api/v1/webhooks/{other['id']}", json={"tenantId": tenants[1]}
    )
    assert status == 422, body

    status, _ = await api.call("DELETE", f"/api/v1/tenants/{a}")
    assert status == 204
    status, _ = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}")
    assert status == 404
    status, _ = await api.call("GET", f"/api/v1/webhooks/{other['id']}")
    assert status == 200
    status, _ = await api.call("GET", f"/api/v1/tenants/{a}")
    assert status == 404


async def test_a_portal_token_sees_and_changes_only_its_tenant(
    api: ApiClient, tenants: list[str]
) -> None:
    a, b, _ = tenants
    for tenant_id in (a, b):
        await api.call("PUT", f"/api/v1/tenants/{tenant_id}", json={"name": tenant_id})
    theirs = await api.create_webhook(**HOOK, tenantId=b)
    link = await portal(api, a, expiresIn=3600)
    url = urlsplit(link["url"])
    assert url.path == "/ui/portal" and not url.query
    assert url.fragment == f"token={link['token']}"
    token = link["token"]

    status, me = await api.call("GET", "/api/v1/whoami", token=token)
    assert status == 200 and me["role"] == "tenant" and me["tenantId"] == a

    status, mine = await api.call("POST", "/api/v1/webhooks", json=HOOK, token=token)
    assert status == 201 and mine["tenantId"] == a, mine
    status, body = await api.call(
        "POST", "/api/v1/webhooks", json={**HOOK, "tenantId": b}, token=token
    )
    assert status == 422, body
    status, listing = await api.call("GET", "/api/v1/webhooks", token=token)
    assert [item["id"] for item in listing["data"]] == [mine["id"]]
    for method, path in [
        ("GET", f"/api/v1/webhooks/{theirs['id']}"),
        ("PATCH", f"/api/v1/webhooks/{theirs['id']}"),
        ("DELETE", f"/api/v1/webhooks/{theirs['id']}"),
        ("GET", f"/api/v1/webhooks/{theirs['id']}/events"),
        ("GET", f"/api/v1/webhooks/{theirs['id']}/dead-letters"),
    ]:
        status, _ = await api.call(method, path, json={"name": "x"}, token=token)
        assert status == 404, (method, path)
    status, body = await api.call(
        "PATCH", f"/api/v1/webhooks/{mine['id']}", json={"enabled": False}, token=token
    )
    assert status == 200 and body["enabled"] is False and body["tenantId"] == a
    for method, path in [("GET", "/api/v1/tenants"), ("GET", "/api/v1/listeners")]:
        status, _ = await api.call(method, path, token=token)
        assert status == 403, path
    status, _ = await api.call("DELETE", f"/api/v1/webhooks/{mine['id']}", token=token)
    assert status == 204


async def test_read_only_expired_revoked_and_altered_tokens(
    api: ApiClient, tenants: list[str]
) -> None:
    a = tenants[0]
    await api.call("PUT", f"/api/v1/tenants/{a}", json={"name": "Acme"})
    read_only = (await portal(api, a, readOnly=True))["token"]
    status, _ = await api.call("GET", "/api/v1/webhooks", token=read_only)
    assert status == 200
    status, _ = await api.call("POST", "/api/v1/webhooks", json=HOOK, token=read_only)
    assert status == 403

    expired = PortalTokens(signing_key(SECRET_KEY)).issue(
        a, expires_in=60, read_only=False, now=time.time() - 3600
    )
    status, _ = await api.call("GET", "/api/v1/webhooks", token=expired.token)
    assert status == 401
    token = (await portal(api, a))["token"]
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    status, _ = await api.call("GET", "/api/v1/webhooks", token=altered)
    assert status == 401

    status, _ = await api.call("POST", f"/api/v1/tenants/{a}/portal/revoke")
    assert status == 204
    for old in (token, read_only):
        status, _ = await api.call("GET", "/api/v1/webhooks", token=old)
        assert status == 401
    fresh = (await portal(api, a))["token"]
    status, _ = await api.call("GET", "/api/v1/webhooks", token=fresh)
    assert status == 200


@pytest.mark.parametrize(
    "body", [{"expiresIn": 59}, {"expiresIn": 604801}, {"expiresIn": "60"}, {"other": 1}]
)
async def test_portal_link_limits(api: ApiClient, tenants: list[str], body: object) -> None:
    await api.call("PUT", f"/api/v1/tenants/{tenants[0]}", json={"name": "Acme"})
    status, answer = await api.call("POST", f"/api/v1/tenants/{tenants[0]}/portal", json=body)
    assert status == 422, answer


async def test_a_tenant_id_created_again_honours_none_of_its_old_links(
    api: ApiClient, tenants: list[str]
) -> None:
    a = tenants[0]
    await api.call("PUT", f"/api/v1/tenants/{a}", json={"name": "Acme"})
    status, link = await api.call("POST", f"/api/v1/tenants/{a}/portal")  # no body: defaults
    assert status == 201, link
    old = link["token"]
    status, _ = await api.call("GET", "/api/v1/webhooks", token=old)
    assert status == 200
    status, _ = await api.call("DELETE", f"/api/v1/tenants/{a}")
    assert status == 204
    status, body = await api.call("PUT", f"/api/v1/tenants/{a}", json={"name": "Acme again"})
    assert status == 201, body
    assert body["portalRevokedAt"] is None
    status, _ = await api.call("GET", "/api/v1/webhooks", token=old)
    assert status == 401
    fresh = (await portal(api, a))["token"]
    status, _ = await api.call("GET", "/api/v1/webhooks", token=fresh)
    assert status == 200
