"""The inbound log: every request to a listener, with its outcome, secrets redacted."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import aiohttp
import orjson

from hookstream.testing.api import PUBLISHER_TOKEN, VIEWER_TOKEN, ApiClient, ApiServer
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess

SECRET = "inbound-log-secret-value"


async def logged(api: ApiClient, listener_id: str, count: int) -> list[dict[str, Any]]:
    async def entries() -> list[dict[str, Any]] | None:
        status, body = await api.call(
            "GET", f"/api/v1/listeners/{listener_id}/requests", token=VIEWER_TOKEN
        )
        assert status == 200, body
        return body["data"] if len(body["data"]) >= count else None

    return await eventually(entries, timeout=30, interval=0.2, message="inbound log entries")


async def test_every_request_is_logged_with_outcome_and_no_secret(
    api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession, unique: str
) -> None:
    status, listener = await api.call(
        "POST",
        "/api/v1/listeners",
        json={"name": f"log-{unique}", "provider": "github", "verification": {"secret": SECRET}},
    )
    assert status == 201
    url = f"{ingress_server.url}/hooks/{listener['id']}"
    good = orjson.dumps({"n": unique, "pad": "x" * 6000})
    signature = "sha256=" + hmac.new(SECRET.encode(), good, hashlib.sha256).hexdigest()
    sent = [
        # (body, content type, extra headers, expected status)
        (good, "application/json", {"X-Hub-Signature-256": signature}, 202),
        (b'{"n": 2}', "application/json", {"X-Hub-Signature-256": "sha256=" + "0" * 64}, 401),
        (b"plain", "text/plain", {}, 415),
        (
            orjson.dumps({"echo": SECRET}),
            "application/json",
            {"Authorization": "Bearer hunter2", "Cookie": "s=1"},
            401,
        ),
    ]
    for body, content_type, headers, expected in sent:
        async with http.post(
            url, data=body, headers={"Content-Type": content_type, **headers}
        ) as response:
            assert response.status == expected, await response.text()

    entries = await logged(api, listener["id"], len(sent))
    newest_first = list(reversed([expected for *_, expected in sent]))
    assert [e["status"] for e in entries] == newest_first
    echo, plain, forged, accepted = entries
    assert accepted["verified"] is True and accepted["reason"] is None
    assert accepted["method"] == "POST" and accepted["contentType"] == "application/json"
    assert accepted["headers"]["X-Hub-Signature-256"] == "[redacted]"
    assert accepted["body"].startswith('{"n":"' + unique) and "more characters" in accepted["body"]
    assert len(accepted["body"]) < 4200
    assert accepted["deliveryId"].startswith("in_")  # what the flow trigger carries
    assert [e["deliveryId"] for e in (forged, plain, echo)] == [None, None, None]
    assert all(e["flowRuns"] == [] for e in entries)  # the listener has no flow
    assert forged["verified"] is False and forged["reason"].startswith("verification failed")
    assert plain["verified"] is None and "text/plain" in plain["reason"]
    assert echo["headers"]["Authorization"] == "[redacted]"
    assert echo["headers"]["Cookie"] == "[redacted]"
    everything = orjson.dumps(entries).decode()
    assert SECRET not in everything and "hunter2" not in everything
    assert "[redacted]" in echo["body"]


async def test_inbound_log_errors(api: ApiClient) -> None:
    status, body = await api.call("GET", "/api/v1/listeners/ls_nope/requests")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _ = await api.call("GET", "/api/v1/listeners/ls_nope/requests", token=None)
    assert status == 401
    status, _ = await api.call("GET", "/api/v1/listeners/ls_nope/requests", token=PUBLISHER_TOKEN)
    assert status == 403


async def test_an_accepted_request_names_the_flow_runs_it_started(
    api: ApiClient,
    worker: WorkerProcess,
    ingress_server: ApiServer,
    http: aiohttp.ClientSession,
    unique: str,
) -> None:
    status, listener = await api.call("POST", "/api/v1/listeners", json={"name": f"runs-{unique}"})
    assert status == 201, listener
    flows = []
    for name, mappings in (("copy", []), ("needs customer", [{"to": "c", "from": "customer"}])):
        status, flow = await api.call(
            "POST",
            "/api/v1/flows",
            json={
                "name": name,
                "listenerId": listener["id"],
                "destinationTopic": f"runs.{unique}",
                "mappings": mappings,
            },
        )
        assert status == 201, flow
        flows.append(flow)
    async with http.post(
        f"{ingress_server.url}/hooks/{listener['id']}", json={"order": 1}
    ) as response:
        assert response.status == 202
        delivery_id = (await response.json())["deliveryId"]

    async def with_runs() -> dict[str, Any] | None:
        [entry] = await logged(api, listener["id"], 1)
        return entry if len(entry["flowRuns"]) == len(flows) else None

    entry = await eventually(with_runs, timeout=30, interval=0.2, message="flow runs listed")
    assert entry["deliveryId"] == delivery_id and entry["method"] == "POST"
    runs = {run["flowId"]: run for run in entry["flowRuns"]}
    copy, failing = flows
    assert (runs[copy["id"]]["status"], runs[failing["id"]]["status"]) == ("executed", "failed")
    assert runs[copy["id"]]["flowName"] == "copy"
    status, executions = await api.call("GET", f"/api/v1/flows/{copy['id']}/executions")
    assert status == 200
    assert [e["eventId"] for e in executions["data"]] == [runs[copy["id"]]["executionId"]]
    for flow in flows:
        await api.call("DELETE", f"/api/v1/flows/{flow['id']}")
    await api.call("DELETE", f"/api/v1/listeners/{listener['id']}")
