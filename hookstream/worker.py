"""The worker's resources, opened and closed in one place."""

from __future__ import annotations

import logging
from typing import Any

from agents.deliver_webhooks import DeliverWebhooks
from agents.route_events import RouteEvents
from hookstream.attempts import Attempter
from hookstream.metrics import Metrics
from hookstream.sender import AttemptResult, Sender
from hookstream.settings import Settings
from schemas.deliveries import Delivery
from schemas.webhooks import Webhook
from streams.kafka import TopicAdmin, new_producer
from streams.table import CompactedTable
from streams.topics import WEBHOOKS, core_topics

log = logging.getLogger(__name__)


class WorkerRuntime:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._built = False

    def _build(self) -> None:
        """Create the clients; aiokafka requires a running event loop for this."""
        settings, metrics = self.settings, self.metrics
        bootstrap = settings.bootstrap_servers
        self.topics = TopicAdmin(bootstrap, settings.replication_factor)
        self.producer = new_producer(bootstrap)
        self.webhooks: CompactedTable[Webhook] = CompactedTable(
            bootstrap, WEBHOOKS, Webhook.from_json
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
        self.deliver = DeliverWebhooks(
            bootstrap=bootstrap,
            refresh_seconds=settings.topic_refresh_seconds,
            concurrency=settings.delivery_concurrency,
            table=self.webhooks,
            attempter=self.attempter,
            metrics=metrics,
            on_failure=self._record_failure,
        )

    async def _record_failure(
        self, webhook: Webhook, delivery: Delivery, result: AttemptResult
    ) -> None:
        log.warning(
            "delivery failed webhook=%s delivery=%s outcome=%s status=%s",
            webhook.id,
            delivery.delivery_id,
            result.outcome,
            result.status,
        )

    async def start(self) -> None:
        self._build()
        self._built = True
        await self.topics.start()
        await self.topics.ensure(core_topics())
        await self.producer.start()
        await self.sender.start()
        await self.webhooks.start()
        await self.webhooks.wait_ready()
        await self.route.start()
        await self.deliver.start()
        log.info("worker pipeline started webhooks=%d", len(self.webhooks))

    async def stop(self) -> None:
        if not self._built:
            return
        # Consumers first (they drain and commit), then what they write with.
        for close in (
            self.route.stop,
            self.deliver.stop,
            self.webhooks.stop,
            self.sender.close,
            self.producer.stop,
            self.topics.close,
        ):
            try:
                await close()
            except Exception:
                log.exception("error while stopping %s", close)

    @property
    def ready(self) -> bool:
        return self._built and self.webhooks.ready and self.route.running and self.deliver.running

    def status(self) -> dict[str, Any]:
        if not self._built:
            return {"ready": False, "webhooks": {}}
        return {
            "ready": self.ready,
            "webhooks": {wh.id: wh.updated_at for wh in self.webhooks.values()},
        }
