"""route_events: every ``events.*`` message → one delivery per matching webhook.

A plain aiokafka consumer with a pattern subscription (faust's is
unimplemented; see streams/broker_compat.py). Batches are routed with sends
that are not awaited one by one; the batch's offsets are committed only after
every send of the batch is acknowledged, so a crash replays the batch instead
of losing it (at-least-once; delivery ids stay the same on replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition

from hookstream.delivery.matching import matching_webhooks
from hookstream.metrics import Metrics
from schemas.deliveries import Delivery
from schemas.events import DomainEvent, InvalidEventError, parse_event
from schemas.webhooks import Webhook
from streams.kafka import TopicAdmin, new_group_consumer, stop_quietly
from streams.table import CompactedTable
from streams.topics import (
    ENTITIES,
    EVENT_TYPES,
    INVALID_EVENTS,
    ROUTE_GROUP,
    TopicSpec,
    delivery_topic,
    entity_key,
)

log = logging.getLogger(__name__)

MAX_BATCH = 2000
MAX_INVALID_VALUE = 64 * 1024
CONFIG_CATCH_UP = 2.0


class SubscriptionIndex:
    """Matching webhooks per event type, rebuilt lazily when the table changes."""

    def __init__(self, table: CompactedTable[Webhook]) -> None:
        self.table = table
        self._version = -1
        self._by_type: dict[str, list[Webhook]] = {}

    def lookup(self, event_type: str) -> list[Webhook]:
        if self._version != self.table.version:
            self._by_type.clear()
            self._version = self.table.version
        found = self._by_type.get(event_type)
        if found is None:
            found = self._by_type[event_type] = matching_webhooks(self.table.values(), event_type)
        return found


def invalid_event_record(record: Any, reason: str) -> bytes:
    value = record.value or b""
    return orjson.dumps(
        {
            "reason": reason,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key.decode("utf-8", "replace") if record.key else None,
            "value": value[:MAX_INVALID_VALUE].decode("utf-8", "replace"),
            "truncated": len(value) > MAX_INVALID_VALUE,
            "timestamp": record.timestamp,
        }
    )


class RouteEvents:
    def __init__(
        self,
        *,
        bootstrap: str,
        event_topics: str,
        refresh_seconds: float,
        delivery_partitions: int,
        table: CompactedTable[Webhook],
        producer: AIOKafkaProducer,
        topics: TopicAdmin,
        metrics: Metrics,
    ) -> None:
        self._pattern = event_topics
        re.compile(event_topics)  # fail fast on a bad HOOKSTREAM_EVENT_TOPICS
        self._consumer = new_group_consumer(
            bootstrap,
            ROUTE_GROUP,
            metadata_max_age_ms=int(refresh_seconds * 1000),
            max_poll_records=MAX_BATCH,
        )
        self._index = SubscriptionIndex(table)
        self._producer = producer
        self._topics = topics
        self._delivery_partitions = delivery_partitions
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None
        self.started = False
        self._seen_types: set[str] = set()

    async def start(self) -> None:
        self._consumer.subscribe(pattern=self._pattern)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="route_events")
        self.started = True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await stop_quietly(self._consumer, "route_events")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=MAX_BATCH)
            if not batches:
                continue
            # A webhook created (acknowledged) before these events were consumed
            # must see them: apply every configuration change up to now first.
            if not await self._index.table.catch_up(timeout=CONFIG_CATCH_UP):
                log.warning(
                    "webhook table did not catch up in %.0fs; routing anyway", CONFIG_CATCH_UP
                )
            try:
                await self._route_batch(batches)
                committed = {tp: records[-1].offset + 1 for tp, records in batches.items()}
                await self._consumer.commit(committed)
                for tp, offset in committed.items():
                    self._metrics.report_lag(self._consumer, tp, offset)
            except Exception as exc:  # noqa: BLE001 - any failure: replay, never skip
                # Not (all) acknowledged or not committed: read the batch again.
                # Replayed deliveries keep their ids, so receivers dedupe them.
                log.warning("routing batch failed, replaying it: %r", exc)
                self._rewind(batches)
                await asyncio.sleep(1)

    def _rewind(self, batches: dict[TopicPartition, list[Any]]) -> None:
        assigned = self._consumer.assignment()
        for tp, records in batches.items():
            if tp in assigned:  # a revoked partition resumes from its commit elsewhere
                self._consumer.seek(tp, records[0].offset)

    async def _route_batch(self, batches: dict[TopicPartition, list[Any]]) -> None:
        acks: list[asyncio.Future[Any]] = []
        for tp, records in batches.items():
            self._metrics.events_consumed.labels(topic=tp.topic).inc(len(records))
            for record in records:
                acks.extend(await self._route(record))
        await asyncio.gather(*acks)

    async def _catalogue(self, event: DomainEvent, topic: str) -> list[asyncio.Future[Any]]:
        """Record a newly seen event type, and the entity behind the event, for
        GET /event-types and GET /entities (the default Entity-URL target)."""
        acks = []
        if event.event_type not in self._seen_types:
            self._seen_types.add(event.event_type)
            seen = {"eventType": event.event_type, "topic": topic, "firstSeenAt": event.timestamp}
            acks.append(
                await self._producer.send(
                    EVENT_TYPES, key=event.event_type.encode(), value=orjson.dumps(seen)
                )
            )
        if event.entity is not None:
            key = entity_key(event.entity_type, event.entity_id)
            latest = {
                "entityType": event.entity_type,
                "entityId": event.entity_id,
                "entity": event.entity,
                "eventId": event.event_id,
                "updatedAt": event.timestamp,
            }
            acks.append(
                await self._producer.send(ENTITIES, key=key.encode(), value=orjson.dumps(latest))
            )
        return acks

    async def _route(self, record: Any) -> list[asyncio.Future[Any]]:
        try:
            event = parse_event(record.value, record.timestamp)
        except InvalidEventError as exc:
            self._metrics.invalid_events.labels(topic=record.topic).inc()
            log.info("invalid event topic=%s offset=%s reason=%s", record.topic, record.offset, exc)
            ack = await self._producer.send(
                INVALID_EVENTS, value=invalid_event_record(record, str(exc))
            )
            return [ack]
        acks = await self._catalogue(event, record.topic)
        for webhook in self._index.lookup(event.event_type):
            topic = delivery_topic(webhook.id)
            await self._topics.ensure([TopicSpec(topic, self._delivery_partitions)])
            delivery = Delivery.for_event(webhook.id, event)
            acks.append(
                await self._producer.send(
                    topic,
                    key=event.entity_id.encode(),
                    value=delivery.to_json(),
                    timestamp_ms=int(time.time() * 1000),
                )
            )
            self._metrics.deliveries_routed.labels(webhook=webhook.id).inc()
        return acks
