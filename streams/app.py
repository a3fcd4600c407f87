"""The worker's faust App.

faust hosts the worker process: lifecycle, signal handling, logging, the web
server for /metrics, /healthz and /readyz, and the ``run_flows`` agent on the
fixed topic ``hookstream.flow-triggers``. The hot-path agents (route_events,
deliver_webhooks, retry_deliveries) consume topic *patterns* or need to pause
partitions until records are due, which faust's Kafka driver cannot do, so
they run as aiokafka-based components started and stopped with the app (see
streams/broker_compat.py).
"""

from __future__ import annotations

from typing import Any

import faust

from hookstream.metrics import CONTENT_TYPE_LATEST, Metrics
from hookstream.settings import Settings
from hookstream.worker import WorkerRuntime
from streams.broker_compat import faust_broker_options
from streams.kafka import broker_reachable
from streams.topics import FLOW_TRIGGERS, WORKER_APP_ID


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


def create_worker_app(settings: Settings, metrics: Metrics) -> tuple[faust.App, WorkerRuntime]:
    app = faust.App(
        WORKER_APP_ID,
        broker=broker_urls(settings.bootstrap_servers),
        web_port=settings.worker_port,
        web_bind="0.0.0.0",  # noqa: S104 - metrics must be scrapeable
        topic_partitions=4,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        **faust_broker_options(),
    )
    runtime = WorkerRuntime(settings, metrics)

    async def start_pipeline() -> None:
        await runtime.start()

    async def stop_pipeline(sender: Any, *args: Any, **kwargs: Any) -> None:
        await runtime.stop()

    # hookstream.flow-triggers is one fixed topic: a real faust agent. Its
    # offsets are committed by faust after each message is handled.
    flow_triggers = app.topic(FLOW_TRIGGERS, key_serializer="raw", value_serializer="raw")

    async def run_flows(stream: Any) -> None:
        async for value in stream:
            await runtime.run_flow_trigger(value)

    app.agent(flow_triggers, name="run_flows")(run_flows)
    app.task(start_pipeline)
    app.on_before_shutdown.connect(stop_pipeline)  # type: ignore[arg-type]

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready = runtime.ready and await broker_reachable(settings.bootstrap_servers)
        return web.json({"ready": ready}, status=200 if ready else 503)

    @app.page("/internal/status")
    async def internal_status(web: Any, request: Any) -> Any:
        return web.json(runtime.status())

    return app, runtime
