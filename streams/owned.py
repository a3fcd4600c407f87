"""Moving a manually assigned consumer to a new set of partitions in place.

aiokafka's ``assign()`` replaces the whole assignment: every partition gets a
fresh state, positions fall back to the last commit and pauses are lost. Kept
partitions would then be fetched again from their commit point — records
already handed to delivery lanes would be delivered twice. :func:`reassign`
keeps each kept partition's position and pause, so adding one webhook's topic
costs the others nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.consumer.fetcher import OffsetResetStrategy
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

COMMITTED_TIMEOUT = 10.0
METADATA_TIMEOUT = 10.0
# After a change, look again this often for this long: a topic created a
# moment ago may not show all of its partitions in metadata yet.
SETTLE_EVERY = 0.5
SETTLE_FOR = 3.0
# How often a ``changed`` predicate is asked (it must be cheap).
WATCH_EVERY = 0.05
# After a failed look, look again this soon.
RETRY_EVERY = 1.0


@dataclass(frozen=True)
class Change:
    added: set[TopicPartition] = field(default_factory=set)
    removed: set[TopicPartition] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def positions(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """The fetch position of every assigned partition that has one (client
    internals: the public ``position()`` would wait for partitions that have none)."""
    subscription = consumer._subscription.subscription
    if subscription is None or subscription.assignment is None:
        return {}
    assignment = subscription.assignment
    found: dict[TopicPartition, int] = {}
    for tp in assignment.tps:
        state = assignment.state_value(tp)
        if state is not None and state.has_valid_position:
            found[tp] = state.position
    return found


async def reassign(
    consumer: AIOKafkaConsumer, wanted: Iterable[TopicPartition], *, from_commits: bool = True
) -> Change:
    """``from_commits``: new partitions start at their group's commit (else,
    and without one, at the beginning)."""
    target = set(wanted)
    current = set(consumer.assignment())
    if target == current:
        return Change()
    # Every partition gets its position right after assign(), with nothing
    # awaited in between. Left without one, aiokafka's fetcher asks for its
    # committed offset partition by partition, and an ask still pending when
    # the next assign() replaces the assignment is never answered: the
    # fetcher then waits forever and the consumer silently stops (seen on
    # the embedded broker's disk storage, where each lookup is slow).
    known = positions(consumer)
    new = [tp for tp in target if tp not in known]
    committed = await _committed(consumer, new) if from_commits else {}
    kept_positions = {tp: pos for tp, pos in positions(consumer).items() if tp in target}
    paused = set(consumer.paused()) & target
    consumer.assign(sorted(target, key=lambda tp: (tp.topic, tp.partition)))
    unknown = []
    for tp in target:
        if tp in kept_positions:
            consumer.seek(tp, kept_positions[tp])
        elif tp in committed:
            consumer.seek(tp, committed[tp])
        else:
            unknown.append(tp)
    if unknown:
        # auto_offset_reset=earliest, resolved by the fetcher in one request.
        consumer._fetcher.request_offset_reset(unknown, OffsetResetStrategy.EARLIEST)
    if paused:
        consumer.pause(*paused)
    change = Change(added=target - current, removed=current - target)
    log.info(
        "assignment now %d partitions (+%d -%d)",
        len(target),
        len(change.added),
        len(change.removed),
    )
    return change


async def _committed(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Committed offsets of ``partitions`` in one request (absent: none)."""
    if not partitions:
        return {}
    async with asyncio.timeout(COMMITTED_TIMEOUT):
        found = await consumer._coordinator.fetch_committed_offsets(partitions)
    return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}


async def existing_partitions(
    consumer: AIOKafkaConsumer, wanted: Callable[[str], bool]
) -> set[TopicPartition]:
    """Every partition of every existing topic ``wanted`` accepts. One metadata
    request for all topics: naming a missing topic in a metadata request would
    make brokers with auto-creation (Tansu, Kafka's default) create it."""
    cluster = await consumer._client.fetch_all_metadata()
    return {
        TopicPartition(topic, partition)
        for topic in cluster.topics()
        if wanted(topic)
        for partition in cluster.partitions_for_topic(topic) or ()
    }


class PartitionWatch:
    """Keeps a manually assigned consumer on the partitions it should own.

    Looks at the cluster's topics (one metadata request, beside the fetch
    loop, never in its way) and hands the partitions of the topics
    ``wanted_topic`` accepts to ``apply``, which returns True when that
    changed the assignment. It looks every ``every`` seconds, at once when
    :meth:`poke` is called or ``changed()`` turns true, and every
    ``settle_every`` for ``settle_for`` seconds after a change.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        *,
        what: str,
        wanted_topic: Callable[[str], bool],
        apply: Callable[[set[TopicPartition]], Awaitable[bool]],
        every: float,
        changed: Callable[[], bool] = lambda: False,
        settle_every: float = SETTLE_EVERY,
        settle_for: float = SETTLE_FOR,
    ) -> None:
        # ``changed`` answers "anything new since you last asked?" (it
        # consumes the change) and must be cheap: it is asked every WATCH_EVERY.
        self._consumer = consumer
        self._what = what
        self._wanted_topic = wanted_topic
        self._apply = apply
        self._every = every
        self._changed = changed
        self._settle_every = settle_every
        self._settle_for = settle_for
        self._poked = asyncio.Event()
        self._failed_looks = 0

    def poke(self) -> None:
        self._poked.set()

    async def run(self) -> None:
        settle_until = 0.0
        prompted = True
        while True:
            self._poked.clear()
            wait = self._every
            found = await self._look()
            if found is None:
                wait = RETRY_EVERY
            else:
                try:
                    if await self._apply(found) or prompted:
                        settle_until = time.monotonic() + self._settle_for
                except (TimeoutError, KafkaError) as exc:
                    # e.g. committed offsets not fetched in time: try again
                    # soon rather than restart the whole agent.
                    log.warning("could not take up %s (will try again): %r", self._what, exc)
                    wait = RETRY_EVERY
            if time.monotonic() < settle_until:
                wait = min(wait, self._settle_every)
            prompted = await self._until_due(time.monotonic() + wait)

    async def _look(self) -> set[TopicPartition] | None:
        """The partitions found, or None. A run of failures (Kafka unreachable:
        one a second) is logged when it starts and when it ends."""
        try:
            async with asyncio.timeout(METADATA_TIMEOUT):
                found = await existing_partitions(self._consumer, self._wanted_topic)
        except (TimeoutError, KafkaError) as exc:
            if not self._failed_looks:
                log.warning(
                    "could not list %s (trying again every %.0fs): %r",
                    self._what,
                    RETRY_EVERY,
                    exc,
                )
            self._failed_looks += 1
            return None
        if self._failed_looks:
            log.info("listed %s again after %d failed tries", self._what, self._failed_looks)
            self._failed_looks = 0
        return found

    async def _until_due(self, deadline: float) -> bool:
        """Wait until ``deadline``, a poke or a change; True for a change."""
        while True:
            if self._changed():
                return True
            left = deadline - time.monotonic()
            if left <= 0 or self._poked.is_set():
                return False
            try:
                async with asyncio.timeout(min(left, WATCH_EVERY)):
                    await self._poked.wait()
            except TimeoutError:
                pass
