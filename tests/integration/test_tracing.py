"""Spans exported over OTLP/HTTP by every process of ``hookstream run`` when
OTEL_EXPORTER_OTLP_ENDPOINT is set, received by a collector inside the test
(hookstream/testing/otlp.py decodes the protobuf): an inbound webhook sent
with a traceparent becomes one trace, ingress request → flow run → route →
attempt, and the endpoint that receives the flow.executed webhook sees the
attempt's span in its traceparent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.otlp import OtlpReceiver, ReceivedSpan, span_tree
from hookstream.testing.receiver import Receiver
from hookstream.testing.run_process import RunProcess
from schemas.trace_context import parse_traceparent

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
CHAIN = ["ingress request", "flow run", "route", "attempt"]


@pytest.fixture
async def collector() -> AsyncIterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def traced_run(tmp_path: Path, collector: OtlpReceiver) -> AsyncIterator[RunProcess]:
    run = RunProcess(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            # The SDK's batch processor exports every 5 s by default.
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "HOOKSTREAM_EMBEDDED_STORAGE": "memory",
        },
        tmp_path / "data",
        tmp_path / "run.log",
    )
    await run.start()
    yield run
    await run.stop()


async def test_one_trace_from_the_inbound_webhook_to_the_outbound_request(
    traced_run: RunProcess,
    collector: OtlpReceiver,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    unique: str,
) -> None:
    api = ApiClient(traced_run.api_url, http)
    status, listener = await api.call("POST", "/api/v1/listeners", json={"name": unique})
    assert status == 201, listener
    status, flow = await api.call(
        "POST",
        "/api/v1/flows",
        json={
            "name": "orders",
            "listenerId": listener["id"],
            "destinationTopic": f"orders.{unique}",
            "mappings": [{"to": "order.id", "from": "id"}],
        },
    )
    assert status == 201, flow
    webhook = await api.create_webhook(
        name="flow runs",
        url=f"{receiver.url}/flows",
        events=["flow.executed"],
        payloadFormat="cloudevents",
    )
    await eventually(lambda: traced_run.worker_knows(webhook), timeout=60, interval=0.2)

    async with http.post(
        f"{traced_run.ingress_url}/hooks/{listener['id']}",
        json={"id": 7},
        headers={"traceparent": TRACEPARENT, "tracestate": "vendor=abc"},
    ) as response:
        assert response.status == 202

    [request] = await receiver.wait_for("/flows", 1, timeout=60)
    outbound = parse_traceparent(request.headers["traceparent"], request.headers["tracestate"])
    assert outbound is not None and outbound.trace_id == TRACE_ID
    assert outbound.state == "vendor=abc"

    def chain() -> dict[str, ReceivedSpan] | None:
        spans = {span.name: span for span in collector.trace(TRACE_ID)}
        return spans if set(CHAIN) <= set(spans) else None

    spans = await eventually(
        chain,
        timeout=30,
        interval=0.2,
        message=lambda: f"spans of the trace: {[s.name for s in collector.trace(TRACE_ID)]}",
    )
    print("\n" + span_tree(collector.trace(TRACE_ID), root_parent=CALLER_SPAN))  # noqa: T201
    parent = CALLER_SPAN
    for name in CHAIN:
        assert spans[name].parent_span_id == parent, f"{name} is not a child of the span before"
        parent = spans[name].span_id
    assert outbound.span_id == spans["attempt"].span_id
    assert spans["ingress request"].service == "hookstream-ingress"
    assert spans["ingress request"].kind == "server"
    assert spans["ingress request"].attributes["http.response.status_code"] == 202
    assert spans["flow run"].attributes["hookstream.flow.id"] == flow["id"]
    assert spans["route"].service == "hookstream-worker"
    attempt = spans["attempt"]
    assert attempt.kind == "client"
    assert attempt.attributes["hookstream.webhook.id"] == webhook["id"]
    assert attempt.attributes["http.response.status_code"] == 200
    assert not attempt.error
