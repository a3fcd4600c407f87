"""The run_flows faust agent hands each flow trigger to the runtime, in order
(faust's own test_context: an in-memory channel, no broker)."""

from __future__ import annotations

from typing import Any

from hookstream.metrics import Metrics
from hookstream.settings import Settings
from streams.app import create_worker_app


async def test_run_flows_passes_every_trigger_to_the_runtime() -> None:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", secret_key="k")
    app, runtime = create_worker_app(settings, Metrics())
    seen: list[Any] = []

    async def record(raw: Any) -> None:
        seen.append(raw)

    runtime.run_flow_trigger = record  # type: ignore[method-assign]
    agent = app.agents["run_flows"]
    async with agent.test_context() as context:
        for n in range(3):
            await context.put(f'{{"listenerId": "ls_1", "deliveryId": "d{n}"}}'.encode())
    assert seen == [f'{{"listenerId": "ls_1", "deliveryId": "d{n}"}}'.encode() for n in range(3)]
