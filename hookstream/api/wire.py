"""JSON schemas of what the admin API sends and accepts, for the route table
(and so for ``/api/v1/openapi.json``). Request schemas of configuration come
from the pydantic models that validate them; response schemas are written
here beside the code that builds those responses."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from schemas.deliveries import TRIGGERS
from schemas.flows import Flow, FlowSpec
from schemas.listeners import ListenerSpec
from schemas.webhooks import WebhookSpec

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ANY: Schema = {}
TIME: Schema = {"type": "string", "description": "ISO 8601 UTC, e.g. 2026-11-23T10:00:00.000Z"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(
    properties: dict[str, Schema], required: list[str] | None = None, *, closed: bool = False
) -> Schema:
    """An object; ``required`` defaults to every property."""
    out: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if closed:
        out["additionalProperties"] = False
    return out


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def data_of(items: Schema) -> Schema:
    return obj({"data": array(items)})


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR = obj(
    {
        "error": obj(
            {"code": STRING, "message": STRING, "details": ANY}, required=["code", "message"]
        )
    }
)


def model_schema(model: type[BaseModel], defs: Schema, *, mode: str = "validation") -> Schema:
    schema = model.model_json_schema(
        by_alias=True,
        ref_template="#/components/schemas/{model}",
        mode=mode,  # type: ignore[arg-type]
    )
    defs.update(schema.pop("$defs", {}))
    return schema


def partial(schema: Schema) -> Schema:
    """The same object with no required property (PATCH bodies)."""
    out = copy.deepcopy(schema)
    out.pop("required", None)
    return out


def _webhook_view(spec: Schema) -> Schema:
    props = {k: v for k, v in spec["properties"].items() if k not in ("secret", "basicAuth")}
    props.update(
        id=STRING,
        createdAt=TIME,
        updatedAt=TIME,
        disabledReason=nullable(STRING),
        hasSecret=BOOLEAN,
        previousSecretExpiresAt=nullable(TIME),
        basicAuth=nullable(obj({"username": STRING, "hasPassword": BOOLEAN})),
    )
    return obj(props)


def _listener_view(spec: Schema) -> Schema:
    props = dict(spec["properties"])
    props.update(
        id=STRING,
        createdAt=TIME,
        updatedAt=TIME,
        url=STRING,
        verification={
            "type": "object",
            "properties": {
                "type": STRING,
                "hasPassword": BOOLEAN,
                "hasSecret": BOOLEAN,
                "hasToken": BOOLEAN,
            },
            "required": ["type", "hasPassword", "hasSecret", "hasToken"],
        },
    )
    return obj(props, required=[k for k in props if k != "sampleData"])


ATTEMPT = obj(
    {
        "deliveryId": STRING,
        "webhookId": STRING,
        "eventId": STRING,
        "eventType": STRING,
        "attempt": INTEGER,
        "trigger": {
            "type": "string",
            "enum": list(TRIGGERS),
            "description": "why the delivery was made: routed from its event, or a redelivery, "
            "a recovery of a dead letter, a replay, a ping (each starts again at attempt 1)",
        },
        "outcome": STRING,
        "at": TIME,
        "durationMs": NUMBER,
        "error": nullable(STRING),
        "request": obj({"method": STRING, "url": STRING, "headers": STRING_MAP, "body": STRING}),
        "response": nullable(obj({"status": INTEGER, "headers": STRING_MAP, "body": STRING})),
        "nextAttemptAt": nullable(
            {**TIME, "description": "a failed attempt that will be retried: when (ISO 8601 UTC)"}
        ),
        "deadLetterReason": nullable(
            {"type": "string", "description": "a failed attempt not retried: why"}
        ),
    }
)

EVENT_TYPE_SEEN = {"type": "object", "properties": {"eventType": STRING}}

REPLAY = obj(
    {
        "replayId": STRING,
        "webhookId": STRING,
        "status": {"enum": ["running", "done", "failed", "cancelled"]},
        "scanned": {**INTEGER, "description": "records of the time range read"},
        "matched": {**INTEGER, "description": "of those, events the webhook takes"},
        "queued": {**INTEGER, "description": "deliveries written to the webhook's topic"},
        "from": TIME,
        "until": TIME,
        "createdAt": TIME,
        "updatedAt": TIME,
        "error": {**nullable(STRING), "description": "why a failed replay failed"},
    }
)
REPLAY_FROM: Schema = {
    **nullable({"type": "string", "format": "date-time"}),
    "description": (
        "Create only: also replay the webhook's history from this time to now, as "
        "POST /webhooks/{id}/replay would (ISO 8601 with a timezone); the response's "
        "replay follows it. Not stored on the webhook."
    ),
}


def _webhook_create(spec: Schema) -> Schema:
    """POST /webhooks takes a webhook and, besides, ``replayFrom``."""
    out = copy.deepcopy(spec)
    out["properties"]["replayFrom"] = REPLAY_FROM
    out["title"] = "WebhookCreate"
    return out


def _webhook_created(view: Schema) -> Schema:
    """The new webhook, and its replay when ``replayFrom`` was given."""
    out = copy.deepcopy(view)
    out["properties"]["replay"] = {
        **ref("Replay"),
        "description": "present when replayFrom was given",
    }
    return out


def components() -> Schema:
    """Named schemas for ``components.schemas``."""
    defs: Schema = {}
    webhook_spec = model_schema(WebhookSpec, defs)
    listener_spec = model_schema(ListenerSpec, defs)
    flow_spec = model_schema(FlowSpec, defs)
    webhook_view = _webhook_view(webhook_spec)
    return {
        "WebhookSpec": webhook_spec,
        "WebhookCreate": _webhook_create(webhook_spec),
        "WebhookPatch": partial(webhook_spec),
        "Webhook": webhook_view,
        "WebhookCreated": _webhook_created(webhook_view),
        "Replay": REPLAY,
        "ListenerSpec": listener_spec,
        "ListenerPatch": partial(listener_spec),
        "Listener": _listener_view(listener_spec),
        "FlowSpec": flow_spec,
        "FlowPatch": partial(flow_spec),
        "Flow": model_schema(Flow, defs, mode="serialization"),
        "Attempt": ATTEMPT,
        "Error": ERROR,
        **defs,
    }
