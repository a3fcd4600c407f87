"""Dry runs that write nothing: a flow on a sample trigger, and a listener's
verification and parsing on a sample request. Both use the very functions
the worker and the ingress use (``run_flow``, ``examine``)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import READ, Route
from hookstream.api.wire import ANY, BOOLEAN, INTEGER, STRING, STRING_MAP, nullable, obj, ref
from hookstream.errors import ValidationFailedError
from hookstream.http_common import json_response, read_json_object, validation_error
from hookstream.inbound.examine import examine
from hookstream.transforms import run_flow
from schemas.flows import Flow
from schemas.timestamps import utc_now_iso

# What a flow definition under test may leave out (it is not saved).
FLOW_PLACEHOLDERS = {
    "name": "dry run",
    "listenerId": "ls_dry_run",
    "destinationTopic": "dry.run",
}
TRIGGER_FIELDS = frozenset(
    {"listenerId", "receivedAt", "headers", "contentType", "payload", "deliveryId"}
)
DRY_RUN_DELIVERY_ID = "dry_run"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FlowTest(_Strict):
    flow: dict[str, Any]
    trigger: Any = None


class ListenerTest(_Strict):
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    content_type: str | None = Field(default=None, alias="contentType")
    # For secret_url listeners: the token the request's URL would carry.
    url_token: str | None = Field(default=None, alias="urlToken")


def _prefixed(exc: ValidationError, prefix: str) -> ValidationFailedError:
    details = validation_error(exc).details or [{"field": "", "message": "invalid"}]
    for detail in details:
        detail["field"] = f"{prefix}.{detail['field']}" if detail["field"] else prefix
    first = details[0]
    return ValidationFailedError(f"{first['field']}: {first['message']}", details=details)


def flow_under_test(definition: dict[str, Any]) -> Flow:
    """A flow definition as for ``POST /flows`` (name, listener and destination
    may be left out), as the record the worker would run."""
    now = utc_now_iso()
    try:
        return Flow.model_validate(
            {
                **FLOW_PLACEHOLDERS,
                **definition,
                "id": "fl_dry_run",
                "createdAt": now,
                "updatedAt": now,
            }
        )
    except ValidationError as exc:
        raise _prefixed(exc, "flow") from None


def trigger_of(sample: Any, flow: Flow) -> dict[str, Any]:
    """A whole flow trigger (an object with ``payload`` and only trigger
    fields) is used as given; anything else is the payload of one."""
    if isinstance(sample, dict) and "payload" in sample and set(sample) <= TRIGGER_FIELDS:
        trigger = dict(sample)
    else:
        trigger = {"payload": sample}
    trigger.setdefault("listenerId", flow.listener_id)
    trigger.setdefault("receivedAt", utc_now_iso())
    trigger.setdefault("headers", {})
    trigger.setdefault("deliveryId", DRY_RUN_DELIVERY_ID)
    return trigger


async def test_flow(request: web.Request) -> web.Response:
    spec = FlowTest.model_validate(await read_json_object(request))
    flow = flow_under_test(spec.flow)
    outcome = run_flow(flow, trigger_of(spec.trigger, flow))
    return json_response(
        {
            "status": outcome.status,
            "output": outcome.output,
            "error": outcome.error,
            "destinationTopic": flow.destination_topic,
        }
    )


async def test_listener(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    listener = ctx.listeners.get(request.match_info["listener_id"])
    sample = ListenerTest.model_validate(await read_json_object(request))
    given_type = next((v for k, v in sample.headers.items() if k.lower() == "content-type"), None)
    content_type = sample.content_type or given_type or "application/json"
    headers = {**sample.headers, "Content-Type": content_type}
    result = examine(
        listener,
        headers,
        sample.body.encode(),
        content_type=content_type,
        url_token=sample.url_token,
        now=time.time(),
    )
    status, reason = result.status, result.reason
    if not listener.enabled:
        status, reason = 404, "the listener is disabled: the ingress answers 404"
    return json_response(
        {
            "status": status,
            "verified": result.verified,
            "reason": reason,
            "payload": result.payload,
        }
    )


FLOW_TEST_REQUEST = obj(
    {
        "flow": ref("FlowPatch"),
        "trigger": {
            "description": "a flow trigger ({payload, headers?, listenerId?, …}) or just a payload"
        },
    },
    required=["flow"],
    closed=True,
)
ROUTES = [
    Route(
        "POST",
        "/api/v1/flows/test",
        test_flow,
        "Run a flow definition on a sample trigger; writes nothing",
        READ,
        {
            200: obj(
                {
                    "status": {"enum": ["executed", "skipped", "failed"]},
                    "output": ANY,
                    "error": nullable(STRING),
                    "destinationTopic": STRING,
                }
            )
        },
        request=FLOW_TEST_REQUEST,
        description=(
            "The flow is validated as for POST /flows (name, listenerId and "
            "destinationTopic may be left out); output is the message the flow would "
            "write, or null when skipped or failed (error says why)."
        ),
    ),
    Route(
        "POST",
        "/api/v1/listeners/{listener_id}/test",
        test_listener,
        "Verify and parse a sample request as the ingress would; writes nothing",
        READ,
        {
            200: obj(
                {
                    "status": INTEGER,
                    "verified": nullable(BOOLEAN),
                    "reason": nullable(STRING),
                    "payload": ANY,
                }
            )
        },
        request=obj(
            {
                "headers": STRING_MAP,
                "body": STRING,
                "contentType": nullable(STRING),
                "urlToken": nullable(STRING),
            },
            required=[],
            closed=True,
        ),
        description=(
            "status is what the ingress would answer (202, 400, 401, 404 when the "
            "listener is disabled, 413, 415); contentType defaults to the sample's "
            "Content-Type header, then application/json; payload is the parsed JSON "
            "(XML and form bodies converted) when the request would be accepted."
        ),
    ),
]
