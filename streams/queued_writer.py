"""Records written to one topic without the caller awaiting anything.

For logs kept for people (the delivery log, the inbound log): the work that
produces a record (a delivery, an inbound request) must never wait for it,
and a failed write must never fail that work. :meth:`QueuedWriter.write`
only queues; one task per writer drains what has queued into one producer
batch per partition (streams/batches.py), so a record costs no task or
future of its own (a task per record was a few per cent of the ingress's
CPU, a ``producer.send`` per record about 10 µs). If the writer falls far
behind, it drops records and says so through ``on_drop`` rather than grow
without bound.

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
from typing import Any, Protocol

import orjson
from aiokafka.errors import KafkaError

from streams.batches import BatchingProducer, PartitionBatches

log = logging.getLogger(__name__)

QUEUE_LIMIT = 50_000
# Records taken off the queue per producer hand-over.
DRAIN_AT_MOST = 5_000


class WritingProducer(BatchingProducer, Protocol):
    async def send(self, topic: str, *, key: bytes | None, value: bytes) -> Any: ...


class QueuedWriter:
    def __init__(
        self,
        producer: WritingProducer,
        topic: str,
        on_drop: Callable[[], None],
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._on_drop = on_drop
        self._limit = limit
        # A deque and one wake-up future rather than an asyncio.Queue: a
        # record is queued per delivery attempt, and the Queue's bookkeeping
        # (getters, unfinished count) was most of what writing one cost.
        self._queue: deque[tuple[bytes, bytes]] = deque()
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
        self._queue.append((key.encode(), value))
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
            taken = [queue.popleft() for _ in range(min(len(queue), DRAIN_AT_MOST))]
            try:
                await self._write(taken)
            except Exception as exc:  # noqa: BLE001 - the writer outlives any one hand-over
                self._dropped(len(taken), exc)

    async def _write(self, records: list[tuple[bytes, bytes]]) -> None:
        batches = PartitionBatches(self._producer)
        for key, value in records:
            if not batches.add(self._topic, key, value):
                await self._send_alone(key, value)
        for batch in await batches.submit():
            if batch.ack is None:
                self._dropped(len(batch.records), None)
            else:
                batch.ack.add_done_callback(functools.partial(self._after, len(batch.records)))

    async def _send_alone(self, key: bytes, value: bytes) -> None:
        try:
            sent = await self._producer.send(self._topic, key=key, value=value)
        except KafkaError as exc:
            self._dropped(1, exc)
            return
        sent.add_done_callback(functools.partial(self._after, 1))

    def _after(self, records: int, sent: asyncio.Future[Any]) -> None:
        if not sent.cancelled() and sent.exception() is not None:
            self._dropped(records, sent.exception())

    def _dropped(self, records: int, exc: BaseException | None) -> None:
        log.warning("%s write failed; %d records dropped: %r", self._topic, records, exc)
        for _ in range(records):
            self._on_drop()
