"""An OTLP/HTTP trace receiver on 127.0.0.1: what a collector would get from
hookstream's processes, decoded from protobuf (opentelemetry-proto's
ExportTraceServiceRequest), for tests and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from hookstream.testing.loopback import LoopbackServer

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root
    attributes: dict[str, Any]
    error: bool
    duration_ms: float


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    return getattr(value, which) if which else None


def _span(service: str, span: Any) -> ReceivedSpan:
    return ReceivedSpan(
        service=service,
        name=span.name,
        kind=KINDS.get(span.kind, str(span.kind)),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes={a.key: _value(a.value) for a in span.attributes},
        error=span.status.code == 2,  # STATUS_CODE_ERROR
        duration_ms=(span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
    )


def decode(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        service = str(resource.get("service.name", ""))
        for scope in resource_spans.scope_spans:
            spans += [_span(service, span) for span in scope.spans]
    return spans


@dataclass
class OtlpReceiver:
    """``decode=False`` only counts (the benchmark: decoding is not the cost
    being measured)."""

    decode: bool = True
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    port: int = 0
    _server: LoopbackServer | None = None

    @property
    def endpoint(self) -> str:
        """The value of OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/traces", self._export)
        self._server = LoopbackServer(app, self.port)
        await self._server.start()
        self.port = self._server.port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def _export(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests += 1
        if self.decode:
            self.spans += decode(body)
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]


def span_tree(spans: list[ReceivedSpan], root_parent: str = "") -> str:
    """The spans of one trace as an indented tree (docs/cloudevents.md shows one)."""
    children: dict[str, list[ReceivedSpan]] = {}
    ids = {span.span_id for span in spans}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else root_parent
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for span in children.get(parent, []):
            shown = dict(sorted(span.attributes.items()))
            lines.append(
                f"{'  ' * depth}{span.name} [{span.service}, {span.kind}"
                f"{', error' if span.error else ''}] span {span.span_id} {shown}"
            )
            walk(span.span_id, depth + 1)

    walk(root_parent, 0)
    return "\n".join(lines)
