"""W3C Trace Context (``traceparent`` / ``tracestate``), parsed and written by
hand: propagation must work, and cost next to nothing, when no tracing SDK
exports anything (hookstream/tracing.py is a no-op then). Pure: no I/O.

https://www.w3.org/TR/trace-context/
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# The CloudEvents Distributed Tracing extension in the Kafka binary binding.
CE_TRACEPARENT = "ce_traceparent"
CE_TRACESTATE = "ce_tracestate"

# version "00": exactly four fields. A later version may append fields after
# the flags; its first four fields are read the same way (spec, section 4.3).
_TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
# tracestate is passed on as received, but only if it fits the spec's limit
# and cannot break the header it is written into.
MAX_TRACESTATE = 512
_TRACESTATE_BAD = re.compile(r"[^\x20-\x7e]")


def new_trace_id() -> str:
    return f"{secrets.randbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{secrets.randbits(64) or 1:016x}"


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span's identity as it travels between processes."""

    trace_id: str  # 32 lowercase hex digits, not all zero
    span_id: str  # 16 lowercase hex digits, not all zero
    flags: str = "01"  # 2 hex digits; bit 0 = sampled
    state: str | None = None  # tracestate, passed on unchanged

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    @property
    def sampled(self) -> bool:
        return bool(int(self.flags, 16) & 1)

    def child(self) -> TraceContext:
        """A new span of the same trace, this one its parent."""
        return replace(self, span_id=new_span_id())

    def headers(self) -> dict[str, str]:
        out = {TRACEPARENT: self.traceparent}
        if self.state:
            out[TRACESTATE] = self.state
        return out

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [(name, value.encode()) for name, value in self.headers().items()]


def new_trace(*, sampled: bool) -> TraceContext:
    """The root span of a new trace."""
    return TraceContext(new_trace_id(), new_span_id(), "01" if sampled else "00")


def clean_tracestate(value: str | bytes | None) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not value or len(value) > MAX_TRACESTATE or _TRACESTATE_BAD.search(value):
        return None
    return value.strip() or None


def parse_traceparent(
    value: str | bytes | None, state: str | bytes | None = None
) -> TraceContext | None:
    """The context a ``traceparent`` header names, or None when it is absent or
    malformed (a malformed one starts no trace of its own here: the caller
    decides whether to start a new one)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    found = _TRACEPARENT.match(value)
    if found is None:
        return None
    version = found["version"]
    if version == "ff" or (version == "00" and len(value) != 55):
        return None
    if version != "00" and len(value) > 55 and value[55] != "-":
        return None
    trace_id, span_id = found["trace"], found["span"]
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id, found["flags"], clean_tracestate(state))


def from_kafka_headers(
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> TraceContext | None:
    """A record's trace context: a plain ``traceparent`` header (what OpenTelemetry's
    Kafka instrumentation writes) or else a binary-mode CloudEvent's
    ``ce_traceparent`` (the Distributed Tracing extension)."""
    if not headers:
        return None
    found: dict[str, bytes | None] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in (TRACEPARENT, TRACESTATE, CE_TRACEPARENT, CE_TRACESTATE):
            found[lowered] = value
    if TRACEPARENT in found:
        return parse_traceparent(found[TRACEPARENT], found.get(TRACESTATE))
    return parse_traceparent(found.get(CE_TRACEPARENT), found.get(CE_TRACESTATE))
