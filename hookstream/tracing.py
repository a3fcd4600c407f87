"""Spans, behind one small object: :class:`Tracing`.

Unconfigured (no ``OTEL_EXPORTER_OTLP_ENDPOINT``), it records and exports
nothing and the OpenTelemetry SDK is not even imported: a span is only its
W3C trace context (schemas/trace_context.py), so a ``traceparent`` still
travels from the event record to the outbound request. Configured, every
span goes through opentelemetry-sdk's batch processor (a background thread;
a span never waits for the network) to its OTLP/HTTP exporter.

The spans (docs/cloudevents.md shows a tree): ``ingress request`` (ingress),
``flow run``, ``route`` and ``attempt`` (worker).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final, Literal

from schemas.trace_context import TraceContext, new_trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span as OtelSpan
    from opentelemetry.trace import Tracer

log = logging.getLogger(__name__)

Kind = Literal["internal", "server", "client", "consumer", "producer"]
Attribute = str | int | float | bool


class Span:
    """A span that records nothing: its context is all there is of it."""

    __slots__ = ("context",)

    def __init__(self, context: TraceContext | None) -> None:
        # What to pass on (headers of the request or record this span makes);
        # None: the work is not part of any trace.
        self.context = context

    def set(self, name: str, value: Attribute | None) -> None:
        """Record an attribute (nothing to record here)."""

    def fail(self, description: str) -> None:
        """Mark the span as failed (nothing to record here)."""

    def end(self) -> None:
        """Finish the span (nothing to record here)."""


UNTRACED: Final = Span(None)


class _RecordedSpan(Span):
    __slots__ = ("_span",)

    def __init__(self, span: OtelSpan, state: str | None) -> None:
        own = span.get_span_context()
        super().__init__(
            TraceContext(
                f"{own.trace_id:032x}", f"{own.span_id:016x}", f"{own.trace_flags:02x}", state
            )
        )
        self._span = span

    def set(self, name: str, value: Attribute | None) -> None:
        if value is not None:
            self._span.set_attribute(name, value)

    def fail(self, description: str) -> None:
        from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415

        self._span.set_status(Status(StatusCode.ERROR, description))

    def end(self) -> None:
        self._span.end()


class Tracing:
    """One process's spans. ``endpoint`` is ``Settings.otlp_traces_endpoint``;
    None: nothing is exported (the default)."""

    def __init__(self, service: str, endpoint: str | None = None) -> None:
        self.exporting = endpoint is not None
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        if endpoint is not None:
            self._provider, self._tracer = _sdk(service, endpoint)
            log.info("tracing: exporting spans service=%s endpoint=%s", service, endpoint)

    def start(
        self,
        name: str,
        parent: TraceContext | None,
        *,
        kind: Kind = "internal",
        attributes: dict[str, Attribute] | None = None,
        new_trace_if_none: bool = False,
    ) -> Span:
        """A span, child of ``parent``. Without a parent, an exported span
        starts a trace of its own; an unexported one does so only when
        ``new_trace_if_none`` (the ingress: an inbound webhook always
        starts one), else it is :data:`UNTRACED`."""
        if self._tracer is None:
            if parent is not None:
                return Span(parent.child())
            return Span(new_trace(sampled=False)) if new_trace_if_none else UNTRACED
        return _RecordedSpan(
            self._tracer.start_span(
                name, context=_otel_parent(parent), kind=_kind(kind), attributes=attributes
            ),
            parent.state if parent is not None else None,
        )

    async def close(self) -> None:
        """Export what is still queued, then stop; in a thread, since the
        SDK's flush blocks (for its export timeout when nobody answers)."""
        provider, self._provider, self._tracer = self._provider, None, None
        if provider is not None:
            await asyncio.to_thread(provider.shutdown)


def _sdk(service: str, endpoint: str) -> tuple[TracerProvider, Tracer]:
    # Imported here: a process that exports nothing never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    # A provider of our own, not the global one: nothing else in the process
    # (a library's instrumentation) starts exporting through it by accident.
    # Resource.create also reads OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider, provider.get_tracer("hookstream")


def _otel_parent(parent: TraceContext | None) -> Any:
    if parent is None:
        return None
    from opentelemetry import trace  # noqa: PLC0415

    remote = trace.SpanContext(
        trace_id=int(parent.trace_id, 16),
        span_id=int(parent.span_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(int(parent.flags, 16)),
        trace_state=trace.TraceState.from_header([parent.state]) if parent.state else None,
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(remote))


def _kind(kind: Kind) -> Any:
    from opentelemetry.trace import SpanKind  # noqa: PLC0415

    return SpanKind[kind.upper()]
