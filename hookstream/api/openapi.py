"""``GET /api/v1/openapi.json``: the admin API description. Request schemas
come from the pydantic models, so the document cannot drift from validation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hookstream.http_common import json_response
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


def document() -> dict[str, Any]:
    webhook_schema = WebhookSpec.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    defs = webhook_schema.pop("$defs", {})
    item = "/api/v1/webhooks/{webhookId}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "hookstream admin API", "version": "1"},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/webhooks": {
                "get": _op("List webhooks"),
                "post": _op("Create a webhook (admin)", body="WebhookSpec", ok=201),
            },
            item: {
                "get": _op("Read a webhook"),
                "put": _op("Replace a webhook; omitted secrets are kept", body="WebhookSpec"),
                "patch": _op("Update some fields; null clears a secret", body="WebhookSpec"),
                "delete": _op("Delete a webhook", ok=204),
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"WebhookSpec": webhook_schema, "Error": _ERROR, **defs},
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
