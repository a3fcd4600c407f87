"""Running one flow over one flow trigger (pure)."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError

from hookstream.json_paths import MISSING, get_path, set_path
from schemas.flows import Flow


@dataclass(frozen=True, slots=True)
class FlowOutcome:
    status: Literal["executed", "skipped", "failed"]
    output: Any = None
    error: str | None = None


def filter_context(trigger: dict[str, Any]) -> dict[str, Any]:
    keys = ("payload", "headers", "listenerId", "deliveryId", "receivedAt")
    return {key: trigger.get(key) for key in keys}


# What a filter may raise at run time, besides its own errors: comparing a
# string with a number (every value of an XML or form body is a string),
# a zero slice step, ceil(inf).
_FILTER_ERRORS = (JMESPathError, TypeError, ValueError, ArithmeticError, RecursionError)


def jmespath_false(value: Any) -> bool:
    """JMESPath's false values: null, false, "", [] and {}; numbers,
    0 included, are true (unlike Python's truthiness)."""
    return value is None or value is False or value in ("", [], {})


def run_flow(flow: Flow, trigger: dict[str, Any]) -> FlowOutcome:
    if flow.filter is not None:
        try:
            keep = jmespath.search(flow.filter, filter_context(trigger))
        except _FILTER_ERRORS as exc:
            return FlowOutcome("failed", error=f"filter failed: {type(exc).__name__}: {exc}")
        if jmespath_false(keep):
            return FlowOutcome("skipped")
    payload = trigger.get("payload")
    if flow.mappings:
        output: dict[str, Any] = {}
    elif isinstance(payload, dict):
        output = copy.deepcopy(payload)
    else:
        output = {"payload": copy.deepcopy(payload)}
    for mapping in flow.mappings:
        value = get_path(payload, mapping.from_, MISSING)
        if value is MISSING:
            return FlowOutcome("failed", error=f"{mapping.from_} is missing in the payload")
        set_path(output, mapping.to, copy.deepcopy(value))
    for constant in flow.constants:
        set_path(output, constant.to, copy.deepcopy(constant.value))
    return FlowOutcome("executed", output=output)


def execution_id(flow_id: str, delivery_id: str) -> str:
    """Stable per (flow, inbound delivery): a replayed trigger emits the same
    event id, so outbound receivers can deduplicate."""
    digest = hashlib.sha256(f"{flow_id}\x00{delivery_id}".encode()).hexdigest()
    return f"fx_{digest[:32]}"
