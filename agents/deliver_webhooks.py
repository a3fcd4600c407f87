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

from typing import Any

from aiokafka import TopicPartition

from agents.delivery_consumer import DeliveryConsumer
from schemas.webhooks import Webhook
from streams.membership import SlotMembership, slot_of
from streams.owned import PartitionWatch, reassign
from streams.topics import DELIVERIES_PREFIX, delivery_topic

# Even without a table change, look again this often (topics created by hand,
# a metadata hiccup at the last look).
REFRESH_EVERY = 10.0


class DeliverWebhooks(DeliveryConsumer):
    name = "deliver_webhooks"

    def __init__(self, *, membership: SlotMembership, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._membership = membership
        self._seen_version = -1
        self._topics: set[str] = set()
        self._watch = PartitionWatch(
            self._consumer,
            what="delivery topics",
            wanted_topic=self._topics.__contains__,
            apply=self._own,
            every=REFRESH_EVERY,
            changed=self._table_changed,
        )
        membership.on_change(release=self._on_release, assigned=self._on_assigned)

    async def _on_release(self) -> None:
        async with self._lock:
            await self._release(list(self._lanes))
            await reassign(self._consumer, ())

    async def _on_assigned(self) -> None:
        self._watch.poke()

    async def keep_assignment(self) -> None:
        await self._watch.run()

    def _table_changed(self) -> bool:
        """A new version of the webhook table (then its topics are looked for)."""
        if self._table.version == self._seen_version:
            return False
        self._seen_version = self._table.version
        self._topics.clear()
        self._topics.update(delivery_topic(webhook.id) for webhook in self._table.values())
        return True

    async def _own(self, found: set[TopicPartition]) -> bool:
        """Consume exactly the owned partitions of the webhooks' topics;
        True when that changed the assignment."""
        wanted = {tp for tp in found if self._owns(tp)}
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

    def _owns(self, tp: TopicPartition) -> bool:
        """Whether this worker delivers ``tp``. A rate-limited webhook's
        partitions all go with its first one: one worker then holds the whole
        limit, where a limit kept by each of several workers would let each
        start the full number. (Setting or clearing a limit moves them; a
        moment of overlap between the old and new owner re-sends, with the
        same delivery ids, never loses.)"""
        webhook = self._webhook_of(tp)
        limited = webhook is not None and webhook.rate_limit is not None
        return slot_of(tp.topic, 0 if limited else tp.partition) in self._membership.slots

    def lane_concurrency(self, tp: TopicPartition) -> int:
        """A webhook's own ``concurrency`` is spread over its topic's partitions."""
        webhook = self._webhook_of(tp)
        if webhook is None or webhook.concurrency is None:
            return self._concurrency
        partitions = len(self._consumer.partitions_for_topic(tp.topic) or ()) or 1
        return -(-webhook.concurrency // partitions)  # ceiling

    def _webhook_of(self, tp: TopicPartition) -> Webhook | None:
        return self._table.get(tp.topic.removeprefix(DELIVERIES_PREFIX))
