"""``GET /api/v1/openapi.json``, built from the route table (one entry per
route, see :mod:`hookstream.api.routes`), so the document describes exactly
the routes the application serves."""

from __future__ import annotations

import re
from typing import Any

from hookstream.api import wire
from hookstream.api.routes import Route
from hookstream.tokens import ROLES

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")

ERROR_DESCRIPTIONS = {
    400: "body is not JSON, or not the JSON shape this route takes",
    401: "missing or unknown bearer token",
    403: "the token's role may not call this route",
    404: "no such resource",
    409: "conflict with the resource's state",
    413: "body over 1 MiB, or too many items",
    415: "unsupported content type",
    422: "validation failed; details name each failing field",
    503: "Kafka unavailable; retry after Retry-After seconds",
}


def error_statuses(route: Route) -> list[int]:
    """Every error status the route can answer."""
    statuses = set(route.errors)
    if route.roles is not None:
        statuses.add(401)
        if set(route.roles) != set(ROLES):
            statuses.add(403)
    if _PARAM.search(route.path):
        statuses.add(404)
    if route.request is not None:
        statuses.update((400, 413, 422))
    if route.query:
        statuses.add(422)
    return sorted(statuses)


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def operation(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in route.responses.items():
        response: dict[str, Any] = {"description": "success" if status < 400 else "error"}
        if schema is not None:
            response["content"] = _json(schema)
        headers = route.response_headers.get(status)
        if headers:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in headers.items()
            }
        responses[str(status)] = response
    for status in error_statuses(route):
        if str(status) in responses:
            continue
        error: dict[str, Any] = {
            "description": ERROR_DESCRIPTIONS.get(status, "error"),
            "content": _json(wire.ref("Error")),
        }
        if status == 503:
            error["headers"] = {
                "Retry-After": {"description": "seconds", "schema": {"type": "string"}}
            }
        responses[str(status)] = error
    op: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "responses": responses,
    }
    if route.description:
        op["description"] = route.description
    if route.roles is None:
        op["security"] = []
    else:
        op["x-roles"] = sorted(route.roles)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.path)
    ]
    parameters += [
        {
            "name": param.name,
            "in": "query",
            "required": False,
            "schema": param.schema,
            "description": param.description,
        }
        for param in route.query
    ]
    if parameters:
        op["parameters"] = parameters
    if route.request is not None:
        op["requestBody"] = {"required": True, "content": _json(route.request)}
    return op


def document(table: list[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in table:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hookstream admin API",
            "version": "1",
            "description": (
                "Bearer tokens with roles: admin (everything), viewer (reads), "
                "publisher (POST /api/v1/events only). Each operation lists its "
                "roles in x-roles. Errors are {error: {code, message, details?}}."
            ),
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": wire.components(),
        },
    }
