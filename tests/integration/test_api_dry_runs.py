"""Dry runs through the real API: a flow on a sample, a listener on a sample
request; neither writes anything."""

from __future__ import annotations

import hashlib
import hmac

from hookstream.testing.api import PUBLISHER_TOKEN, VIEWER_TOKEN, ApiClient

SECRET = "dry-run-secret"


async def test_flow_dry_run(api: ApiClient) -> None:
    flow = {
        "filter": "payload.action == 'opened'",
        "mappings": [{"to": "issue.number", "from": "number"}],
        "constants": [{"to": "source", "value": "github"}],
    }
    status, body = await api.call(
        "POST",
        "/api/v1/flows/test",
        json={"flow": flow, "trigger": {"action": "opened", "number": 7}},
        token=VIEWER_TOKEN,
    )
    assert status == 200, body
    assert body["status"] == "executed" and body["error"] is None
    assert body["output"] == {"issue": {"number": 7}, "source": "github"}

    status, body = await api.call(
        "POST", "/api/v1/flows/test", json={"flow": flow, "trigger": {"payload": {"action": "x"}}}
    )
    assert status == 200 and body["status"] == "skipped" and body["output"] is None

    status, body = await api.call(
        "POST", "/api/v1/flows/test", json={"flow": flow, "trigger": {"action": "opened"}}
    )
    assert status == 200 and body["status"] == "failed" and "number" in body["error"]


async def test_flow_dry_run_errors(api: ApiClient) -> None:
    status, body = await api.call("POST", "/api/v1/flows/test", json={"flow": {"filter": "[["}})
    assert status == 422 and body["error"]["details"][0]["field"] == "flow.filter"
    status, body = await api.call("POST", "/api/v1/flows/test", json={"flow": "nope"})
    assert status == 422 and body["error"]["details"][0]["field"] == "flow"
    status, body = await api.call("POST", "/api/v1/flows/test", json={"trigger": {}})
    assert status == 422
    status, _ = await api.call("POST", "/api/v1/flows/test", data=b"[1")
    assert status == 400
    status, _ = await api.call("POST", "/api/v1/flows/test", json={"flow": {}}, token=None)
    assert status == 401
    status, _ = await api.call(
        "POST", "/api/v1/flows/test", json={"flow": {}}, token=PUBLISHER_TOKEN
    )
    assert status == 403


async def test_listener_dry_run_writes_nothing(api: ApiClient, unique: str) -> None:
    status, listener = await api.call(
        "POST",
        "/api/v1/listeners",
        json={"name": f"dry-{unique}", "provider": "github", "verification": {"secret": SECRET}},
    )
    assert status == 201
    path = f"/api/v1/listeners/{listener['id']}/test"
    xml = "<push><ref>main</ref></push>"
    signature = "sha256=" + hmac.new(SECRET.encode(), xml.encode(), hashlib.sha256).hexdigest()
    sample = {
        "headers": {"X-Hub-Signature-256": signature, "Content-Type": "application/xml"},
        "body": xml,
    }
    status, body = await api.call("POST", path, json=sample, token=VIEWER_TOKEN)
    assert status == 200, body
    assert body == {
        "status": 202,
        "verified": True,
        "reason": None,
        "payload": {"push": {"ref": "main"}},
    }

    forged = {**sample, "headers": {"X-Hub-Signature-256": "sha256=00"}, "contentType": "text/xml"}
    status, body = await api.call("POST", path, json=forged)
    assert status == 200 and body["status"] == 401 and body["verified"] is False
    assert SECRET not in body["reason"] and body["payload"] is None

    status, body = await api.call("POST", path, json={**sample, "contentType": "text/plain"})
    assert status == 200 and body["status"] == 415

    status, _ = await api.call(
        "PATCH", f"/api/v1/listeners/{listener['id']}", json={"enabled": False}
    )
    assert status == 200
    status, body = await api.call("POST", path, json=sample)
    assert status == 200 and body["status"] == 404 and body["verified"] is True

    status, body = await api.call("GET", f"/api/v1/listeners/{listener['id']}/requests")
    assert status == 200 and body["data"] == []  # the ingress never saw a thing


async def test_listener_dry_run_errors(api: ApiClient) -> None:
    status, _ = await api.call("POST", "/api/v1/listeners/ls_nope/test", json={})
    assert status == 404
    status, body = await api.call(
        "POST", "/api/v1/listeners/ls_nope/test", json={}, token=PUBLISHER_TOKEN
    )
    assert status == 403
    status, listener = await api.call("POST", "/api/v1/listeners", json={"name": "dry-errors"})
    assert status == 201
    path = f"/api/v1/listeners/{listener['id']}/test"
    for bad in ({"headers": {"X": 1}}, {"body": {"not": "text"}}, {"extra": True}):
        status, body = await api.call("POST", path, json=bad)
        assert status == 422, (bad, body)
    await api.call("DELETE", f"/api/v1/listeners/{listener['id']}")
