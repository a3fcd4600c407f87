from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hookstream.json_paths import get_path, set_path
from hookstream.transforms import execution_id, run_flow
from schemas.flows import Flow


def make_flow(**fields: Any) -> Flow:
    base = {
        "id": "fl_1",
        "name": "orders",
        "listenerId": "ls_1",
        "destinationTopic": "orders.in",
        "createdAt": "2026-11-23T10:00:00.000Z",
        "updatedAt": "2026-11-23T10:00:00.000Z",
    }
    return Flow.model_validate({**base, **fields})


TRIGGER = {
    "listenerId": "ls_1",
    "deliveryId": "d1",
    "receivedAt": "2026-11-23T10:00:00.000Z",
    "headers": {"X-Kind": "order"},
    "payload": {"data": {"id": 7, "total": 9.5}, "type": "paid"},
}


def test_mappings_and_constants_build_the_output() -> None:
    flow = make_flow(
        mappings=[
            {"to": "order.id", "from": "data.id"},
            {"to": "order.total", "from": "data.total"},
        ],
        constants=[{"to": "source", "value": "shop"}, {"to": "order.currency", "value": "EUR"}],
    )
    outcome = run_flow(flow, TRIGGER)
    assert outcome.status == "executed"
    assert outcome.output == {"order": {"id": 7, "total": 9.5, "currency": "EUR"}, "source": "shop"}


def test_without_mappings_the_payload_passes_through_with_constants() -> None:
    outcome = run_flow(make_flow(constants=[{"to": "seen", "value": True}]), TRIGGER)
    assert outcome.output == {"data": {"id": 7, "total": 9.5}, "type": "paid", "seen": True}
    assert TRIGGER["payload"] == {"data": {"id": 7, "total": 9.5}, "type": "paid"}  # untouched


def test_filter_skips_and_sees_headers() -> None:
    assert run_flow(make_flow(filter="payload.type == 'refund'"), TRIGGER).status == "skipped"
    assert run_flow(make_flow(filter="payload.type == 'paid'"), TRIGGER).status == "executed"
    assert run_flow(make_flow(filter="headers.\"X-Kind\" == 'order'"), TRIGGER).status == "executed"


@pytest.mark.parametrize(
    ("expression", "payload"),
    [
        ("payload.total > `100`", {"total": "150"}),  # XML and form bodies are all strings
        ("payload.items[::0]", {"items": [1, 2]}),
        ("ceil(payload.n)", {"n": 1e308 * 10}),
    ],
)
def test_a_filter_that_raises_fails_the_flow_not_the_runner(expression: str, payload: Any) -> None:
    # Raised, it stopped run_flows at this batch, again at every restart.
    outcome = run_flow(make_flow(filter=expression), {**TRIGGER, "payload": payload})
    assert outcome.status == "failed" and "filter failed" in (outcome.error or "")


@pytest.mark.parametrize(
    ("result", "kept"),
    [
        (0, True),
        (0.0, True),
        ("x", True),
        ([0], True),
        (None, False),
        (False, False),
        ("", False),
        ([], False),
        ({}, False),
    ],
)
def test_the_filter_keeps_what_jmespath_calls_true(result: Any, kept: bool) -> None:
    trigger = {**TRIGGER, "payload": {"r": result}}
    assert run_flow(make_flow(filter="payload.r"), trigger).status == (
        "executed" if kept else "skipped"
    )


def test_missing_source_fails_with_the_reason() -> None:
    outcome = run_flow(make_flow(mappings=[{"to": "id", "from": "data.nope"}]), TRIGGER)
    assert outcome.status == "failed" and "data.nope" in (outcome.error or "")


@pytest.mark.parametrize(
    "bad",
    [
        {"filter": "payload.["},
        {"destinationTopic": "hookstream.webhooks"},
        {"destinationTopic": "has space"},
        {"destinationTopic": ".."},
        {"destinationTopic": "__consumer_offsets"},
        {"mappings": [{"to": "a..b", "from": "x"}]},
        {"listenerId": ""},
    ],
)
def test_invalid_flows_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_flow(**bad)


def test_execution_id_is_stable() -> None:
    assert execution_id("fl_1", "d1") == execution_id("fl_1", "d1") != execution_id("fl_1", "d2")


@given(
    st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=4), min_size=1, max_size=4),
    st.integers() | st.text() | st.none(),
)
def test_set_then_get_round_trips(parts: list[str], value: Any) -> None:
    target: dict[str, Any] = {}
    path = ".".join(parts)
    set_path(target, path, value)
    assert get_path(target, path, default="absent") == value
