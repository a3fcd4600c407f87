"""The worker's faust App.

faust hosts the worker process: lifecycle, signal handling, logging and the
web server for /metrics, /healthz and /readyz. The hot-path agents
(route_events, deliver_webhooks) consume topic *patterns*, which faust's
Kafka driver cannot subscribe to, so they run as aiokafka-based components
started and stopped with the app (see streams/broker_compat.py).
"""

from __future__ import annotations

from typing import Any

import faust

from hookstream.metrics import CONTENT_TYPE_LATEST, Metrics
from hookstream.settings import Settings
from hookstream.worker import WorkerRuntime
from streams.broker_compat import faust_broker_options
from streams.topics import WORKER_APP_ID


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
        status = 200 if runtime.ready else 503
        return web.json({"ready": runtime.ready}, status=status)

    @app.page("/internal/status")
    async def internal_status(web: Any, request: Any) -> Any:
        return web.json(runtime.status())

    return app, runtime
