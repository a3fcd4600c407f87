"""retry_deliveries: holds failed deliveries on the delay-tier topics
``hookstream.retries.<delay>`` until they are due, then hands each back to
its webhook's own delivery topic for the next attempt.

Each tier holds deliveries that all wait about the same time, so every tier
partition is in due-time order: the consumer forwards records that are due
and pauses the partition at the first one that is not, until it is. Nothing
sleeps inside a handler and the consumer keeps polling, so the group never
times out however long the delay. The HTTP attempt itself always happens in
the webhook's own delivery lanes, so retries of a dead endpoint never take
capacity from other webhooks, in this consumer or anywhere else.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from aiokafka import ConsumerRebalanceListener, TopicPartition

from agents.delivery_consumer import DeliveryConsumer
from hookstream.delivery.retry_policy import tier_hold
from hookstream.delivery.retry_schedule import parse_duration
from streams.topics import RETRIES_PREFIX, delivery_topic

log = logging.getLogger(__name__)


class RetryDeliveries(DeliveryConsumer, ConsumerRebalanceListener):  # type: ignore[misc]
    """The tier topics are fixed, so this one is an ordinary consumer group."""

    name = "retry_deliveries"

    def __init__(self, *, topics: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._topics = topics
        self._tier_seconds = {t: parse_duration(t.removeprefix(RETRIES_PREFIX)) for t in topics}

    def subscribe(self) -> None:
        self._consumer.subscribe(topics=self._topics, listener=self)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._release([tp for tp in revoked if tp in self._lanes])

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("%s assigned %d partitions", self.name, len(assigned))

    def hold_until(self, record: Any) -> float:
        try:
            not_before = float(orjson.loads(record.value).get("notBefore", 0.0))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            return 0.0  # malformed: let the handler report it
        # The writer's clock (CreateTime), the same kind as notBefore; a
        # broker's LogAppendTime could lag it and release records at once.
        create_time = record.timestamp_type == 0 and record.timestamp and record.timestamp > 0
        written_at = record.timestamp / 1000 if create_time else None
        tier = self._tier_seconds.get(record.topic)
        return not_before if tier is None else tier_hold(not_before, written_at, tier)

    async def _handle(self, record: Any) -> None:
        delivery = self._parse(record)
        if delivery is None or self._table.get(delivery.webhook_id) is None:
            return  # malformed, or the webhook was deleted meanwhile
        if delivery.not_before > time.time():
            # Released before it is due (it waits longer than its tier): once
            # more round the tier, behind the records written since.
            await self._producer.send_and_wait(record.topic, key=record.key, value=record.value)
            return
        # The webhook's topic exists: the API created it before the webhook.
        await self._producer.send_and_wait(
            delivery_topic(delivery.webhook_id),
            key=delivery.event.entity_id.encode(),
            value=delivery.to_json(),
        )
        log.debug("retry due delivery=%s attempt=%d", delivery.delivery_id, delivery.attempt)
