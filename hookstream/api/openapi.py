"""``GET /api/v1/openapi.json``: the admin API description. Request schemas
come from the pydantic models, so the document cannot drift from validation."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from hookstream.http_common import json_response
from schemas.flows import FlowSpec
from schemas.listeners import ListenerSpec
from schemas.webhooks import WebhookSpec

_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message"],
        }
    },
}


def _op(summary: str, *, body: str | None = None, ok: int = 200) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {"description": "success"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
        },
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
        op["responses"]["422"] = {"$ref": "#/components/responses/Error"}
    return op


def _schema(model: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    return schema


def document() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    schemas = {
        "WebhookSpec": _schema(WebhookSpec, defs),
        "ListenerSpec": _schema(ListenerSpec, defs),
        "FlowSpec": _schema(FlowSpec, defs),
    }
    webhook = "/api/v1/webhooks/{webhookId}"
    listener = "/api/v1/listeners/{listenerId}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "hookstream admin API", "version": "1"},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/webhooks": {
                "get": _op("List webhooks"),
                "post": _op("Create a webhook (admin)", body="WebhookSpec", ok=201),
            },
            webhook: {
                "get": _op("Read a webhook"),
                "put": _op("Replace a webhook; omitted secrets are kept", body="WebhookSpec"),
                "patch": _op("Update some fields; null clears a secret", body="WebhookSpec"),
                "delete": _op("Delete a webhook", ok=204),
            },
            f"{webhook}/events": {"get": _op("The last 100 attempts, newest first")},
            f"{webhook}/events/{{deliveryId}}/redeliver": {
                "post": _op("Send a delivery again with the same id", ok=202)
            },
            f"{webhook}/ping": {"post": _op("Send a webhook.ping event now; returns the attempt")},
            "/api/v1/event-types": {"get": _op("Event types seen so far")},
            "/api/v1/entities/{entityType}/{entityId}": {"get": _op("The latest entity seen")},
            "/api/v1/listeners": {
                "get": _op("List inbound listeners"),
                "post": _op("Create a listener (admin)", body="ListenerSpec", ok=201),
            },
            listener: {
                "get": _op("Read a listener"),
                "put": _op("Replace a listener; omitted secrets are kept", body="ListenerSpec"),
                "patch": _op("Update some fields", body="ListenerSpec"),
                "delete": _op("Delete a listener", ok=204),
            },
            "/api/v1/flows": {
                "get": _op("List flows"),
                "post": _op("Create a flow (admin)", body="FlowSpec", ok=201),
            },
            "/api/v1/flows/{flowId}": {
                "get": _op("Read a flow"),
                "put": _op("Replace a flow", body="FlowSpec"),
                "patch": _op("Update some fields", body="FlowSpec"),
                "delete": _op("Delete a flow", ok=204),
            },
            "/api/v1/flows/{flowId}/executions": {
                "get": _op("The last 100 flow.executed / flow.failed events, newest first")
            },
            f"{listener}/generate-url": {
                "post": _op("The public URL; a new token for secret_url and token listeners")
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**schemas, "Error": _ERROR, **defs},
            "responses": {
                "Error": {
                    "description": "error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
        },
    }


async def openapi(request: web.Request) -> web.Response:
    return json_response(document())
