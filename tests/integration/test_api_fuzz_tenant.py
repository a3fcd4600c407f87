"""Schemathesis with a portal token (role tenant) against every operation of
``/api/v1/openapi.json``: no request gets a 5xx, every answer matches the
document, and nothing of another tenant ever shows. Every generated request
that names a webhook names tenant A's own or tenant B's, so the fuzzing
probes the boundary between them rather than ids that exist nowhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from hookstream.testing.api import ApiClient, ApiServer

log = logging.getLogger(__name__)

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
async def two_tenants(api: ApiClient, unique: str) -> AsyncIterator[dict[str, Any]]:
    a, b = f"fuzz-{unique}-a", f"fuzz-{unique}-b"
    for tenant_id in (a, b):
        status, _ = await api.call("PUT", f"/api/v1/tenants/{tenant_id}", json={"name": tenant_id})
        assert status == 201
    secret_name = f"secret-of-b-{unique}"
    theirs = await api.create_webhook(
        name=secret_name, url=f"https://b-{unique}.example/hook", tenantId=b
    )
    mine = await api.create_webhook(name="mine", url="http://127.0.0.1:9/hook", tenantId=a)
    status, link = await api.call("POST", f"/api/v1/tenants/{a}/portal", json={})
    assert status == 201
    yield {
        "token": link["token"],
        "mine": mine["id"],
        "theirs": theirs,
        "markers": (secret_name, f"b-{unique}.example", b),
        "a": a,
    }
    for tenant_id in (a, b):
        await api.call("DELETE", f"/api/v1/tenants/{tenant_id}")


def fuzz(document: dict[str, Any], base_url: str, world: dict[str, Any]) -> dict[str, Counter[int]]:
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {world['token']}"}
    ran: dict[str, Counter[int]] = {}
    leaks: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        statuses = ran[operation.label] = Counter()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), whose=st.sampled_from(["mine", "theirs"]))
        def check(case: schemathesis.Case, whose: str) -> None:
            theirs = whose == "theirs"
            if case.path_parameters and "webhook_id" in case.path_parameters:
                case.path_parameters["webhook_id"] = (
                    world["theirs"]["id"] if theirs else world["mine"]
                )
            response = case.call_and_validate(
                base_url=base_url, headers=headers, checks=CHECKS, timeout=30
            )
            statuses[response.status_code] += 1  # noqa: B023 - check() runs in this iteration
            text = response.text
            leaks.extend(
                f"{case.method} {case.formatted_path}: {marker}"
                for marker in world["markers"]
                if marker in text
            )
            on_theirs = theirs and "{webhook_id}" in case.path
            if on_theirs and response.status_code not in (403, 404):
                leaks.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()
    assert not leaks, leaks
    return ran


@pytest.mark.timeout(600)
async def test_a_tenant_token_survives_schemathesis_and_sees_no_other_tenant(
    api_server: ApiServer, api: ApiClient, two_tenants: dict[str, Any]
) -> None:
    status, document = await api.call("GET", "/api/v1/openapi.json", token=None)
    assert status == 200
    ran = await asyncio.to_thread(fuzz, document, api_server.url, two_tenants)
    every = sum(ran.values(), Counter())
    # Both sides of the boundary were reached: refused routes and own webhooks.
    assert every[403] > 0 and every[404] > 0, every
    assert sum(n for s, n in every.items() if 200 <= s < 300) > 0, every
    theirs = two_tenants["theirs"]
    status, now = await api.call("GET", f"/api/v1/webhooks/{theirs['id']}")
    assert status == 200 and now["updatedAt"] == theirs["updatedAt"], now
    status, listing = await api.call("GET", "/api/v1/webhooks")
    created = [w for w in listing["data"] if w.get("tenantId") == two_tenants["a"]]
    assert all(w["tenantId"] == two_tenants["a"] for w in created)
    log.info(
        "tenant schemathesis: %d requests, %s", sum(every.values()), dict(sorted(every.items()))
    )
