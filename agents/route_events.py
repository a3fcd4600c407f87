"""route_events: every ``events.*`` message → one delivery per matching webhook.

The consumer assigns itself the partitions it owns (streams/membership.py) of
every topic matching ``HOOKSTREAM_EVENT_TOPICS``, looking for new topics every
``HOOKSTREAM_TOPIC_REFRESH_SECONDS``: a new event topic is routed within
seconds on any broker, and nobody pauses for it (no group rebalance).

Each fetched batch is routed into one producer batch per delivery partition
(streams/batches.py: a future per batch, not per record), handed over at
once; while the broker acknowledges them the next batch is fetched and
routed. A batch's offsets are committed, in order, once all of its writes
are acknowledged. A write that fails is sent again by itself (same delivery
ids) until it is acknowledged, so a broker hiccup never replays a whole
routing batch and a healthy system never delivers twice. Catalogue records
(event types, entities) go through :class:`hookstream.catalogue.CatalogueWriter`
and never hold routing up.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hookstream.catalogue import CatalogueWriter
from hookstream.delivery.matching import Routed, RoutingIndex
from hookstream.invalid_records import invalid_record, unreadable_record
from hookstream.metrics import Metrics
from hookstream.tracing import Tracing
from schemas.cloudevents import read_record
from schemas.deliveries import Delivery
from schemas.events import DomainEvent, InvalidEventError
from schemas.webhooks import Webhook
from streams.batches import Batch, PartitionBatches, acknowledged, resend_until_acknowledged
from streams.broker_compat import MAX_RECORD_BYTES, FetchWait, fits_in_a_record
from streams.commits import ThrottledCommits
from streams.kafka import TopicAdmin, TrackingProducer, stop_quietly
from streams.membership import SlotMembership
from streams.owned import PartitionWatch, reassign
from streams.poison import fetch_isolating
from streams.service import SupervisedLoop, no_restart_hook
from streams.table import CompactedTable
from streams.topics import INVALID_EVENTS, TopicSpec, delivery_topic

log = logging.getLogger(__name__)

MAX_BATCH = 2000
CONFIG_CATCH_UP = 2.0
POLL_MS = 100
# Batches routed but not yet acknowledged and committed.
MAX_IN_FLIGHT = 4
RESEND_AFTER = (0.1, 0.25, 0.5, 1.0)
# Acknowledged offsets are committed at most this often (and when partitions
# are given up): a commit per routing batch was a tenth of the broker's
# requests at 1 000 events/s. A crash replays at most this much routing, with
# the same delivery ids.
COMMIT_EVERY = 0.5
STOP_GRACE = 10.0
# A delivery record grows as it fails (each retry carries the outcomes so
# far) and its log records add the request and response (4 KiB of body
# each at most): room for that is kept below a Kafka record's limit.
DELIVERY_HEADROOM = 16 * 1024


class SubscriptionIndex:
    """The routing index (hookstream/delivery/matching.py) of the webhook
    table's current version, rebuilt when the table changes."""

    def __init__(self, table: CompactedTable[Webhook], api_url: str) -> None:
        self.table = table
        self._version = -1
        self._api_url = api_url
        self._index = RoutingIndex((), api_url=api_url)

    def route(self, event: DomainEvent) -> Routed:
        if self._version != self.table.version:
            self._index = RoutingIndex(
                self.table.values(), previous=self._index, api_url=self._api_url
            )
            self._version = self.table.version
        return self._index.route(event)


@dataclass
class Send:
    """One record to write, kept until it is acknowledged."""

    topic: str
    key: bytes | None
    value: bytes
    ack: asyncio.Future[Any] | None = None


@dataclass
class RoutedBatch:
    batches: PartitionBatches
    submitted: list[Batch] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)  # records sent alone
    offsets: dict[TopicPartition, int] = field(default_factory=dict)


class RouteEvents(SupervisedLoop):
    name = "route_events"
    beats = True

    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        membership: SlotMembership,
        event_topics: str,
        refresh_seconds: float,
        delivery_partitions: int,
        table: CompactedTable[Webhook],
        producer: TrackingProducer,
        catalogue: CatalogueWriter,
        topics: TopicAdmin,
        metrics: Metrics,
        api_url: str,
        on_restart: Callable[[str], None] = no_restart_hook,
        tracing: Tracing | None = None,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self._tracing = tracing or Tracing("hookstream")
        self._pattern = re.compile(event_topics)  # fails fast on a bad HOOKSTREAM_EVENT_TOPICS
        self._consumer = consumer
        self.fetch_wait = FetchWait(consumer)
        self._membership = membership
        self._watch = PartitionWatch(
            consumer,
            what="event topics",
            wanted_topic=self._matches,
            apply=self._own,
            every=refresh_seconds,
        )
        self._index = SubscriptionIndex(table, api_url)
        self._producer = producer
        self._catalogue = catalogue
        self._topics = topics
        self._delivery_partitions = delivery_partitions
        self._metrics = metrics
        self._lock = asyncio.Lock()
        self._in_flight: list[asyncio.Task[None]] = []
        # Offsets whose batches are fully acknowledged, not yet committed.
        self._commits = ThrottledCommits(
            consumer,
            every=COMMIT_EVERY,
            name="route_events",
            on_committed=lambda tp, offset: metrics.report_lag(consumer, tp, offset),
        )
        self._prepared_version = -1
        membership.on_change(release=self._on_release, assigned=self._on_assigned)

    def assignment(self) -> set[TopicPartition]:
        """The partitions this consumer holds now."""
        return set(self._consumer.assignment())

    # -- lifecycle ----------------------------------------------------------
    async def setup(self) -> None:
        # Assigned nothing until the first refresh; unassigned, aiokafka's
        # getmany would wait for an assignment forever, holding the lock.
        self._consumer.assign([])
        await self._consumer.start()

    async def teardown(self) -> None:
        try:
            async with asyncio.timeout(STOP_GRACE):
                await self._finish_in_flight()
        except TimeoutError:
            # Not acknowledged in time: uncommitted, so routed again after a restart.
            log.warning("stopping with unacknowledged routing batches; they will be replayed")
        await stop_quietly(self._consumer, self.name)

    async def recover(self) -> None:
        await self._finish_in_flight()
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is not None:
                self._consumer.seek(tp, committed)

    async def _on_release(self) -> None:
        async with self._lock:
            await self._finish_in_flight()
            await reassign(self._consumer, ())

    async def _on_assigned(self) -> None:
        self._watch.poke()

    async def _finish_in_flight(self) -> None:
        tasks, self._in_flight = self._in_flight, []
        for task in tasks:
            await task
        await self._commits.commit()

    # -- loop ---------------------------------------------------------------
    async def run(self) -> None:
        # Looking for topics runs beside fetching, never in its way (a slow
        # metadata request must not stop routing); either failing ends both.
        async with asyncio.TaskGroup() as group:
            group.create_task(self._watch.run(), name="route_events:assignment")
            await self._fetch_loop()

    async def _fetch_loop(self) -> None:
        while True:
            async with self._lock:
                batches = await fetch_isolating(
                    self._consumer,
                    timeout_ms=POLL_MS,
                    max_records=MAX_BATCH,
                    on_unreadable=self._unreadable,
                )
                if batches:
                    await self._route_and_commit_later(batches)
                elif self._commits.due():
                    await self._commits.commit()  # quiet now: commit what is done
            self.fetch_wait.after_fetch(bool(batches))
            self.progressed()
            await asyncio.sleep(0)  # let a waiting reassignment take the lock

    async def _own(self, found: set[TopicPartition]) -> bool:
        """Own exactly the owned partitions of every matching topic; True when
        that changed the assignment."""
        wanted = self._membership.owned(found)
        async with self._lock:
            if wanted == self._consumer.assignment():
                return False
            await self._finish_in_flight()
            return bool(await reassign(self._consumer, wanted))

    def _matches(self, topic: str) -> bool:
        return self._pattern.search(topic) is not None

    async def _route_and_commit_later(self, batches: dict[TopicPartition, list[Any]]) -> None:
        # A webhook created (acknowledged) before these events were consumed
        # must see them: apply every configuration change up to now first.
        if not await self._index.table.catch_up(timeout=CONFIG_CATCH_UP):
            log.warning("webhook table did not catch up in %.0fs; routing anyway", CONFIG_CATCH_UP)
        await self._prepare_delivery_topics()
        routed = RoutedBatch(PartitionBatches(self._producer))
        for tp, records in batches.items():
            self._metrics.events_consumed.labels(tp.topic).inc(len(records))
            for record in records:
                await self._route(record, routed)
            routed.offsets[tp] = records[-1].offset + 1
        routed.submitted = await routed.batches.submit()
        previous = self._in_flight[-1] if self._in_flight else None
        self._in_flight.append(
            asyncio.create_task(self._acknowledge_and_commit(routed, previous), name="route-commit")
        )
        # Keep a few batches in flight; beyond that, wait for the oldest.
        while len(self._in_flight) > MAX_IN_FLIGHT:
            await self._in_flight.pop(0)
        self._in_flight = [task for task in self._in_flight if not task.done()]

    async def _acknowledge_and_commit(
        self, routed: RoutedBatch, previous: asyncio.Task[None] | None
    ) -> None:
        # The acknowledgements are futures already: wait for them without a
        # task each, and go through the resend path only for failures.
        pending = [send.ack for send in routed.sends if send.ack is not None]
        pending += [batch.ack for batch in routed.submitted if batch.ack is not None]
        await asyncio.gather(*pending, return_exceptions=True)
        failed = [send for send in routed.sends if not acknowledged(send.ack)]
        failed_batches = [batch for batch in routed.submitted if not batch.acknowledged]
        if failed or failed_batches:
            for send in failed:
                send.ack = None
            await asyncio.gather(
                *(self._until_acknowledged(send) for send in failed),
                *(
                    resend_until_acknowledged(batch, self._producer, RESEND_AFTER)
                    for batch in failed_batches
                ),
            )
        if previous is not None:
            await previous  # offsets advance in order
        self._commits.finished(routed.offsets)
        if self._commits.due():
            await self._commits.commit()

    async def _until_acknowledged(self, send: Send) -> None:
        attempt = 0
        while True:
            try:
                if send.ack is None:
                    send.ack = await self._producer.send(send.topic, key=send.key, value=send.value)
                await send.ack
                return
            except KafkaError as exc:
                delay = RESEND_AFTER[min(attempt, len(RESEND_AFTER) - 1)]
                log.warning(
                    "send to %s failed (%r); sending it again in %.2fs", send.topic, exc, delay
                )
                send.ack = None
                attempt += 1
                await asyncio.sleep(delay)

    async def _send(self, routed: RoutedBatch, topic: str, key: bytes | None, value: bytes) -> None:
        if routed.batches.add(topic, key, value) is not None:
            return
        send = Send(topic, key, value)
        try:
            send.ack = await self._producer.send(topic, key=key, value=value)
        except KafkaError as exc:
            log.warning("send to %s not queued (%r); will retry", topic, exc)
        routed.sends.append(send)

    async def _route(self, record: Any, routed: RoutedBatch) -> None:
        try:
            # A domain event, or a CloudEvent in binary or structured mode.
            parsed = read_record(
                record.value, record.timestamp, key=record.key, headers=record.headers
            )
        except InvalidEventError as exc:
            await self._report_invalid(routed, record, str(exc))
            return
        except Exception as exc:
            # A parser bug: raising would restart the router at this record, forever.
            log.exception("event %s@%d not parsed", record.topic, record.offset)
            await self._report_invalid(routed, record, f"could not be read: {exc!r}")
            return
        event = parsed.event
        # Every delivery's attempts are children of this span (of the
        # producer's, when nothing is exported: hookstream/tracing.py).
        span = self._tracing.start(
            "route",
            parsed.trace,
            kind="consumer",
            attributes={
                "messaging.destination.name": record.topic,
                "hookstream.event.id": event.event_id,
                "hookstream.event.type": event.event_type,
            },
        )
        self._catalogue.record(event, record.topic)
        enqueued_at = record.timestamp / 1000 if record.timestamp else time.time()
        key = event.entity_id.encode()
        routed_to = self._index.route(event)
        for webhook in routed_to.filtered:
            self._metrics.events_filtered.labels(webhook.id).inc()
        for n, webhook in enumerate(routed_to.matched):
            topic = delivery_topic(webhook.id)
            if not self._topics.known(topic):
                await self._topics.ensure([TopicSpec(topic, self._delivery_partitions)])
            delivery = Delivery.for_event(
                webhook.id, event, enqueued_at=enqueued_at, trace=span.context
            )
            value = delivery.to_json()
            # Every delivery of an event has the same size, give or take the
            # webhook id: the first one decides for all of them.
            if n == 0 and not fits_in_a_record(key, value, DELIVERY_HEADROOM):
                await self._report_invalid(
                    routed,
                    record,
                    f"event too large to deliver: its delivery record would be "
                    f"{len(value)} bytes; a Kafka record holds {MAX_RECORD_BYTES}, "
                    f"less {DELIVERY_HEADROOM} kept for its retries and log",
                )
                span.fail("event too large to deliver")
                span.end()
                return
            await self._send(routed, topic, key, value)
            self._metrics.deliveries_routed.labels(webhook.id).inc()
        span.end()

    async def _report_invalid(self, routed: RoutedBatch, record: Any, reason: str) -> None:
        self._metrics.invalid_events.labels(topic=record.topic).inc()
        log.info("invalid event topic=%s offset=%s reason=%s", record.topic, record.offset, reason)
        value = invalid_record(
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            timestamp=record.timestamp,
        )
        await self._send(routed, INVALID_EVENTS, None, value)

    async def _prepare_delivery_topics(self) -> None:
        """Make sure every webhook's topic exists and is known to the producer,
        in one request each, when the table has webhooks this router has not
        sent to yet (one event fanned out to a thousand new webhooks would
        otherwise cost a thousand metadata round trips)."""
        table = self._index.table
        if table.version == self._prepared_version:
            return
        topics = (delivery_topic(webhook.id) for webhook in table.values())
        new = [topic for topic in topics if not self._topics.known(topic)]
        if new:
            await self._topics.ensure(TopicSpec(topic, self._delivery_partitions) for topic in new)
            await self._producer.track(new)
        self._prepared_version = table.version

    async def _unreadable(self, tp: TopicPartition, offset: int, exc: Exception) -> None:
        self._metrics.invalid_events.labels(topic=tp.topic).inc()
        log.error("unreadable record %s@%d skipped: %r", tp, offset, exc)
        value = unreadable_record(tp.topic, tp.partition, offset, exc)
        await self._until_acknowledged(Send(INVALID_EVENTS, None, value))
