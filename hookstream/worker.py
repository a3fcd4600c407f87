"""The worker's resources, opened and closed in one place."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.deliver_webhooks import DeliverWebhooks
from agents.retry_deliveries import RetryDeliveries
from agents.route_events import RouteEvents
from agents.run_flows import FlowRunner
from hookstream.attempts import Attempter
from hookstream.metrics import Metrics
from hookstream.outcomes import FailureRouter
from hookstream.retry_policy import tier_labels
from hookstream.sender import Sender
from hookstream.settings import Settings
from schemas.flows import Flow
from schemas.webhooks import Webhook
from streams.kafka import TopicAdmin, new_group_consumer, new_producer
from streams.table import CompactedTable
from streams.topics import (
    DELIVER_GROUP,
    FLOWS,
    RETRY_GROUP,
    WEBHOOKS,
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
        box = settings.secret_box()
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
        return tier_labels(self.settings.retry_delays)

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
