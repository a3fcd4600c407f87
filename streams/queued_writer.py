"""Records written to one topic without the caller awaiting anything.

For logs kept for people (the delivery log, the inbound log): the work that
produces a record (a delivery, an inbound request) must never wait for it,
and a failed write must never fail that work. :meth:`QueuedWriter.write`
only queues; one task per writer drains the queue into the producer, so a
record costs no task or future of its own (a task per record was a few
per cent of the ingress's CPU). If the writer falls far behind, it drops
records and says so through ``on_drop`` rather than grow without bound.

One key's records stay in one partition (readers keep the newest N per
key): the producer's partitioner picks it, the same one every other writer
of the topic uses (a ping's attempt, written by the API, lands beside the
worker's attempts of that webhook). Producers from
``streams.kafka.new_producer`` keep each key's hash, so this costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

QUEUE_LIMIT = 50_000


class QueuedWriter:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        on_drop: Callable[[], None],
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._on_drop = on_drop
        self._queue: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue(limit)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name=f"writer {self._topic}")

    async def stop(self, grace: float = 5.0) -> None:
        """Hand what is queued to the producer (its own stop flushes it)."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def write(self, key: str, record: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait((key.encode(), orjson.dumps(record)))
        except asyncio.QueueFull:
            self._on_drop()
        except TypeError:  # not JSON: a bug in the caller, never the caller's failure
            log.exception("%s record not written: not serialisable", self._topic)
            self._on_drop()

    async def _drain(self) -> None:
        while True:
            key, value = await self._queue.get()
            try:
                sent = await self._producer.send(self._topic, key=key, value=value)
                sent.add_done_callback(self._after_send)
            except KafkaError:
                log.exception("%s write failed; record dropped", self._topic)
                self._on_drop()
            finally:
                self._queue.task_done()

    def _after_send(self, sent: asyncio.Future[Any]) -> None:
        if not sent.cancelled() and sent.exception() is not None:
            log.warning("%s write failed; record dropped: %r", self._topic, sent.exception())
            self._on_drop()
