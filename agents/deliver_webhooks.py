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
from aiokafka.errors import KafkaError

from agents.delivery_consumer import DeliveryConsumer
from schemas.webhooks import Webhook
from streams.membership import SlotMembership
from streams.owned import existing_partitions, reassign
from streams.topics import DELIVERIES_PREFIX, delivery_topic

log = logging.getLogger(__name__)

# Even without a table change, look again this often (topics created by hand,
# a metadata hiccup at the last look).
REFRESH_EVERY = 10.0
# How often the configuration table is checked for changes (a version number).
WATCH_EVERY = 0.05
METADATA_TIMEOUT = 10.0
# After a change, look again this often for this long.
SETTLE_EVERY = 0.5
SETTLE_FOR = 3.0


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
            await reassign(self._consumer, ())

    async def _on_assigned(self) -> None:
        self._refresh_now.set()

    async def keep_assignment(self) -> None:
        settle_until = 0.0
        while True:
            now = time.monotonic()
            every = SETTLE_EVERY if now < settle_until else REFRESH_EVERY
            changed = self._table.version != self._seen_version
            due = changed or self._refresh_now.is_set() or now - self._last_refresh >= every
            # A topic created a moment ago may not show all of its partitions
            # in metadata yet: after a change, look again soon.
            if due and (await self.refresh() or changed):
                settle_until = time.monotonic() + SETTLE_FOR
            await asyncio.sleep(WATCH_EVERY)

    async def refresh(self) -> bool:
        """Consume exactly the owned partitions of the webhooks' topics;
        True when that changed the assignment."""
        self._refresh_now.clear()
        self._seen_version = self._table.version
        self._last_refresh = time.monotonic()
        topics = {delivery_topic(webhook.id) for webhook in self._table.values()}
        try:
            async with asyncio.timeout(METADATA_TIMEOUT):
                found = await existing_partitions(self._consumer, topics.__contains__)
        except (TimeoutError, KafkaError) as exc:
            log.warning("could not list delivery topics (will try again): %r", exc)
            self._refresh_now.set()
            await asyncio.sleep(1)
            return False
        wanted = self._membership.owned(found)
        async with self._lock:
            gone = [tp for tp in self._lanes if tp not in wanted]
            # A deleted webhook's deliveries have nobody left to finish for:
            # cancel them at once instead of holding every other lane up.
            deleted = [tp for tp in gone if self._webhook_of(tp) is None]
            if deleted:
                await self._release(deleted, grace=0)
            if moved := [tp for tp in gone if tp not in deleted]:
                await self._release(moved)
            change = await reassign(self._consumer, wanted)
            for tp, lane in self._lanes.items():
                lane.concurrency = self.lane_concurrency(tp)  # a webhook's may have changed
        return bool(change)

    def lane_concurrency(self, tp: TopicPartition) -> int:
        """A webhook's own ``concurrency`` is spread over its topic's partitions."""
        webhook = self._webhook_of(tp)
        if webhook is None or webhook.concurrency is None:
            return self._concurrency
        partitions = len(self._consumer.partitions_for_topic(tp.topic) or ()) or 1
        return -(-webhook.concurrency // partitions)  # ceiling

    def _webhook_of(self, tp: TopicPartition) -> Webhook | None:
        return self._table.get(tp.topic.removeprefix(DELIVERIES_PREFIX))
