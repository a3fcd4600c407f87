"""replay_webhooks: deliver a webhook's history again, from the event topics.

A replay (schemas/replays.py, on ``hookstream.replays``) names a webhook and
a time range. The worker owning the replay (its slot among the routing
workers' slots, streams/membership.py) reads every event topic from the
range's start (Kafka's offsets for times; see streams/broker_compat.py for
Tansu) up to the ends found when it began, and writes a delivery to the
webhook's own delivery topic for every event in the range that the
webhook's *current* event types, tenant and filter take. A delivery has the
id the live delivery of that event had (``Delivery.for_event``: webhook id +
event id), so receivers deduplicate replayed events they already have.

Live traffic is never starved: replayed deliveries are written at a bounded
rate (``HOOKSTREAM_REPLAY_RATE`` per second, and never faster than the
webhook's own ``rateLimit``), so the webhook's lanes keep room for live
deliveries between them, and other webhooks are not involved at all. The
replay's own reading is a consumer of its own, in no group.

Progress (positions, counts) is saved about every second, after the
deliveries written so far are acknowledged: a worker that takes a replay
over (a restart, a kill, slots moving) resumes there, re-sending at most a
second's worth with the same delivery ids. A cancel mark, or the webhook's
deletion, stops it within a second. It never stays "running" on an error:
passing Kafka trouble resumes it a few times (``retry_after``), anything
else (a deleted topic, a bug) ends it as failed, with the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError, KafkaTimeoutError

from hookstream.config_writes import write_config
from hookstream.delivery.matching import Subscription
from hookstream.delivery.rate_limit import RateLimiter
from hookstream.metrics import Metrics
from schemas.cloudevents import read_record
from schemas.deliveries import Delivery
from schemas.events import InvalidEventError
from schemas.replays import (
    FINISHED,
    Replay,
    ReplayRecord,
    Status,
    cancel_key,
    partition_key,
    split_partition_key,
)
from schemas.timestamps import utc_now_iso
from schemas.webhooks import RateLimit, Webhook
from streams.broker_compat import offsets_for_time_lower_bound, true_end_offsets
from streams.history import TopicDeletedError, history_consumer, partitions_of, read_between
from streams.kafka import TrackingProducer, stop_quietly
from streams.membership import SlotMembership, slot_of
from streams.service import SupervisedLoop, no_restart_hook
from streams.table import CompactedTable
from streams.topics import REPLAYS, delivery_topic

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0  # seconds between looks for replays to start or stop
SAVE_EVERY = 1.0  # seconds between progress records of a running replay
CATCH_UP_TIMEOUT = 2.0
SPREAD = 0.05  # seconds between groups of replayed writes
# Seconds before a replay resumes after passing Kafka trouble, try by try;
# after the last, it fails.
RETRY_AFTER = (1.0, 5.0, 15.0)
WEBHOOK_DELETED = "the webhook was deleted"


def spread(per_second: float) -> RateLimit:
    """``per_second`` writes as small groups every SPREAD seconds (one at a
    time below 1 / SPREAD a second), not a second's worth at once: a burst
    of replayed deliveries would queue the webhook's live ones behind it."""
    requests = max(1, int(per_second * SPREAD))
    return RateLimit(requests=requests, per_seconds=requests / per_second)


def retry_after(exc: BaseException, tries: int) -> float | None:
    """Seconds before a replay that failed with ``exc`` for the ``tries``-th
    time resumes from its last acknowledged point, or None: it fails now.
    Only passing trouble is retried (a connection, a timeout, an error
    Kafka calls retriable); a deleted topic, a bug or bad data are not."""
    passing = isinstance(exc, OSError | KafkaTimeoutError) or (
        isinstance(exc, KafkaError) and bool(exc.retriable)
    )
    if not passing or tries > len(RETRY_AFTER):
        return None
    return RETRY_AFTER[tries - 1]


def describe(exc: BaseException) -> str:
    """A replay's ``error``: what failed, for the person who asked for it."""
    if isinstance(exc, TopicDeletedError):
        return str(exc.args[0])
    text = str(exc)
    if isinstance(exc, KafkaError) or not text:  # aiokafka's errors name themselves
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _millis(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


@dataclass
class Run:
    """A replay running in this worker: its task and its last saved-worthy
    state (everything in it is acknowledged)."""

    state: Replay
    task: asyncio.Task[None] | None = None
    subscription: Subscription | None = None
    limiter: RateLimiter | None = None
    saved_at: float = field(default_factory=time.monotonic)
    # Ended (failed) but not yet saved as such: the look loop saves it.
    unsaved: bool = False


@dataclass
class Batch:
    """What a replay did since its state last moved: writes to acknowledge,
    counts, and each partition's next offset."""

    acks: list[asyncio.Future[Any]] = field(default_factory=list)
    scanned: int = 0
    matched: int = 0
    positions: dict[str, int] = field(default_factory=dict)

    def passed(self, record: Any, *, scanned: int = 0, matched: int = 0) -> None:
        """``record`` is dealt with (its delivery, if any, is written)."""
        self.positions[partition_key(record.topic, record.partition)] = record.offset + 1
        self.scanned += scanned
        self.matched += matched


class ReplayWebhooks(SupervisedLoop):
    name = "replay_webhooks"

    def __init__(
        self,
        *,
        bootstrap: str,
        replays: CompactedTable[ReplayRecord],
        webhooks: CompactedTable[Webhook],
        membership: SlotMembership,
        producer: TrackingProducer,
        event_topics: str,
        rate: float,
        metrics: Metrics,
        api_url: str,
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self._bootstrap = bootstrap
        self._api_url = api_url  # of the entityUrl filters see
        self._replays = replays
        self._webhooks = webhooks
        self._membership = membership
        self._producer = producer
        self._event_topics = event_topics
        self._rate = rate
        self._metrics = metrics
        self._runs: dict[str, Run] = {}
        membership.on_change(release=self._release_all, assigned=self._nothing)

    # -- lifecycle ----------------------------------------------------------
    async def setup(self) -> None:
        await self._replays.start()
        await self._replays.wait_ready()

    async def teardown(self) -> None:
        await self._release_all()

    async def recover(self) -> None:
        await self._release_all()

    async def _nothing(self) -> None:
        """Newly owned replays are started by the next look."""

    async def _release_all(self) -> None:
        """Stop every run and save where it got (slots move, or stopping)."""
        runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            await self._stop(run)

    async def _stop(
        self, run: Run, *, status: Status = "running", error: str | None = None
    ) -> None:
        """Stop a run's task and save its last acknowledged state: running
        for whoever owns it next, or ended with ``status`` (cancelled,
        failed) and ``error``."""
        if run.task is not None:
            run.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.task
        if run.state.status != "running" and not run.unsaved:
            return  # finished meanwhile, and saved
        if status != "running" and run.state.status == "running":
            run.state = run.state.with_(status=status, error=error)
        elif run.state.status == "running" and not run.state.ends:
            return  # nothing read yet: the next owner starts it afresh
        try:
            await self._save(run.state)
        except KafkaError:
            log.warning(
                "replay=%s state not saved; its owner looks at it again", run.state.replay_id
            )

    # -- which replays run here ----------------------------------------------
    def owns(self, replay_id: str) -> bool:
        return slot_of(f"{REPLAYS}/{replay_id}", 0) in self._membership.slots

    def cancelled(self, replay_id: str) -> bool:
        return self._replays.get(cancel_key(replay_id)) is not None

    async def run(self) -> None:
        while True:
            wanted = {
                record.replay_id: record
                for record in self._replays.values()
                if isinstance(record, Replay)
                and record.status not in FINISHED
                and self.owns(record.replay_id)
            }
            for replay_id, run in list(self._runs.items()):
                if run.task is not None and run.task.done():
                    if await self._outcome_saved(run):
                        del self._runs[replay_id]
                elif self.cancelled(replay_id) or replay_id not in wanted:
                    # Now, not at its next batch: it may be waiting out a
                    # slow rate limit.
                    del self._runs[replay_id]
                    cancelled = self.cancelled(replay_id)
                    await self._stop(run, status="cancelled" if cancelled else "running")
                elif await self._webhook_gone(run.state.webhook_id):
                    del self._runs[replay_id]
                    await self._stop(run, status="failed", error=WEBHOOK_DELETED)
            for replay_id, replay in wanted.items():
                if replay_id not in self._runs:
                    run = self._runs[replay_id] = Run(replay)
                    run.task = asyncio.create_task(self._run(run), name=f"replay:{replay_id}")
            await asyncio.sleep(LOOK_EVERY)

    async def _outcome_saved(self, run: Run) -> bool:
        """Whether a finished run's outcome is on ``hookstream.replays`` (an
        outcome that could not be saved, Kafka being away, is tried again
        at each look rather than left "running")."""
        if not run.unsaved:
            return True
        try:
            await self._save(run.state)
        except KafkaError as exc:
            log.warning("replay=%s outcome not saved yet: %r", run.state.replay_id, exc)
            return False
        run.unsaved = False
        return True

    async def _webhook_gone(self, webhook_id: str) -> bool:
        """Whether the webhook was deleted: not in the table even once the
        table has read everything written before now (a webhook created
        with replayFrom is written before its replay, but read by another
        view of this worker)."""
        if self._webhooks.get(webhook_id) is not None:
            return False
        caught_up = await self._webhooks.catch_up(timeout=CATCH_UP_TIMEOUT)
        return caught_up and self._webhooks.get(webhook_id) is None

    # -- one replay -----------------------------------------------------------
    async def _run(self, run: Run) -> None:
        """Run a replay to its end. Passing Kafka trouble resumes it from
        its last acknowledged point (``retry_after``); anything else ends it
        as failed, with the error, so that it never stays "running"."""
        replay_id = run.state.replay_id
        for tries in itertools.count(1):
            consumer = history_consumer(self._bootstrap, client_id=f"hookstream-replay-{replay_id}")
            try:
                await consumer.start()
                await self._replay(consumer, run)
                return
            except Exception as exc:  # every failure ends the replay, with its reason
                wait = retry_after(exc, tries)
                if wait is None:
                    log.exception("replay=%s failed", replay_id)
                    await self._fail(run, describe(exc))
                    return
                log.warning(
                    "replay=%s failed (%r); resuming from its last point in %.0fs",
                    replay_id,
                    exc,
                    wait,
                )
            finally:
                await stop_quietly(consumer, f"replay {replay_id}")
            await asyncio.sleep(wait)

    async def _fail(self, run: Run, error: str) -> None:
        run.state = run.state.with_(status="failed", error=error)
        try:
            await self._save(run.state)
        except KafkaError:
            run.unsaved = True  # the look loop saves it once Kafka answers

    async def _replay(self, consumer: AIOKafkaConsumer, run: Run) -> None:
        replay = run.state
        since, until = _millis(replay.since), _millis(replay.until)
        if replay.ends:  # taken over: resume where it got
            ends = {TopicPartition(*split_partition_key(k)): v for k, v in replay.ends.items()}
            starts = {
                TopicPartition(*split_partition_key(k)): v for k, v in replay.positions.items()
            }
        else:
            partitions = await partitions_of(consumer, self._event_topics)
            ends = await true_end_offsets(consumer, partitions)
            starts = await offsets_for_time_lower_bound(consumer, since, ends)
            run.state = replay.with_(
                ends={partition_key(tp.topic, tp.partition): end for tp, end in ends.items()},
                positions={partition_key(tp.topic, tp.partition): o for tp, o in starts.items()},
            )
            await self._save(run.state)
        topic = delivery_topic(replay.webhook_id)
        await self._producer.track([topic])
        async for records in read_between(consumer, starts, ends):
            if not await self._still_wanted(run):
                return
            await self._deliver(run, topic, records, since, until)
            positions = dict(run.state.positions)
            for tp in consumer.assignment():
                positions[partition_key(tp.topic, tp.partition)] = await consumer.position(tp)
            run.state = run.state.with_(positions=positions)
            if time.monotonic() - run.saved_at >= SAVE_EVERY:
                await self._save(run.state)
                run.saved_at = time.monotonic()
        if await self._still_wanted(run):
            run.state = run.state.with_(status="done")
            await self._save(run.state)
            log.info(
                "replay=%s webhook=%s done scanned=%d matched=%d",
                replay.replay_id,
                replay.webhook_id,
                run.state.scanned,
                run.state.matched,
            )

    async def _still_wanted(self, run: Run) -> bool:
        """False when cancelled (saved as such) or its webhook is gone."""
        replay_id = run.state.replay_id
        if self.cancelled(replay_id):
            run.state = run.state.with_(status="cancelled")
            await self._save(run.state)
            return False
        if await self._webhook_gone(run.state.webhook_id):
            await self._fail(run, WEBHOOK_DELETED)
            return False
        webhook = self._webhooks.get(run.state.webhook_id)
        if webhook is None:  # not read yet, and the table could not catch up
            raise KafkaTimeoutError(f"webhook {run.state.webhook_id} not known yet")
        if run.subscription is None or run.subscription.webhook is not webhook:
            # The webhook's current events, tenant, filter and rate limit.
            run.subscription = Subscription.of(webhook)
            run.limiter = RateLimiter(self._limit_for(webhook))
        return True

    def _limit_for(self, webhook: Webhook) -> RateLimit:
        per_second = self._rate
        if webhook.rate_limit is not None:
            per_second = min(
                per_second, webhook.rate_limit.requests / webhook.rate_limit.per_seconds
            )
        return spread(per_second)

    async def _deliver(
        self, run: Run, topic: str, records: list[Any], since: int, until: int
    ) -> None:
        """Write the deliveries of a fetched batch that the webhook takes.
        Progress is saved on the way too (about every second, and before a
        wait of a second or more for the rate), so a slow replay shows what
        it did and a take-over re-sends little."""
        assert run.subscription is not None and run.limiter is not None
        webhook_id = run.subscription.webhook.id
        batch = Batch()
        for record in records:
            if not since <= record.timestamp <= until:
                batch.passed(record)
                continue
            try:
                event = read_record(
                    record.value, record.timestamp, key=record.key, headers=record.headers
                ).event
            except InvalidEventError:
                batch.passed(record, scanned=1)  # the router sent it to invalid-events
                continue
            if not run.subscription.accepts(event, self._api_url):
                batch.passed(record, scanned=1)
                continue
            if batch.acks and (
                time.monotonic() - run.saved_at >= SAVE_EVERY or run.limiter.free_in() >= SAVE_EVERY
            ):
                await self._settle(run, batch)
                await self._save(run.state)
                run.saved_at = time.monotonic()
                batch = Batch()
            await run.limiter.acquire()
            # The live delivery's id; the delivery log says it was a replay.
            delivery = Delivery.for_event(webhook_id, event, trigger="replay")
            batch.acks.append(
                await self._producer.send(
                    topic, key=event.entity_id.encode(), value=delivery.to_json()
                )
            )
            batch.passed(record, scanned=1, matched=1)
        await self._settle(run, batch)

    async def _settle(self, run: Run, batch: Batch) -> None:
        """Fold a batch's progress into the run once its writes are
        acknowledged (the run's state only ever holds acknowledged work)."""
        for ack in batch.acks:
            await ack
        self._metrics.replayed.labels(run.state.webhook_id).inc(len(batch.acks))
        state = run.state
        run.state = state.with_(
            scanned=state.scanned + batch.scanned,
            matched=state.matched + batch.matched,
            queued=state.queued + len(batch.acks),
            positions=state.positions | batch.positions,
        )

    async def _save(self, replay: Replay) -> None:
        saved = replay.with_(updated_at=utc_now_iso())
        await write_config(self._producer, self._replays, saved.replay_id, saved.to_json())
