"""Records written to one topic in shared producer batches.

Two writers over one drain loop:

- :class:`QueuedWriter`, for logs kept for people (the delivery log, the
  inbound log): the work that produces a record (a delivery, an inbound
  request) must never wait for it, and a failed write must never fail that
  work. :meth:`QueuedWriter.write` only queues. If the writer falls far
  behind, it drops records and says so through ``on_drop`` rather than grow
  without bound.
- :class:`AcknowledgedWriter`, for records a caller must know are stored
  before it answers (the ingress's flow triggers: a 202 only for a stored
  webhook). :meth:`AcknowledgedWriter.write` waits for its own record's
  acknowledgement, or raises, within a deadline.

One task per writer drains what has queued into one producer batch per
partition (streams/batches.py), so a record costs no task, future or timer
of its own beyond what its caller waits on (a task per record was a few per
cent of the ingress's CPU, a ``producer.send`` per record about 10 µs, an
``asyncio.timeout`` per request about as much again). The drain keeps one
hand-over in flight: while its batches wait for their acknowledgements,
what arrives gathers in the queue and goes out in the next one. (Batches
handed over at every loop turn went out small, since aiokafka sends one
batch per partition per request, and cost the broker a request each.)

One key's records stay in one partition (readers keep the newest N per
key): the producer's partitioner picks it, the same one every other writer
of the topic uses (a ping's attempt, written by the API, lands beside the
worker's attempts of that webhook). Producers from
``streams.kafka.new_producer`` keep each key's hash, so this costs nothing.
Records of a topic whose partitions are not known yet go out one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import orjson
from aiokafka.errors import KafkaError

from streams.batches import Batch, BatchingProducer, Headers, PartitionBatches

log = logging.getLogger(__name__)

QUEUE_LIMIT = 50_000
# Records taken off the queue per producer hand-over.
DRAIN_AT_MOST = 5_000
# Seconds the next hand-over waits for the previous one's acknowledgements
# at most (aiokafka fails a batch after its request timeout anyway).
IN_FLIGHT_AT_MOST = 1.0
# Hand-overs of a log writer start at least this far apart. Under load the
# records of this long gather into one batch per partition: each batch is an
# object the embedded disk store keeps and lists on every fetch of its
# partition (docs/performance.md), and a log's readers are people.
LOG_PACE_SECONDS = 0.2


Item = TypeVar("Item", bound=tuple[Any, ...])


class WritingProducer(BatchingProducer, Protocol):
    async def send(
        self, topic: str, *, key: bytes | None, value: bytes, headers: Headers | None = None
    ) -> Any: ...


@dataclass
class _HandOver:
    """One hand-over's acknowledgements, and the records whose outcome is
    already in hand (settled, or to be settled by their acknowledgement):
    if the hand-over fails midway, only the others are settled with it."""

    acks: list[asyncio.Future[Any]] = field(default_factory=list)
    seen_to: set[int] = field(default_factory=set)  # id() of records


class _DrainingWriter(Generic[Item]):
    """The queue and the drain loop; subclasses say what a record's
    outcome means (:meth:`_settle`)."""

    def __init__(self, producer: WritingProducer, topic: str, pace: float = 0.0) -> None:
        self._producer = producer
        self._topic = topic
        self._pace = pace  # seconds between hand-overs at least
        self._last_hand_over = float("-inf")
        # A deque and one wake-up future rather than an asyncio.Queue: a
        # record is queued per delivery attempt or inbound request, and the
        # Queue's bookkeeping (getters, unfinished count) was most of what
        # queueing one cost.
        self._queue: deque[Item] = deque()
        self._wake: asyncio.Future[None] | None = None
        # Set while nothing is queued or being handed to the producer.
        self._handed_over = asyncio.Event()
        self._handed_over.set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name=f"writer {self._topic}")

    async def stop(self, grace: float = 5.0) -> None:
        """Hand what is queued to the producer (its own stop flushes it)."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._handed_over.wait(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def _enqueue(self, item: Item) -> None:
        self._queue.append(item)
        self._handed_over.clear()
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _drain(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                self._handed_over.set()
                self._wake = asyncio.get_running_loop().create_future()
                await self._wake
                self._wake = None
                continue
            if self._pace:
                loop = asyncio.get_running_loop()
                early = self._last_hand_over + self._pace - loop.time()
                if early > 0:
                    await asyncio.sleep(early)
                self._last_hand_over = loop.time()
            taken = [queue.popleft() for _ in range(min(len(queue), DRAIN_AT_MOST))]
            hand_over = _HandOver()
            try:
                await self._hand_over(taken, hand_over)
            except Exception as exc:  # noqa: BLE001 - the writer outlives any one hand-over
                self._settle([item for item in taken if id(item) not in hand_over.seen_to], exc)
            # One hand-over in flight (see the module's text).
            if hand_over.acks:
                await asyncio.wait(hand_over.acks, timeout=IN_FLIGHT_AT_MOST)

    async def _hand_over(self, items: list[Item], hand_over: _HandOver) -> None:
        batches = PartitionBatches(self._producer)
        taken: dict[int, tuple[Batch, list[Item]]] = {}  # id(batch) -> it, its items
        for item in items:
            key, value = item[0], item[1]
            batch = batches.add(self._topic, key, value, _headers(item))
            if batch is None:
                await self._send_alone(item, hand_over)
            else:
                taken.setdefault(id(batch), (batch, []))[1].append(item)
        failed: Exception | None = None
        try:
            await batches.submit()
        except Exception as exc:  # noqa: BLE001 - re-raised below, once the handed-over are seen to
            failed = exc
        for batch, batch_items in taken.values():
            # After a failure midway, the batches handed over before it are
            # the producer's and get their answers; the rest fail with it.
            if failed is None or batch.ack is not None:
                self._when_acknowledged(batch_items, batch.ack, hand_over)
        if failed is not None:
            raise failed

    async def _send_alone(self, item: Item, hand_over: _HandOver) -> None:
        try:
            headers = _headers(item)
            if headers:
                sent = await self._producer.send(
                    self._topic, key=item[0], value=item[1], headers=headers
                )
            else:
                sent = await self._producer.send(self._topic, key=item[0], value=item[1])
        except KafkaError as exc:
            hand_over.seen_to.add(id(item))
            self._settle([item], exc)
            return
        self._when_acknowledged([item], sent, hand_over)

    def _when_acknowledged(
        self, items: list[Item], ack: asyncio.Future[Any] | None, hand_over: _HandOver
    ) -> None:
        hand_over.seen_to.update(id(item) for item in items)
        if ack is None:
            self._settle(items, KafkaError("the producer did not take the batch"))
        else:
            ack.add_done_callback(functools.partial(self._acknowledged, items))
            hand_over.acks.append(ack)

    def _acknowledged(self, items: list[Item], ack: asyncio.Future[Any]) -> None:
        if ack.cancelled():  # the producer stopped first
            self._settle(items, KafkaError("the write was cancelled"))
        else:
            self._settle(items, ack.exception())

    def _settle(self, items: list[Item], error: BaseException | None) -> None:
        """``items`` were stored (``error`` None) or not."""
        raise NotImplementedError


def _headers(item: tuple[Any, ...]) -> Headers | None:
    """A queued record's headers: the fourth field of a :data:`Pending`."""
    return item[3] if len(item) > 3 else None


class QueuedWriter(_DrainingWriter[tuple[bytes, bytes]]):
    def __init__(
        self,
        producer: WritingProducer,
        topic: str,
        on_drop: Callable[[], None],
        limit: int = QUEUE_LIMIT,
        pace: float = LOG_PACE_SECONDS,
    ) -> None:
        super().__init__(producer, topic, pace)
        self._on_drop = on_drop
        self._limit = limit

    def write(self, key: str, record: dict[str, Any]) -> None:
        if len(self._queue) >= self._limit:
            self._on_drop()
            return
        try:
            value = orjson.dumps(record)
        except TypeError:  # not JSON: a bug in the caller, never the caller's failure
            log.exception("%s record not written: not serialisable", self._topic)
            self._on_drop()
            return
        self._enqueue((key.encode(), value))

    def _settle(self, items: list[tuple[bytes, bytes]], error: BaseException | None) -> None:
        if error is None:
            return
        log.warning("%s write failed; %d records dropped: %r", self._topic, len(items), error)
        for _ in items:
            self._on_drop()


# A record waiting for its acknowledgement: key, value, the caller's future, headers.
Pending = tuple[bytes, bytes, "asyncio.Future[None]", Headers | None]


class AcknowledgedWriter(_DrainingWriter[Pending]):
    """``timeout``: seconds from :meth:`write` to its answer at most, the
    time queued behind a slow broker included; one timer for the oldest
    record still waiting, not one per record."""

    def __init__(self, producer: WritingProducer, topic: str, timeout: float) -> None:
        super().__init__(producer, topic)
        self._timeout = timeout
        # (deadline, future) in write order, so deadlines ascend.
        self._waiting: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._expiry: asyncio.TimerHandle | None = None

    async def write(self, key: bytes, value: bytes, headers: Headers | None = None) -> None:
        """Returns once the broker has acknowledged the record; raises
        KafkaError if it refused it, TimeoutError if no answer came in time."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiting = self._waiting
        while waiting and waiting[0][1].done():
            waiting.popleft()
        waiting.append((loop.time() + self._timeout, future))
        if self._expiry is None:
            self._expiry = loop.call_at(waiting[0][0], self._expire)
        self._enqueue((key, value, future, headers))
        await future

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        now, waiting = loop.time(), self._waiting
        while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
            _, future = waiting.popleft()
            if not future.done():
                future.set_exception(TimeoutError("no acknowledgement in time"))
        self._expiry = loop.call_at(waiting[0][0], self._expire) if waiting else None

    def _settle(self, items: list[Pending], error: BaseException | None) -> None:
        for _, _, future, _ in items:
            if future.done():  # timed out meanwhile
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    async def stop(self, grace: float = 5.0) -> None:
        await super().stop(grace)
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
