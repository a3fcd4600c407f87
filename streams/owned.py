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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.consumer.fetcher import OffsetResetStrategy

from streams.broker_compat import fetch_wait_ms

log = logging.getLogger(__name__)

COMMITTED_TIMEOUT = 10.0


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


async def reassign(consumer: AIOKafkaConsumer, wanted: Iterable[TopicPartition]) -> Change:
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
    unpositioned = [tp for tp in target if tp not in positions(consumer)]
    committed = await _committed(consumer, unpositioned)
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
    # A fetch wait that grows with the assignment (see broker_compat).
    consumer._fetcher._fetch_max_wait_ms = fetch_wait_ms(len(target))
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
