"""The run_flows faust agent hands each flow trigger to its handler, in order
(faust's own test_context: an in-memory channel, no broker)."""

from __future__ import annotations

from typing import Any

import faust

from agents.run_flows import define_run_flows


async def test_run_flows_passes_every_trigger_to_the_handler() -> None:
    app = faust.App("test-run-flows", broker="kafka://127.0.0.1:1")
    seen: list[Any] = []

    async def record(raw: Any) -> None:
        seen.append(raw)

    agent = define_run_flows(app, record)
    async with agent.test_context() as context:
        for n in range(3):
            await context.put(f'{{"listenerId": "ls_1", "deliveryId": "d{n}"}}'.encode())
    assert seen == [f'{{"listenerId": "ls_1", "deliveryId": "d{n}"}}'.encode() for n in range(3)]


def test_the_worker_app_defines_run_flows() -> None:
    from hookstream.metrics import Metrics
    from hookstream.settings import Settings
    from hookstream.worker import create_worker_app

    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", secret_key="k")
    app, _ = create_worker_app(settings, Metrics())
    assert "run_flows" in app.agents
