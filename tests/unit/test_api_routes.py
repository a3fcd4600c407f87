"""The route table is the single source of the admin API's routes and its
OpenAPI document: every served route is documented and vice versa."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest

from hookstream.api.app import ROUTES, create_api
from hookstream.api.openapi import document
from hookstream.api.routes import ROUTE_KEY
from hookstream.metrics import Metrics

TOKENS: dict[str, Any] = {"a": "admin"}


def served() -> set[tuple[str, str]]:
    app = create_api(tokens=TOKENS, metrics=Metrics())
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method not in ("HEAD", "OPTIONS")
    }


def test_every_served_route_is_documented_and_vice_versa() -> None:
    doc = document(ROUTES)
    described = {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}
    assert served() == described
    assert len(ROUTES) == len(described), "a (method, path) appears twice in the table"


def test_every_route_entry_is_registered() -> None:
    app = create_api(tokens=TOKENS, metrics=Metrics())
    assert sorted(id(e) for e in app[ROUTE_KEY].values()) == sorted(id(e) for e in ROUTES)


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def test_every_reference_resolves_and_every_path_parameter_is_declared() -> None:
    doc = document(ROUTES)
    names = set(doc["components"]["schemas"])
    for reference in _refs(doc):
        assert reference.startswith("#/components/schemas/"), reference
        assert reference.rsplit("/", 1)[1] in names, reference
    for path, ops in doc["paths"].items():
        in_path = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, (method, path)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_operation_documents_success_and_its_errors(route: Any) -> None:
    op = document(ROUTES)["paths"][route.path][route.method.lower()]
    statuses = {int(s) for s in op["responses"]}
    assert any(200 <= s < 300 for s in statuses)
    if route.roles is not None:
        assert 401 in statuses
    if route.request is not None:
        assert {400, 413, 422} <= statuses
    for status, response in op["responses"].items():
        if int(status) >= 400:
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }


def test_component_schemas_are_valid_json_schemas() -> None:
    doc = document(ROUTES)
    for name, schema in doc["components"]["schemas"].items():
        standalone = {**schema, "components": doc["components"]}
        # Compiling fails on a malformed schema; refs resolve inside the document.
        assert jsonschema_rs.validator_for(standalone) is not None, name


def test_error_body_matches_error_schema() -> None:
    from hookstream.errors import ValidationFailedError

    doc = document(ROUTES)
    schema = {**doc["components"]["schemas"]["Error"], "components": doc["components"]}
    body = ValidationFailedError("x: bad", details=[{"field": "x", "message": "bad"}]).body()
    assert jsonschema_rs.validator_for(schema).is_valid(body)
    assert not jsonschema_rs.validator_for(schema).is_valid({"message": "no error wrapper"})


def _validator(doc: dict[str, Any], name: str) -> Any:
    schema = {**doc["components"]["schemas"][name], "components": doc["components"]}
    return jsonschema_rs.validator_for(schema)


def test_filters_rate_limits_and_replays_are_described() -> None:
    from schemas.replays import Replay

    doc = document(ROUTES)
    schemas = doc["components"]["schemas"]
    create = doc["paths"]["/api/v1/webhooks"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WebhookCreate"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WebhookCreated"
    }
    body = {"name": "n", "url": "https://example.com/h", "replayFrom": "2026-12-01T00:00:00Z"}
    assert _validator(doc, "WebhookCreate").is_valid(body)
    assert not _validator(doc, "WebhookSpec").is_valid(body), "PUT takes no replayFrom"
    assert schemas["WebhookCreate"]["properties"]["replayFrom"]["description"]
    for field in ("filter", "rateLimit"):
        assert schemas["WebhookSpec"]["properties"][field]["description"], field
        assert field in schemas["Webhook"]["properties"], field
    assert _validator(doc, "WebhookSpec").is_valid(
        {
            "name": "n",
            "url": "https://example.com/h",
            "filter": {"entity": {"total": {"$gte": 100}}},
            "rateLimit": {"requests": 10, "perSeconds": 1},
        }
    )

    failed = Replay(
        "rpl_1", "wh_1", "2026-12-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z", "a", "b",
        status="failed", error="topic events.x was deleted while it was being read",
    )  # fmt: skip
    assert _validator(doc, "Replay").is_valid(failed.public())
    created = {**_webhook_view_example(), "replay": failed.public()}
    assert _validator(doc, "WebhookCreated").is_valid(created)
    replay_paths = [p for p in doc["paths"] if "/replay" in p]
    assert len(replay_paths) == 3
    for path in replay_paths:
        for op in doc["paths"][path].values():
            success = next(r for s, r in op["responses"].items() if s.startswith("2"))
            assert "Replay" in str(success["content"]["application/json"]["schema"]), path


def _webhook_view_example() -> dict[str, Any]:
    from tests.unit.factories import make_webhook

    view: dict[str, Any] = make_webhook(rateLimit={"requests": 1, "perSeconds": 60}).public()
    return view
