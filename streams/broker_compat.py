"""Workarounds for measured broker and client behaviour, kept in one place.

See ../shared/KAFKA-NOTES.md. Each item is safe on real Apache Kafka too:

* Group joins take half the session timeout on Tansu, so consumers use a short
  session timeout (10 s) with a 3 s heartbeat: joins in ~5 s instead of ~30 s.
* ListOffsets(latest) is wrong on Tansu, so nothing here trusts
  ``end_offsets()``: readers of compacted topics decide they have caught up
  from the high watermark carried by fetch responses (``consumer.highwater``),
  which is right on every broker. (Why, read in Tansu 0.6.0's source: it
  answers ListOffsets from its stored batch objects' last-modified times;
  latest is the newest-written batch's first offset + 1. See
  docs/performance.md, "The durable store".)
* faust's pattern subscription is unimplemented, so consumers of topic
  patterns (``events.*``, ``hookstream.deliveries.*``) are plain aiokafka
  consumers with ``subscribe(pattern=...)`` and a short metadata max age, so
  topics created later are picked up within seconds.
* aiokafka (any broker) forgets topics it learnt only from its start-up
  metadata: the first send to a topic it was never asked about adds just that
  topic to the tracked set, the next metadata response then names only the
  tracked topics and replaces the whole partition map, and a batch already
  waiting for a topic known only from start-up has "no leader" until it
  expires (request timeout, 40 s) with NotLeaderForPartitionError: the stall,
  the metadata storm (a refresh per sender loop) and the replayed routing
  batch of issue 13. Every producer is a ``streams.kafka.TrackingProducer``,
  which registers a topic before its first send.
* A fetch with no data waits up to ``fetch_max_wait_ms`` (aiokafka: 500 ms)
  on the broker. Kafka answers the moment records arrive; Tansu does not
  wake on a produce: it looks at its storage again after sleeping, so a
  record waits for the next look. Measured on memory storage, 1 000
  records/s in bursts of 20, one consumer: send -> consumed p50 26 ms, p99
  54 ms with a 100 ms wait; p50 126 ms with 500 ms; p50 4.8 ms, p99 11 ms
  with 20 ms; p50 4.5 ms with 5 ms (the wait's share is then gone). (An
  older note here said memory storage answered at once: wrong.) With
  object storage, below, a send -> consumed takes about 28 ms whatever the
  wait. So consumers wait at most 20 ms while records flow, which on Kafka
  only makes idle consumers poll more often.
* Tansu's cost of serving a partition grows with the records it holds:
  1 000 records/s into one 4-partition topic, read at its end by one
  consumer, took the broker from 15 % of a core (first 10 000 records) to
  69 % (after 80 000), and send -> consumed from p50 6 to 19 ms. Kafka
  finds an offset through its segment index, whatever the log's length.
  Long runs on the embedded broker slow down this way; ``make bench``
  measures latency first, on a fresh broker, and once more at the end.
* Tansu with object storage (``make run``'s disk mode) answers a fetch when
  its wait expires even if reading the records from storage is still under
  way: on a busy machine, with a 20 ms wait, a partition's fetches came back
  empty again and again while its high watermark grew, and the consumer
  never moved (seen as a pipeline that delivered nothing on a new topic;
  a plain consumer with a 200 ms wait read the same records at once).
  :class:`FetchWait` doubles a consumer's wait while fetches come back empty
  although records are waiting, and brings it back down once they flow. On
  Kafka, which answers with whatever is there, it never rises.
* aiokafka (any broker) can ignore the cancel that stops a consumer: its
  fetcher swallows a CancelledError that lands while it is cancelling its
  own fetches after an assignment change (aio-libs/aiokafka#983), and
  ``stop()`` then waits for it forever (seen when the API stopped its
  shared view reader right after views detached). ``streams.kafka.
  stop_quietly`` cancels the fetcher again until it ends.
* aiokafka (any broker) has no reconnect backoff: with a broker gone, each
  loop of each client tried again every 100 ms and logged every failure
  (~390 lines a second for ``make run``). ``streams/kafka_outage.py`` backs
  connections off (0.1 s doubling to 1 s) and tells the outage in a few lines.
* No idempotent producer or transactions on Tansu: producers use
  ``acks="all"`` without idempotence; delivery is at-least-once with stable
  delivery ids that receivers deduplicate on.
* Readers of a stretch of history (replay, filter backtests) find a
  partition's true end with :func:`true_end_offsets` (the fetch response's
  high watermark, see ListOffsets above), and where a time starts with
  :func:`offsets_for_time_lower_bound`: Tansu 0.6 answers ListOffsets by
  timestamp with the log's first offset for every time (measured: 40
  records one second apart, asked for times before, inside and after them:
  offset 0 each time), so readers always skip records older than the time
  they asked for. On Kafka the answer is exact and nothing is skipped; on
  Tansu that is a scan from the beginning comparing record timestamps.
* aiokafka (any broker) leaves every fetched partition it throws away as a
  reference cycle: its ``PartitionRecords`` holds a generator over the
  partition's fetched bytes whose frame holds the ``PartitionRecords``. It
  throws them away whenever a partition is paused, sought or unassigned
  with records still buffered, which the delivery loop does each time a
  lane's backlog fills (the lane takes 200; a fetch of one partition
  brought up to 5.7 MB on Tansu, which ignores ``max_partition_fetch_bytes``,
  and brings up to 1 MiB on Kafka). Only the garbage collector frees a
  cycle, and the worker's collector counts objects, not bytes
  (streams/collector.py): each cycle is a handful of objects holding
  megabytes, so they piled up. A flood of 200 000 events to one webhook
  left the worker at 1.8 GB; after 100 000, one ``gc.collect()`` took what
  its allocator held in use from 676 MB to 18 MB. On import this module
  gives aiokafka a :class:`PartitionRecords` whose generator refers to it
  weakly (:func:`_acyclic_partition_records`), so thrown-away records are
  freed the moment aiokafka lets go of them (docs/performance.md, "Memory
  under a flood").
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.consumer import fetcher as aiokafka_fetcher

SESSION_TIMEOUT_MS = 10_000
FETCH_MAX_WAIT_MS = 20
HEARTBEAT_INTERVAL_MS = 3_000


def fetch_wait_ms(partitions: int) -> int:
    """The fetch wait for a consumer holding ``partitions`` partitions. Every
    fetch response names every partition, decoded in pure Python: a worker
    holding the topics of a thousand webhooks (4 000 partitions) spent most
    of its CPU decoding empty responses at 20 ms. So the wait grows with the
    partition count (0.1 ms each, 20 to 100 ms). On Kafka, which answers as
    soon as data arrives, the longer wait costs no latency; on Tansu it
    bounds the extra latency of a worker with thousands of webhooks."""
    return max(FETCH_MAX_WAIT_MS, min(100, FETCH_MAX_WAIT_MS + partitions // 10))


# FetchWait: at most this long, and the lagging check at most this often.
MAX_FETCH_WAIT_MS = 2000
LAG_CHECK_EVERY = 1.0
# Idle (this many empty rounds in a row), a consumer holding many partitions
# waits longer: each round encodes and decodes every partition in pure
# Python, so an idle worker with a thousand webhooks (4 000 partitions)
# spent half a core polling. A quarter of a millisecond per partition, up to
# MAX_IDLE_WAIT_MS, makes the rounds of such a worker rare.
IDLE_AFTER_ROUNDS = 20
IDLE_MS_PER_PARTITION = 0.25
MAX_IDLE_WAIT_MS = 1000
# Idle, every consumer waits at least this long: the router, the flow
# runner and the retry tiers polled every 20 ms whether or not anything
# came, which kept the embedded broker at 0.12-0.15 of a core for an idle
# stack (the worker at 0.06). At 100 ms: 0.07 and 0.025, and the ingress
# load test, where those consumers sit idle beside it, accepted 6 638 a
# second against 6 245 (means of four alternating runs). The price, on Tansu
# only: the first record after 0.4 s of quiet waits up to 100 ms more per
# hop. Records flowing end the idle regime at once.
MIN_IDLE_WAIT_MS = 100
# Busy (the last round had records), a consumer holding this many partitions
# asks the broker to gather BATCH_MIN_BYTES before answering (or its wait,
# at most 100 ms, to run out). Without it, deliveries trickling over the
# 4 000 partitions of a thousand webhooks made a fetch of all of them per
# few records: the broker spent most of a core answering (73 %), and the
# worker delivered 1 400-1 660/s; with it, 1 600-2 000/s. The cost is up to
# that wait per hop while a consumer that large is busy, and nothing for
# consumers of fewer partitions.
BATCH_FROM_PARTITIONS = 1000
BATCH_MIN_BYTES = 64 * 1024


class FetchWait:
    """The fetch wait of one consumer. Call :meth:`after_fetch` once per
    fetch round. Three regimes:

    * records flowing: ``fetch_wait_ms`` of the partition count;
    * fetches empty although records are waiting (position below the high
      watermark on a partition not paused): the wait doubles, up to
      MAX_FETCH_WAIT_MS, and shrinks back once records flow (the object
      storage item above);
    * busy with BATCH_FROM_PARTITIONS partitions or more: fetches gather
      BATCH_MIN_BYTES (or wait it out) before the broker answers;
    * idle for IDLE_AFTER_ROUNDS rounds: a wait that grows with the partition
      count (at least MIN_IDLE_WAIT_MS), so idle polling stays cheap; the
      first records end it. On Kafka
      new records cost no latency (it answers as soon as they arrive); on
      Tansu the first event after a quiet spell waits up to that long. A
      partition resumed during a long fetch waits for it on any broker, so
      the delivery loop does not count rounds with paused partitions as idle.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        asleep: Callable[[], int] = lambda: 0,
        batch_from: int = BATCH_FROM_PARTITIONS,
    ) -> None:
        # ``asleep``: how many assigned partitions are paused for a long time
        # (streams/dormancy.py); fetches leave them out, so they do not count.
        # ``batch_from``: the partition count from which a busy consumer
        # gathers BATCH_MIN_BYTES per fetch (1: always, for a consumer whose
        # records nobody waits on one by one).
        self._consumer = consumer
        self._asleep = asleep
        self._batch_from = batch_from
        self.factor = 1.0
        self._empty_rounds = 0
        self._last_check = 0.0

    @property
    def ms(self) -> int:
        """The wait in use now (0 before the consumer starts)."""
        fetcher = self._consumer._fetcher  # None until the consumer starts
        return int(fetcher._fetch_max_wait_ms) if fetcher is not None else 0

    def after_fetch(self, got_records: bool) -> None:
        if got_records:
            self.factor = max(1.0, self.factor * 0.8)
            self._empty_rounds = 0
        else:
            self._empty_rounds += 1
            if self.factor * FETCH_MAX_WAIT_MS < MAX_FETCH_WAIT_MS and self._lagging():
                self.factor *= 2
        assignment = _assignment(self._consumer)
        assigned = len(assignment.tps) if assignment is not None else 0
        partitions = max(0, assigned - self._asleep())
        base = fetch_wait_ms(partitions)
        wait = min(MAX_FETCH_WAIT_MS, max(base, int(base * self.factor)))
        if self._empty_rounds >= IDLE_AFTER_ROUNDS:
            idle = min(MAX_IDLE_WAIT_MS, int(partitions * IDLE_MS_PER_PARTITION))
            wait = max(wait, idle, MIN_IDLE_WAIT_MS)
        batching = got_records and partitions >= self._batch_from
        fetcher = self._consumer._fetcher
        fetcher._fetch_max_wait_ms = wait
        fetcher._fetch_min_bytes = BATCH_MIN_BYTES if batching else 1

    @property
    def min_bytes(self) -> int:
        fetcher = self._consumer._fetcher
        return int(fetcher._fetch_min_bytes) if fetcher is not None else 1

    def _lagging(self) -> bool:
        now = time.monotonic()
        if now - self._last_check < LAG_CHECK_EVERY:
            return False
        self._last_check = now
        assignment = _assignment(self._consumer)
        if assignment is None:
            return False
        for tp in assignment.tps:
            state = assignment.state_value(tp)
            if state is None or state.paused or not state.has_valid_position:
                continue
            highwater = state.highwater
            if highwater is not None and state.position < highwater:
                return True
        return False


def _assignment(consumer: AIOKafkaConsumer) -> Any:
    subscription = consumer._subscription.subscription
    return None if subscription is None else subscription.assignment


def manual_consumer_options() -> dict[str, Any]:
    return {
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
    }


def group_consumer_options() -> dict[str, Any]:
    return manual_consumer_options() | {
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
    }


def faust_broker_options() -> dict[str, Any]:
    return {
        "broker_session_timeout": SESSION_TIMEOUT_MS / 1000,
        "broker_heartbeat_interval": HEARTBEAT_INTERVAL_MS / 1000,
    }


# The largest record hookstream writes: Kafka's default ``message.max.bytes``
# (1 MiB plus 12 bytes of log overhead) and aiokafka's default request size.
# A bigger record is refused by the broker (or the client) however often it
# is retried, so writers check before they write (:func:`fits_in_a_record`).
MAX_RECORD_BYTES = 1024 * 1024
# A record's own framing inside a batch, and the batch header, at most.
RECORD_OVERHEAD = 128


def fits_in_a_record(key: bytes | None, value: bytes, headroom: int = 0) -> bool:
    """``headroom``: bytes the record may still grow by in later writes."""
    return len(key or b"") + len(value) + RECORD_OVERHEAD + headroom <= MAX_RECORD_BYTES


def producer_options() -> dict[str, Any]:
    """No linger: each hop of the pipeline (event -> delivery record -> 2xx,
    inbound request -> 202) waits for its acknowledgement, so a linger is
    latency on every hop (5 ms made a lone inbound request take 8 ms instead
    of 1). Records still batch under load: aiokafka keeps one produce
    request in flight per broker and sends what queued meanwhile as one.
    Logs for people, which nobody waits for, set their own linger.

    Batches of up to 512 KiB (aiokafka's default is 16 KiB): with one request
    in flight, each request carries one batch per partition, so 16 KiB held
    the router to about 23 deliveries per partition per round trip; the
    deliveries it had routed waited in its producer while the delivery loop
    ran dry (one webhook: 2,100-2,500 -> 3,070 deliveries/s). Below Kafka's
    default 1 MiB message.max.bytes."""
    return {
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 0,
        "max_batch_size": 512 * 1024,
        "max_request_size": MAX_RECORD_BYTES,
    }


# How long finding true ends may take before the reported ends are used.
TRUE_END_TIMEOUT = 5.0


async def true_end_offsets(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """Each partition's real end. ``end_offsets`` can be short on Tansu (the
    last batch's base offset + 1), so each non-empty partition is fetched at
    its reported end - 1 and the fetch response's high watermark is taken.
    ``consumer`` must be one of the caller's own, with nothing else to do:
    it is assigned exactly the probed partitions afterwards."""
    wanted = list(partitions)
    reported: dict[TopicPartition, int] = await consumer.end_offsets(wanted)
    begins: dict[TopicPartition, int] = await consumer.beginning_offsets(wanted)
    probe = [tp for tp in wanted if reported[tp] > begins[tp]]
    ends = dict(reported)
    if not probe:
        return ends
    consumer.assign(probe)
    for tp in probe:
        consumer.seek(tp, reported[tp] - 1)
    pending = set(probe)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TRUE_END_TIMEOUT
    while pending and loop.time() < deadline:
        await consumer.getmany(*pending, timeout_ms=200, max_records=1)
        for tp in list(pending):
            highwater = consumer.highwater(tp)
            if highwater is not None:
                ends[tp] = max(highwater, reported[tp])
                pending.discard(tp)
    return ends


async def offsets_for_time_lower_bound(
    consumer: AIOKafkaConsumer, since_ms: int, ends: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Per partition, an offset at or before the first record written at or
    after ``since_ms`` (its end when there is none): exact on Kafka, the
    log's start on Tansu (see the module note). Callers skip older records."""
    if not ends:
        return {}
    found = await consumer.offsets_for_times(dict.fromkeys(ends, since_ms))
    return {tp: ends[tp] if found.get(tp) is None else found[tp].offset for tp in ends}


class PartitionRecords(aiokafka_fetcher.PartitionRecords):  # type: ignore[misc]
    """aiokafka's records of one fetched partition, without the cycle (see
    the module note): the generator that reads the fetched bytes holds this
    object through a weak proxy, so dropping the object frees the bytes at
    once instead of at the next full garbage collection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Replaces the generator the base class made (over ``self``: the cycle).
        self._records_iterator = aiokafka_fetcher.PartitionRecords._unpack_records(
            weakref.proxy(self)
        )


def _acyclic_partition_records() -> None:
    """The fetcher builds its ``PartitionRecords`` by module-level name."""
    aiokafka_fetcher.PartitionRecords = PartitionRecords


_acyclic_partition_records()
