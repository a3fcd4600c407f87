"""W3C traceparent/tracestate, parsed and written by hand (schemas/trace_context.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from schemas.deliveries import Delivery
from schemas.events import DomainEvent
from schemas.trace_context import (
    TraceContext,
    from_kafka_headers,
    new_trace,
    parse_traceparent,
)

EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_spec_example_parses_and_formats_back() -> None:
    context = parse_traceparent(EXAMPLE, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    assert context == TraceContext(
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "01",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    )
    assert context.traceparent == EXAMPLE
    assert context.sampled


def test_a_child_keeps_the_trace_flags_and_state_with_a_new_span() -> None:
    parent = parse_traceparent(EXAMPLE, "k=v")
    assert parent is not None
    child = parent.child()
    assert child.trace_id == parent.trace_id
    assert child.span_id != parent.span_id
    assert (child.flags, child.state) == ("01", "k=v")
    assert child.headers() == {"traceparent": child.traceparent, "tracestate": "k=v"}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        EXAMPLE + "-extra",  # version 00 has exactly four fields
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    ],
)
def test_malformed_traceparents_are_ignored(value: str) -> None:
    assert parse_traceparent(value) is None


def test_a_later_version_is_read_by_its_first_four_fields() -> None:
    context = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what")
    assert context is not None and context.traceparent == EXAMPLE


def test_a_tracestate_that_could_break_a_header_is_dropped() -> None:
    assert parse_traceparent(EXAMPLE, "a=b\r\nX-Evil: 1") == parse_traceparent(EXAMPLE)
    assert parse_traceparent(EXAMPLE, "a=" + "b" * 600) == parse_traceparent(EXAMPLE)


def test_kafka_headers_plain_first_then_the_cloudevents_extension() -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-00"
    assert from_kafka_headers([("ce_traceparent", other.encode())]).traceparent == other  # type: ignore[union-attr]
    headers = [("ce_traceparent", other.encode()), ("traceparent", EXAMPLE.encode())]
    assert from_kafka_headers(headers).traceparent == EXAMPLE  # type: ignore[union-attr]
    assert from_kafka_headers([("traceparent", None)]) is None
    assert from_kafka_headers([]) is None


def test_new_traces_say_whether_they_are_sampled() -> None:
    assert new_trace(sampled=True).flags == "01"
    assert not new_trace(sampled=False).sampled


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=8, max_size=8), st.booleans())
def test_what_opentelemetry_writes_we_read_and_back(
    trace: bytes, span: bytes, sampled: bool
) -> None:
    """The SDK's own propagator is the reference implementation."""
    trace_id, span_id = trace.hex(), span.hex()
    header = f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"
    theirs = TraceContextTextMapPropagator().extract({"traceparent": header})
    ours = parse_traceparent(header)
    valid = trace_id != "0" * 32 and span_id != "0" * 16
    assert (ours is not None) == valid == bool(theirs)
    if ours is not None:
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier, context=theirs)
        assert carrier["traceparent"] == ours.traceparent


def test_a_delivery_record_carries_its_trace_through_retries() -> None:
    trace = parse_traceparent(EXAMPLE, "k=v")
    event = DomainEvent("e", "a.b", "1", "2026-11-23T10:00:00.000Z", tenant_id="t", source="/s")
    delivery = Delivery.for_event("wh", event, trace=trace)
    again = Delivery.from_json(delivery.next_attempt({"outcome": "error"}, 0.0).to_json())
    assert again.trace == trace
    assert again.event == event
    assert Delivery.from_json(Delivery.for_event("wh", event).to_json()).trace is None
