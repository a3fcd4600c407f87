"""Inbound webhook → flow → its destination topic, and a flow.executed event
that an outbound webhook receives: the whole loop through Kafka."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from hookstream.testing.api import ApiClient, ApiServer, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import read_records, values
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver


async def read_topic(kafka: str, topic: str, count: int) -> list[Any]:
    return values(await read_records(kafka, topic, count=count))


async def test_inbound_webhook_runs_its_flow_and_emits_flow_events(
    api: ApiClient,
    worker: WorkerProcess,
    ingress_server: ApiServer,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    kafka: str,
    unique: str,
) -> None:
    status, listener = await api.call("POST", "/api/v1/listeners", json={"name": "shop"})
    assert status == 201
    destination = f"orders.{unique}"
    status, flow = await api.call(
        "POST",
        "/api/v1/flows",
        json={
            "name": "paid orders",
            "listenerId": listener["id"],
            "destinationTopic": destination,
            "filter": "payload.status != 'draft'",
            "mappings": [
                {"to": "order.id", "from": "data.id"},
                {"to": "order.total", "from": "data.amount"},
            ],
            "constants": [{"to": "source", "value": "shop"}],
        },
    )
    assert status == 201, flow
    failing_status, failing = await api.call(
        "POST",
        "/api/v1/flows",
        json={
            "name": "needs customer",
            "listenerId": listener["id"],
            "destinationTopic": destination,
            "mappings": [{"to": "customer", "from": "data.customer"}],
        },
    )
    assert failing_status == 201
    webhook = await live_webhook(
        api,
        worker,
        name="flow events",
        url=f"{receiver.url}/flows",
        events=["flow.executed", "flow.failed"],
    )
    assert webhook["events"] == ["flow.executed", "flow.failed"]
    # No wait for the worker to learn the flows: run_flows catches up with
    # the flows table before each batch of triggers (read-after-write).

    hook = f"{ingress_server.url}/hooks/{listener['id']}"
    for body in (
        {"status": "draft", "data": {"id": 0}},
        {"status": "paid", "data": {"id": 7, "amount": 9.5}},
    ):
        async with http.post(hook, json=body) as response:
            assert response.status == 202

    [output] = await read_topic(kafka, destination, 1)
    assert output == {"order": {"id": 7, "total": 9.5}, "source": "shop"}

    mine = {flow["id"], failing["id"]}

    def own_flow_events() -> list[dict[str, Any]] | None:
        # The webhook gets every flow's events; count only this test's flows.
        bodies = [orjson.loads(r.body) for r in receiver.on_path("/flows")]
        own = [body for body in bodies if body["entityId"] in mine]
        return own if len(own) >= 3 else None  # executed + 2 x failed

    by_type: dict[str, list[dict[str, Any]]] = {}
    for body in await eventually(own_flow_events, timeout=90, message="three flow events"):
        by_type.setdefault(body["eventType"], []).append(body)
    [executed] = by_type["flow.executed"]
    assert executed["entityId"] == flow["id"]
    failed_flows = {event["entityId"] for event in by_type["flow.failed"]}
    assert failed_flows == {failing["id"]}  # the draft was filtered out of "paid orders"

    async def executions() -> dict[str, Any] | None:
        status, runs = await api.call("GET", f"/api/v1/flows/{flow['id']}/executions")
        return runs if status == 200 and runs["data"] else None

    runs = await eventually(executions, timeout=30, interval=0.2, message="a flow execution")
    assert runs["data"][0]["eventType"] == "flow.executed"
    assert runs["data"][0]["entity"]["destinationTopic"] == destination
    for path in (f"/api/v1/flows/{flow['id']}", f"/api/v1/flows/{failing['id']}"):
        assert (await api.call("DELETE", path))[0] == 204
    assert (await api.call("DELETE", f"/api/v1/listeners/{listener['id']}"))[0] == 204


async def test_flow_api_validates(api: ApiClient) -> None:
    status, body = await api.call(
        "POST",
        "/api/v1/flows",
        json={
            "name": "x",
            "listenerId": "ls_missing",
            "destinationTopic": "out.topic",
        },
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "listenerId"
    status, body = await api.call(
        "POST",
        "/api/v1/flows",
        json={
            "name": "x",
            "listenerId": "ls_missing",
            "destinationTopic": "out",
            "filter": "a.[",
        },
    )
    assert status == 422 and "JMESPath" in body["error"]["message"]
