"""The worker process: a faust App hosting every agent, and the resources
they share, opened and closed in one place.

faust hosts the worker process: lifecycle, signal handling, logging, the web
server for /metrics, /healthz and /readyz, and the ``run_flows`` agent on the
fixed topic ``hookstream.flow-triggers``. The hot-path agents (route_events,
deliver_webhooks, retry_deliveries) consume topic *patterns* or need to pause
partitions until records are due, which faust's Kafka driver cannot do, so
they are supervised aiokafka consumers started and stopped with the app (see
streams/broker_compat.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust

from agents.deliver_webhooks import DeliverWebhooks
from agents.retry_deliveries import RetryDeliveries
from agents.route_events import RouteEvents
from agents.run_flows import FlowRunner, define_run_flows
from hookstream.delivery.attempts import Attempter
from hookstream.delivery.failure_router import FailureRouter
from hookstream.delivery.sender import Sender
from hookstream.metrics import CONTENT_TYPE_LATEST, Metrics
from hookstream.secret_box import box_from
from hookstream.settings import Settings
from schemas.flows import Flow
from schemas.webhooks import Webhook
from streams.broker_compat import faust_broker_options
from streams.kafka import (
    TopicAdmin,
    broker_reachable,
    broker_urls,
    new_group_consumer,
    new_producer,
)
from streams.table import CompactedTable
from streams.topics import (
    DELIVER_GROUP,
    FLOWS,
    RETRY_GROUP,
    WEBHOOKS,
    WORKER_APP_ID,
    core_topics,
    retry_topic,
)

log = logging.getLogger(__name__)


class WorkerRuntime:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._built = False
        self.started = asyncio.Event()

    def _build(self) -> None:
        """Create the clients; aiokafka requires a running event loop for this."""
        settings, metrics = self.settings, self.metrics
        box = box_from(settings.configured_secret_key, settings.data_dir)
        bootstrap = settings.bootstrap_servers
        self.topics = TopicAdmin(bootstrap, settings.replication_factor)
        self.producer = new_producer(bootstrap)
        self.webhooks: CompactedTable[Webhook] = CompactedTable(
            bootstrap, WEBHOOKS, lambda raw: Webhook.from_json(raw, box)
        )
        self.sender = Sender(
            timeout=settings.delivery_timeout,
            allow_private_targets=settings.allow_private_targets,
        )
        self.attempter = Attempter(
            sender=self.sender, producer=self.producer, metrics=metrics, api_url=settings.api_url
        )
        self.route = RouteEvents(
            bootstrap=bootstrap,
            event_topics=settings.event_topics,
            refresh_seconds=settings.topic_refresh_seconds,
            delivery_partitions=settings.delivery_partitions,
            table=self.webhooks,
            producer=self.producer,
            topics=self.topics,
            metrics=metrics,
        )
        self.flows: CompactedTable[Flow] = CompactedTable(bootstrap, FLOWS, Flow.from_json)
        self.flow_runner = FlowRunner(
            flows=self.flows, producer=self.producer, topics=self.topics, metrics=metrics
        )
        self.failures = FailureRouter(
            box=box,
            producer=self.producer,
            webhooks=self.webhooks,
            schedule=settings.retry_delays,
            metrics=metrics,
        )
        shared: dict[str, Any] = {
            "concurrency": settings.delivery_concurrency,
            "table": self.webhooks,
            "attempter": self.attempter,
            "metrics": metrics,
            "on_failure": self.failures,
        }
        self.deliver = DeliverWebhooks(
            consumer=new_group_consumer(
                bootstrap,
                DELIVER_GROUP,
                metadata_max_age_ms=int(settings.topic_refresh_seconds * 1000),
                max_poll_records=500,
            ),
            **shared,
        )
        self.retry = RetryDeliveries(
            topics=[retry_topic(label) for label in self.retry_tiers],
            producer=self.producer,
            topic_admin=self.topics,
            delivery_partitions=settings.delivery_partitions,
            consumer=new_group_consumer(bootstrap, RETRY_GROUP, max_poll_records=500),
            **shared,
        )

    @property
    def retry_tiers(self) -> list[str]:
        return self.settings.retry_tiers

    async def start(self) -> None:
        self._build()
        self._built = True
        await self.topics.start()
        await self.topics.ensure(core_topics(self.retry_tiers))
        await self.producer.start()
        await self.sender.start()
        for view in (self.webhooks, self.flows):
            await view.start()
            await view.wait_ready()
        await self.route.start()
        await self.deliver.start()
        if self.retry_tiers:
            await self.retry.start()
        self.started.set()
        log.info("worker pipeline started webhooks=%d", len(self.webhooks))

    async def stop(self) -> None:
        if not self._built:
            return
        # Consumers first (they drain and commit), then what they write with.
        for close in (
            self.route.stop,
            self.deliver.stop,
            self.retry.stop,
            self.webhooks.stop,
            self.flows.stop,
            self.sender.close,
            self.producer.stop,
            self.topics.close,
        ):
            try:
                await close()
            except Exception:
                log.exception("error while stopping %s", close)

    async def run_flow_trigger(self, raw: bytes | None) -> None:
        """Called by the faust agent run_flows for each inbound webhook."""
        await self.started.wait()  # faust may deliver before the pipeline is built
        await self.flow_runner.handle(raw)

    @property
    def ready(self) -> bool:
        if not self._built:
            return False
        retry_ok = self.retry.running or not self.retry_tiers
        return (
            self.webhooks.ready
            and self.flows.ready
            and self.route.running
            and self.deliver.running
            and retry_ok
        )

    def status(self) -> dict[str, Any]:
        if not self._built:
            return {"ready": False, "webhooks": {}}
        return {
            "ready": self.ready,
            "webhooks": {wh.id: wh.updated_at for wh in self.webhooks.values()},
        }


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

    define_run_flows(app, runtime.run_flow_trigger)
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
