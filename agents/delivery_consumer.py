"""The machinery shared by deliver_webhooks and retry_deliveries.

One consumer feeds a :class:`streams.lanes.PartitionLane` per partition. Each
lane runs a few requests at once with per-entity order; when a lane's backlog
is full only that partition is paused. A hanging endpoint therefore fills its
own lanes and nobody else's. Offsets are committed per partition up to the
first unfinished record, so a crash re-sends (same delivery id) rather than
loses. Subclasses say which partitions to consume and may hold records back
until they are due (retry tiers). Supervision (restart with backoff, the
restarts metric, readiness) comes from :class:`streams.service.SupervisedLoop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError

from hookstream.delivery.attempts import Attempter
from hookstream.delivery.rate_limit import RateLimits
from hookstream.delivery.retry_policy import Decision
from hookstream.delivery.sender import AttemptResult
from hookstream.invalid_records import unreadable_record
from hookstream.metrics import Metrics
from schemas.deliveries import Delivery
from schemas.webhooks import Webhook
from streams.broker_compat import FetchWait
from streams.dormancy import Dormancy
from streams.kafka import EndOffsets, stop_quietly
from streams.lanes import PartitionLane
from streams.owned import positions
from streams.poison import fetch_isolating
from streams.service import SupervisedLoop, no_restart_hook
from streams.table import CompactedTable
from streams.topics import INVALID_EVENTS

log = logging.getLogger(__name__)

# Pause a partition once this many of its records are unfinished; resume below the low mark.
BACKLOG_HIGH = 200
BACKLOG_LOW = 50
COMMIT_EVERY = 1.0
REVOKE_GRACE = 3.0
POLL_MS = 100
# Dormant partitions' end offsets not known in this long: wake them all.
END_OFFSETS_TIMEOUT = 5.0
CATCH_UP_TIMEOUT = 2.0


class FailureHandler(Protocol):
    """What happens to a delivery that did not succeed
    (hookstream/delivery/failure_router.py): ``plan`` decides what follows
    a failed attempt (before it is logged), ``__call__`` carries it out."""

    def plan(self, delivery: Delivery, result: AttemptResult) -> Decision: ...

    async def __call__(
        self,
        webhook: Webhook,
        delivery: Delivery,
        result: AttemptResult,
        decision: Decision | None = None,
    ) -> None: ...

    async def not_sent(self, delivery: Delivery, reason: str) -> None: ...


class InFlightLimit(Protocol):
    """A cap on one tenant's attempts in flight in this worker, taken before
    a connection slot (hookstream/tenants/fairness.py); None: no tenant."""

    def hold(self, key: str | None) -> AbstractAsyncContextManager[None]: ...


class NoLimit:
    def hold(self, key: str | None) -> AbstractAsyncContextManager[None]:
        return nullcontext()


class DeliveryConsumer(SupervisedLoop):
    name = "deliveries"
    beats = True

    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        concurrency: int,
        table: CompactedTable[Webhook],
        attempter: Attempter,
        metrics: Metrics,
        on_failure: FailureHandler,
        end_offsets: EndOffsets | None = None,
        on_restart: Callable[[str], None] = no_restart_hook,
        tenant_limit: InFlightLimit | None = None,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self._consumer = consumer
        self._tenant_limit = tenant_limit or NoLimit()
        # With ``end_offsets``, quiet partitions go dormant (streams/dormancy.py).
        self._end_offsets = end_offsets
        self._dormancy = Dormancy() if end_offsets is not None else None
        self.fetch_wait = FetchWait(consumer, asleep=self._asleep)
        self._producer = producer
        self._table = table
        self._attempter = attempter
        self._metrics = metrics
        self._on_failure = on_failure
        self._rate_limits = RateLimits()
        self._concurrency = concurrency
        self._lanes: dict[TopicPartition, PartitionLane] = {}
        self._committed: dict[TopicPartition, int] = {}
        # Partitions paused until a time (epoch seconds) because their next record is not due.
        self._held_until: dict[TopicPartition, float] = {}
        # What this loop paused (backlog full or not due). Kept here because
        # aiokafka's paused() walks every assigned partition, thousands of
        # them with a thousand webhooks, on every fetch.
        self._paused: set[TopicPartition] = set()
        # Fetching and (re)assigning never interleave.
        self._lock = asyncio.Lock()

    # -- what subclasses decide ---------------------------------------------
    def subscribe(self) -> None:
        """Subscribe (group), or start with nothing assigned (manual: the
        subclass assigns in :meth:`keep_assignment`). A manual consumer must be
        assigned something, even nothing: aiokafka's ``getmany`` waits for an
        assignment forever otherwise, holding the lock a release needs."""
        self._consumer.assign([])

    async def keep_assignment(self) -> None:
        """Runs beside the fetch loop for as long as it runs (manual
        consumers: follow what this worker should own). Never in the fetch
        loop itself: a slow metadata request must not stop deliveries."""

    def lane_concurrency(self, tp: TopicPartition) -> int:
        """Requests in flight at once on one partition."""
        return self._concurrency

    def hold_until(self, record: Any) -> float:
        """Epoch seconds before which ``record`` must not be attempted (0: now)."""
        return 0.0

    def assignment(self) -> set[TopicPartition]:
        """The partitions this consumer holds now."""
        return set(self._consumer.assignment())

    def load(self) -> dict[str, int]:
        """Records unfinished and being handled now, over every lane, and the
        partitions paused (for /internal/status)."""
        lanes = self._lanes.values()
        return {
            "unfinished": sum(lane.backlog for lane in lanes),
            "running": sum(lane.running for lane in lanes),
            "paused": len(self._paused),
            "dormant": self._asleep(),
        }

    def dormant(self) -> set[TopicPartition]:
        """The partitions not fetched now because they have been quiet."""
        return set(self._dormancy.dormant) if self._dormancy is not None else set()

    def _asleep(self) -> int:
        return len(self._dormancy.dormant) if self._dormancy is not None else 0

    # -- lifecycle ----------------------------------------------------------
    async def setup(self) -> None:
        self.subscribe()
        await self._consumer.start()

    async def teardown(self) -> None:
        await self.release_all()
        await stop_quietly(self._consumer, self.name)
        if self._end_offsets is not None:
            await self._end_offsets.stop(self.name)

    async def recover(self) -> None:
        """After a failed round: finish and commit what is done, then read
        again from the commit point (what was in flight is sent again)."""
        await self.release_all()
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is not None:
                self._consumer.seek(tp, committed)
        self._consumer.resume(*self._consumer.paused())
        self._paused.clear()
        if self._dormancy is not None:
            self._dormancy.forget()

    async def release_all(self) -> None:
        async with self._lock:
            await self._release(list(self._lanes))

    async def _release(self, partitions: list[TopicPartition], grace: float = REVOKE_GRACE) -> None:
        lanes = [self._lanes[tp] for tp in partitions if tp in self._lanes]
        await asyncio.gather(*(lane.close(grace) for lane in lanes))
        await self._commit(partitions)
        for tp in partitions:
            self._lanes.pop(tp, None)
            self._committed.pop(tp, None)
            self._held_until.pop(tp, None)
            self._paused.discard(tp)
        if self._dormancy is not None:
            self._dormancy.forget(partitions)

    # -- main loop ----------------------------------------------------------
    async def run(self) -> None:
        # Either failing ends both, and the supervisor restarts them together.
        async with asyncio.TaskGroup() as group:
            group.create_task(self.keep_assignment(), name=f"{self.name}:assignment")
            if self._dormancy is not None:
                group.create_task(self._tend_dormant(self._dormancy), name=f"{self.name}:dormant")
            await self._fetch_loop()

    async def _fetch_loop(self) -> None:
        last_commit = time.monotonic()
        while True:
            async with self._lock:
                await self._consume_once()
                if time.monotonic() - last_commit >= COMMIT_EVERY:
                    await self._commit(list(self._lanes))
                    last_commit = time.monotonic()
            self.progressed()
            await asyncio.sleep(0)  # let a waiting reassignment take the lock

    async def _consume_once(self) -> None:
        batches = await fetch_isolating(
            self._consumer, timeout_ms=POLL_MS, max_records=None, on_unreadable=self._unreadable
        )
        # A paused partition is not idleness: its resume must not wait out a
        # long idle fetch already in flight.
        self.fetch_wait.after_fetch(bool(batches) or bool(self._paused))
        now = time.time()
        if self._dormancy is not None:
            seen = time.monotonic()
            for tp in batches:
                self._dormancy.saw_records(tp, seen)
        for tp, records in batches.items():
            lane = self._lanes.get(tp)
            if lane is None:
                lane = self._lanes[tp] = PartitionLane(
                    f"{tp.topic}[{tp.partition}]",
                    self._handle,
                    self.lane_concurrency(tp),
                    low_water=BACKLOG_LOW,
                    on_low=functools.partial(self._resume_now, tp),
                )
            for record in records:
                due = self.hold_until(record)
                if due > now:
                    # Not due yet: stop this partition here and come back
                    # for this very record when it is due.
                    self._pause(tp)
                    self._consumer.seek(tp, record.offset)
                    self._held_until[tp] = due
                    break
                lane.submit(record)
            if lane.backlog >= BACKLOG_HIGH:
                self._pause(tp)
        for tp in list(self._paused):
            self._resume_if_ready(tp, now)

    def _resume_now(self, tp: TopicPartition) -> None:
        self._resume_if_ready(tp, time.time())

    def _resume_if_ready(self, tp: TopicPartition, now: float) -> None:
        """Resume a partition paused here once it is due and its lane has room.
        Called each fetch round and by the lane the moment its backlog falls
        to BACKLOG_LOW (aiokafka's fetcher sends a fetch for a resumed
        partition at once)."""
        if tp not in self._paused or self._held_until.get(tp, 0.0) > now:
            return
        self._held_until.pop(tp, None)
        lane = self._lanes.get(tp)
        if lane is None or lane.backlog <= BACKLOG_LOW:
            self._paused.discard(tp)
            with contextlib.suppress(IllegalStateError):  # no longer assigned
                self._consumer.resume(tp)

    # -- dormant partitions (streams/dormancy.py) ----------------------------
    async def _tend_dormant(self, dormancy: Dormancy) -> None:
        """Beside the fetch loop: put quiet partitions to sleep, wake those
        that have records again. Pausing and resuming need no lock: nothing
        is awaited between looking at the assignment and changing it."""
        while True:
            await asyncio.sleep(dormancy.check_every())
            if dormancy.sleep_check_due(time.monotonic()):
                self._put_to_sleep(dormancy)
            if dormancy.dormant:
                await self._wake_with_records(dormancy)

    def _put_to_sleep(self, dormancy: Dormancy) -> None:
        assigned = self._consumer.assignment()
        dormancy.keep_only(assigned)
        # Assigned afresh since it fell asleep (a new assignment is unpaused).
        paused = self._consumer.paused()
        dormancy.forget([tp for tp in dormancy.dormant if tp not in paused])
        known = positions(self._consumer)
        candidates = [
            tp
            for tp in assigned
            if tp in known and tp not in self._paused and not self._unfinished(tp)
        ]
        sleepy = dormancy.to_sleep(candidates, time.monotonic())
        if sleepy:
            self._consumer.pause(*sleepy)

    async def _wake_with_records(self, dormancy: Dormancy) -> None:
        assert self._end_offsets is not None
        try:
            async with asyncio.timeout(END_OFFSETS_TIMEOUT):
                ends = await self._end_offsets.of(dormancy.dormant)
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning(
                "agent=%s end offsets failed; waking every dormant partition: %r", self.name, exc
            )
            ends = dict.fromkeys(dormancy.dormant, 1 << 62)
        woken = dormancy.to_wake(ends, positions(self._consumer), time.monotonic())
        assigned = self._consumer.assignment()
        awake = [tp for tp in woken if tp in assigned and tp not in self._paused]
        if awake:
            self._consumer.resume(*awake)

    def _unfinished(self, tp: TopicPartition) -> bool:
        lane = self._lanes.get(tp)
        return lane is not None and lane.backlog > 0

    def _pause(self, tp: TopicPartition) -> None:
        self._consumer.pause(tp)
        self._paused.add(tp)

    async def _commit(self, partitions: list[TopicPartition]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for tp in partitions:
            lane = self._lanes.get(tp)
            offset = lane.tracker.committable() if lane else None
            if offset is not None and offset != self._committed.get(tp):
                offsets[tp] = offset
            if offset is not None:
                self._metrics.report_lag(self._consumer, tp, offset)
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001 - a failed commit only means re-sending later
            log.warning("agent=%s commit failed (will retry): %r", self.name, exc)
            return
        self._committed.update(offsets)

    async def _unreadable(self, tp: TopicPartition, offset: int, exc: Exception) -> None:
        self._metrics.invalid_events.labels(topic=tp.topic).inc()
        log.error("agent=%s unreadable record %s@%d skipped: %r", self.name, tp, offset, exc)
        value = unreadable_record(tp.topic, tp.partition, offset, exc)
        await self._producer.send_and_wait(INVALID_EVENTS, value=value)

    def _parse(self, record: Any) -> Delivery | None:
        try:
            return Delivery.from_json(record.value)
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            log.error(  # noqa: TRY400 - the reason is the message; no traceback needed
                "malformed delivery topic=%s offset=%s: %r", record.topic, record.offset, exc
            )
            self._metrics.deliveries.labels(webhook="unknown", outcome="malformed").inc()
            return None

    async def _handle(self, record: Any) -> None:
        delivery = self._parse(record)
        if delivery is None:
            return
        webhook = self._table.get(delivery.webhook_id)
        if webhook is not None and not webhook.enabled:
            # Maybe enabled a moment ago (a recover right after enabling
            # queued this): read the table up to now before deciding.
            await self._table.catch_up(timeout=CATCH_UP_TIMEOUT)
            webhook = self._table.get(delivery.webhook_id)
        if webhook is not None and webhook.enabled:
            webhook = await self._wait_for_rate_limit(webhook)
        if webhook is None or not webhook.enabled:
            # Deleted or disabled after the event was routed: nothing is sent.
            self._metrics.deliveries.labels(webhook=delivery.webhook_id, outcome="skipped").inc()
            if webhook is not None:
                # Disabled (410 Gone, or by hand) with this one queued or
                # waiting to retry: dead-lettered, never dropped, so
                # POST /webhooks/{id}/recover sends it once enabled again.
                await self._on_failure.not_sent(delivery, "webhook disabled")
            return
        # A tenant whose endpoints hang waits here for its own share, not
        # for connection slots every tenant needs.
        async with self._tenant_limit.hold(webhook.tenant_id):
            result, _, decision = await self._attempter.attempt_and_plan(
                webhook, delivery, self._on_failure.plan
            )
        if not result.ok:
            await self._on_failure(webhook, delivery, result, decision)

    async def _wait_for_rate_limit(self, webhook: Webhook) -> Webhook | None:
        """Wait, in this lane, until the webhook's rateLimit lets one more
        attempt start (no wait without one); the webhook as it is then.
        Nothing is booked ahead: a waiting delivery re-reads the webhook at
        least every second, so a changed or removed limit, or a webhook
        disabled or deleted meanwhile, applies to it at once
        (hookstream/delivery/rate_limit.py). Waiting is not an attempt."""
        webhook_id = webhook.id
        if webhook.rate_limit is None:
            self._rate_limits.of(webhook)  # forget a limit just removed
            return webhook
        current, _ = await self._rate_limits.wait_turn(
            functools.partial(self._table.get, webhook_id),
            # Counted as the wait begins: an hour's wait shows at once.
            on_wait=self._metrics.rate_limited.labels(webhook_id).inc,
        )
        return current
