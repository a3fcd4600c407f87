"""deliver_webhooks: the attempts queued on ``hookstream.deliveries.<webhookId>``.

Every webhook has its own delivery topic, and webhooks are created all day. A
consumer group subscribed to the pattern would rebalance — pausing every
webhook for seconds — on each new topic, so this consumer assigns itself the
partitions it owns (streams/membership.py) of the delivery topics of the
webhooks in the configuration table. A new webhook's topic is picked up as
soon as the table shows the webhook (the API creates the topic first), by its
owner alone; nobody else pauses. Offsets are still committed to the
``hookstream-deliver`` group, so restarts and other workers resume from them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import TopicPartition

from agents.delivery_consumer import DeliveryConsumer
from streams.membership import SlotMembership
from streams.owned import existing_partitions, reassign
from streams.topics import DELIVERIES_PREFIX, delivery_topic

log = logging.getLogger(__name__)

# Even without a table change, look again this often (topics created by hand,
# a metadata hiccup at the last look).
REFRESH_EVERY = 10.0


class DeliverWebhooks(DeliveryConsumer):
    name = "deliver_webhooks"

    def __init__(self, *, membership: SlotMembership, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._membership = membership
        self._seen_version = -1
        self._last_refresh = 0.0
        self._refresh_now = asyncio.Event()
        membership.on_change(release=self._on_release, assigned=self._on_assigned)

    async def _on_release(self) -> None:
        async with self._lock:
            await self._release(list(self._lanes))
            reassign(self._consumer, ())

    async def _on_assigned(self) -> None:
        self._refresh_now.set()

    async def between_polls(self) -> None:
        due = time.monotonic() - self._last_refresh >= REFRESH_EVERY
        if self._table.version != self._seen_version or self._refresh_now.is_set() or due:
            await self.refresh()

    async def refresh(self) -> None:
        """Consume exactly the owned partitions of the webhooks' topics."""
        self._refresh_now.clear()
        self._seen_version = self._table.version
        self._last_refresh = time.monotonic()
        topics = {delivery_topic(webhook.id) for webhook in self._table.values()}
        wanted = self._membership.owned(
            await existing_partitions(self._consumer, topics.__contains__)
        )
        async with self._lock:
            gone = [tp for tp in self._lanes if tp not in wanted]
            if gone:
                await self._release(gone)
            reassign(self._consumer, wanted)
            for tp, lane in self._lanes.items():
                lane.concurrency = self.lane_concurrency(tp)  # a webhook's may have changed

    def lane_concurrency(self, tp: TopicPartition) -> int:
        """A webhook's own ``concurrency`` is spread over its topic's partitions."""
        webhook = self._table.get(tp.topic.removeprefix(DELIVERIES_PREFIX))
        if webhook is None or webhook.concurrency is None:
            return self._concurrency
        partitions = len(self._consumer.partitions_for_topic(tp.topic) or ()) or 1
        return -(-webhook.concurrency // partitions)  # ceiling
