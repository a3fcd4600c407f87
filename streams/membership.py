"""Which partitions this worker process owns, without a rebalance per topic.

A consumer group subscribed to a topic *pattern* rebalances — pausing every
member for seconds — whenever a matching topic appears, and hookstream
creates a topic for every webhook, all day. So the routing and delivery
consumers assign their partitions themselves:

* a partition ``(topic, p)`` belongs to slot ``(crc32(topic) + p) % SLOT_COUNT``
  (:func:`slot_of`: stable across processes and restarts). A topic's
  partitions sit in consecutive slots, and the group deals slots out round
  robin, so one topic's partitions spread over up to that many workers. (An
  earlier ``crc32("topic/p")`` gave every partition of a topic the same
  lowest bit, because crc32 is linear: with two workers, each webhook's
  partitions all went to one of them.);
* the slots are the partitions of the fixed topic ``hookstream.worker-slots``,
  shared among the worker processes by an ordinary consumer group whose
  subscription never changes (:class:`SlotMembership`).

A new topic is therefore picked up by its owner alone, with no rebalance. Only
a worker joining or leaving moves slots, through the group's eager rebalance:
every member first releases what it owns (drains, commits), then the slots are
dealt out again, so two workers never process one partition at once.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import ConsumerRebalanceListener, TopicPartition

from streams.kafka import new_group_consumer, stop_quietly
from streams.service import SupervisedLoop, no_restart_hook
from streams.topics import SLOT_COUNT, WORKER_SLOTS

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]

# How long a stopping worker spends finishing and committing what it owns
# before it leaves the group anyway.
LEAVE_GRACE = 15.0


def slot_of(topic: str, partition: int, slots: int = SLOT_COUNT) -> int:
    return (zlib.crc32(topic.encode()) + partition) % slots


class SlotMembership(SupervisedLoop, ConsumerRebalanceListener):  # type: ignore[misc]
    """This process's share of the slots, and hooks run when it changes."""

    name = "membership"

    def __init__(
        self,
        bootstrap: str,
        group: str,
        *,
        name: str = "membership",
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self.name = name
        self._consumer = new_group_consumer(bootstrap, group)
        self._slots: frozenset[int] = frozenset()
        self._release_hooks: list[Hook] = []
        self._assign_hooks: list[Hook] = []
        self._assigned = asyncio.Event()
        # False when a stop left before everything owned was finished and committed.
        self.left_cleanly = True

    def on_change(self, *, release: Hook, assigned: Hook) -> None:
        """``release`` runs before slots are taken away (finish and commit
        everything owned); ``assigned`` runs once the new share is known."""
        self._release_hooks.append(release)
        self._assign_hooks.append(assigned)

    @property
    def slots(self) -> frozenset[int]:
        return self._slots

    def owns(self, tp: TopicPartition) -> bool:
        return slot_of(tp.topic, tp.partition) in self._slots

    def owned(self, partitions: Iterable[TopicPartition]) -> set[TopicPartition]:
        return {tp for tp in partitions if self.owns(tp)}

    async def wait_assigned(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._assigned.wait(), timeout)

    # -- rebalance listener (runs inside the group coordinator) -------------
    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._slots = frozenset()
        self._assigned.clear()
        for release in self._release_hooks:
            await release()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        # Nothing is ever read from the slots: paused, they cost no fetches
        # (unpaused, 64 empty partitions were fetched about 50 times a second).
        self._consumer.pause(*assigned)
        self._slots = frozenset(tp.partition for tp in assigned if tp.topic == WORKER_SLOTS)
        log.info("%s: worker owns %d of %d slots", self.name, len(self._slots), SLOT_COUNT)
        self._assigned.set()
        for hook in self._assign_hooks:
            await hook()

    # -- loop ---------------------------------------------------------------
    async def setup(self) -> None:
        self._consumer.subscribe(topics=[WORKER_SLOTS], listener=self)
        await self._consumer.start()

    async def run(self) -> None:
        # The slots topic carries no records; polling keeps the membership
        # alive (aiokafka leaves the group if getmany is not called within
        # max_poll_interval_ms) and drives the rebalance callbacks.
        while True:
            await self._consumer.getmany(timeout_ms=1000)

    async def teardown(self) -> None:
        # Leaving the group hands the slots to the others, who resume from
        # the committed offsets: finish and commit everything owned first
        # (aiokafka's stop() leaves without calling on_partitions_revoked).
        self._slots = frozenset()
        self._assigned.clear()
        try:
            # Bounded: with the broker gone, acknowledgements never come.
            async with asyncio.timeout(LEAVE_GRACE):
                for release in self._release_hooks:
                    await release()
        except Exception:  # uncommitted work is redone by the next owner
            self.left_cleanly = False
            log.warning("%s: could not finish everything before leaving", self.name, exc_info=True)
        await stop_quietly(self._consumer, self.name)
