"""Writing attempts to ``hookstream.delivery-log`` off the delivery path.

The log is for people ("View events"): a delivery must never wait for it, and
a log write that fails must never fail (and so re-send) a delivered request.
:class:`QueuedLogWriter` takes records without awaiting anything and drains
them into its own producer with large batches; if it falls far behind, it
drops records and counts them rather than hold delivery slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hookstream.metrics import Metrics
from streams.topics import DELIVERY_LOG

log = logging.getLogger(__name__)

QUEUE_LIMIT = 50_000


class DeliveryLog(Protocol):
    def write(self, webhook_id: str, record: dict[str, Any]) -> None: ...


class MemoryDeliveryLog:
    """In-memory :class:`DeliveryLog` for unit tests."""

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def write(self, webhook_id: str, record: dict[str, Any]) -> None:
        self.records.append((webhook_id, record))


class QueuedLogWriter:
    def __init__(self, producer: AIOKafkaProducer, metrics: Metrics) -> None:
        self._producer = producer
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self._partitions = 1
        self._partition_of: dict[str, int] = {}

    async def start(self) -> None:
        self._partitions = len(await self._producer.partitions_for(DELIVERY_LOG)) or 1
        self._task = asyncio.create_task(self._drain(), name="delivery-log")

    async def stop(self, grace: float = 5.0) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def write(self, webhook_id: str, record: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait((webhook_id.encode(), orjson.dumps(record)))
        except asyncio.QueueFull:
            self._metrics.delivery_log_dropped.inc()

    def _partition(self, key: bytes) -> int:
        # One webhook's attempts stay in one partition (the API keeps the last
        # 100 per key). crc32, not the client's pure-Python murmur2: cheaper.
        text = key.decode()
        found = self._partition_of.get(text)
        if found is None:
            found = self._partition_of[text] = zlib.crc32(key) % self._partitions
        return found

    async def _drain(self) -> None:
        while True:
            key, value = await self._queue.get()
            try:
                sent = await self._producer.send(
                    DELIVERY_LOG, key=key, value=value, partition=self._partition(key)
                )
                sent.add_done_callback(self._after_send)
            except KafkaError:
                log.exception("delivery-log write failed; record dropped")
                self._metrics.delivery_log_dropped.inc()
            finally:
                self._queue.task_done()

    def _after_send(self, sent: asyncio.Future[Any]) -> None:
        if not sent.cancelled() and sent.exception() is not None:
            log.warning("delivery-log write failed; record dropped: %r", sent.exception())
            self._metrics.delivery_log_dropped.inc()
