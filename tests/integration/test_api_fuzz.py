"""Schemathesis against the served ``/api/v1/openapi.json``: every operation,
admin token, a bounded number of generated requests each. No request may get
a 5xx, and every response must match the status codes, content type and
schema the document declares.

Schemathesis calls with ``requests`` (blocking), so the cases run in a thread
while the API keeps serving on the test's event loop. What the fuzzing
created is deleted afterwards, so later tests never see its webhooks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from hookstream.testing.api import ADMIN_TOKEN, ApiClient, ApiServer

log = logging.getLogger(__name__)

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
RESOURCES = ("webhooks", "listeners", "flows")


def fuzz_operations(document: dict[str, Any], base_url: str) -> dict[str, Counter[int]]:
    """Run every operation's cases; return the statuses each operation answered."""
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ran: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        statuses = ran[operation.label] = Counter()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases every run: a failure reproduces
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=base_url, headers=headers, checks=CHECKS, timeout=30
            )
            statuses[response.status_code] += 1  # noqa: B023 - check() runs in this iteration

        check()
    return ran


async def existing(api: ApiClient) -> dict[str, set[str]]:
    found = {}
    for resource in RESOURCES:
        status, body = await api.call("GET", f"/api/v1/{resource}")
        assert status == 200, body
        items = body["data"]
        found[resource] = {item["id"] for item in items}
    return found


@pytest.mark.timeout(600)
async def test_every_operation_survives_schemathesis(api_server: ApiServer, api: ApiClient) -> None:
    status, document = await api.call("GET", "/api/v1/openapi.json", token=None)
    assert status == 200, document
    before = await existing(api)
    try:
        ran = await asyncio.to_thread(fuzz_operations, document, api_server.url)
    finally:
        after = await existing(api)
        for resource in RESOURCES:
            for created in after[resource] - before[resource]:
                await api.call("DELETE", f"/api/v1/{resource}/{created}")
    documented = sum(
        1 for item in document["paths"].values() for method in item if method != "parameters"
    )
    assert len(ran) == documented
    for label, statuses in ran.items():
        assert statuses, label
    every = sum(ran.values(), Counter())
    assert sum(every.values()) > 5 * documented, every
    # Generated requests both pass validation and get refused: the fuzzing
    # reached the handlers, not only the auth and JSON checks.
    assert sum(n for status, n in every.items() if 200 <= status < 300) > 0, every
    assert every[422] > 0, every
    log.info(
        "schemathesis: %d requests, statuses %s", sum(every.values()), dict(sorted(every.items()))
    )
