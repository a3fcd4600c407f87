"""The machinery shared by deliver_webhooks and retry_deliveries.

One consumer feeds a :class:`streams.lanes.PartitionLane` per partition. Each
lane runs a few requests at once with per-entity order; when a lane's backlog
is full only that partition is paused. A hanging endpoint therefore fills its
own lanes and nobody else's. Offsets are committed per partition up to the
first unfinished record, so a crash re-sends (same delivery id) rather than
loses. Subclasses say what to subscribe to and may hold records back until
they are due (retry tiers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from hookstream.delivery.attempts import Attempter
from hookstream.delivery.sender import AttemptResult
from hookstream.metrics import Metrics
from schemas.deliveries import Delivery
from schemas.webhooks import Webhook
from streams.kafka import stop_quietly
from streams.lanes import PartitionLane
from streams.table import CompactedTable

log = logging.getLogger(__name__)

# Pause a partition once this many of its records are unfinished; resume below the low mark.
BACKLOG_HIGH = 200
BACKLOG_LOW = 50
COMMIT_EVERY = 1.0
REVOKE_GRACE = 3.0

FailureHandler = Callable[[Webhook, Delivery, AttemptResult], Awaitable[None]]


class DeliveryConsumer(ConsumerRebalanceListener):  # type: ignore[misc]
    name = "deliveries"

    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        concurrency: int,
        table: CompactedTable[Webhook],
        attempter: Attempter,
        metrics: Metrics,
        on_failure: FailureHandler,
    ) -> None:
        self._consumer = consumer
        self._table = table
        self._attempter = attempter
        self._metrics = metrics
        self._on_failure = on_failure
        self._concurrency = concurrency
        self._lanes: dict[TopicPartition, PartitionLane] = {}
        self._committed: dict[TopicPartition, int] = {}
        # Partitions paused until a time (epoch seconds) because their next record is not due.
        self._held_until: dict[TopicPartition, float] = {}
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> None:
        raise NotImplementedError

    def hold_until(self, record: Any) -> float:
        """Epoch seconds before which ``record`` must not be attempted (0: now)."""
        return 0.0

    async def start(self) -> None:
        self.subscribe()
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release(list(self._lanes))
        await stop_quietly(self._consumer, self.name)

    # -- rebalance listener -------------------------------------------------
    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._release([tp for tp in revoked if tp in self._lanes])

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("%s assigned %d partitions", self.name, len(assigned))

    async def _release(self, partitions: list[TopicPartition]) -> None:
        lanes = [self._lanes[tp] for tp in partitions]
        await asyncio.gather(*(lane.close(REVOKE_GRACE) for lane in lanes))
        await self._commit(partitions)
        for tp in partitions:
            self._lanes.pop(tp, None)
            self._committed.pop(tp, None)
            self._held_until.pop(tp, None)

    # -- main loop ----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            try:
                await self._consume()
            except Exception:
                # Offsets of unfinished records stay uncommitted, so nothing is
                # lost; log and go on rather than leave the worker half-dead.
                log.exception("%s loop error; continuing", self.name)
                await asyncio.sleep(1)

    async def _consume(self) -> None:
        last_commit = time.monotonic()
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            now = time.time()
            for tp, records in batches.items():
                lane = self._lanes.get(tp)
                if lane is None:
                    lane = self._lanes[tp] = PartitionLane(
                        f"{tp.topic}[{tp.partition}]", self._handle, self._concurrency
                    )
                for record in records:
                    due = self.hold_until(record)
                    if due > now:
                        # Not due yet: stop this partition here and come back
                        # for this very record when it is due.
                        self._consumer.pause(tp)
                        self._consumer.seek(tp, record.offset)
                        self._held_until[tp] = due
                        break
                    lane.submit(record)
                if lane.backlog >= BACKLOG_HIGH:
                    self._consumer.pause(tp)
            for tp in self._consumer.paused():
                if self._held_until.get(tp, 0.0) > now:
                    continue
                self._held_until.pop(tp, None)
                lane = self._lanes.get(tp)
                if lane is None or lane.backlog <= BACKLOG_LOW:
                    self._consumer.resume(tp)
            if time.monotonic() - last_commit >= COMMIT_EVERY:
                await self._commit(list(self._lanes))
                last_commit = time.monotonic()

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
            log.warning("commit failed (will retry): %r", exc)
            return
        self._committed.update(offsets)

    def _parse(self, record: Any) -> Delivery | None:
        try:
            return Delivery.from_json(record.value)
        except (ValueError, KeyError, TypeError):
            log.exception("malformed delivery topic=%s offset=%s", record.topic, record.offset)
            self._metrics.deliveries.labels(webhook="unknown", outcome="malformed").inc()
            return None

    async def _handle(self, record: Any) -> None:
        delivery = self._parse(record)
        if delivery is None:
            return
        webhook = self._table.get(delivery.webhook_id)
        if webhook is None or not webhook.enabled:
            # Deleted or disabled after the event was routed: nothing is sent.
            self._metrics.deliveries.labels(webhook=delivery.webhook_id, outcome="skipped").inc()
            return
        result, _ = await self._attempter.attempt(webhook, delivery)
        if not result.ok:
            await self._on_failure(webhook, delivery, result)
