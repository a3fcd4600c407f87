"""What the router has seen, for ``GET /event-types`` and ``GET /entities``
(the default ``X-Etl-Webhook-Entity-URL`` target).

Catalogue records are a by-product of routing and must never hold it up or
fail it: :meth:`CatalogueWriter.record` only queues; a background task writes
the newest value per key, one batch per partition, retrying on its own until
the broker acknowledges.
An event type counts as recorded only once a write of it was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiokafka.errors import KafkaError

from schemas.events import DomainEvent
from streams.batches import PartitionBatches, acknowledged
from streams.broker_compat import fits_in_a_record
from streams.kafka import TrackingProducer
from streams.topics import ENTITIES, EVENT_TYPES, entity_key

log = logging.getLogger(__name__)

RETRY_AFTER = 1.0


class CatalogueWriter:
    def __init__(self, producer: TrackingProducer) -> None:
        self._producer = producer
        self._known_types: set[str] = set()
        # Newest value per (topic, key) still to write; a burst of events for
        # one entity becomes one write.
        self._pending: dict[tuple[str, str], bytes] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name="catalogue")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def record(self, event: DomainEvent, topic: str) -> None:
        if event.event_type not in self._known_types:
            seen = {"eventType": event.event_type, "topic": topic, "firstSeenAt": event.timestamp}
            self._pending.setdefault((EVENT_TYPES, event.event_type), orjson.dumps(seen))
        if event.entity is not None:
            latest: dict[str, Any] = {
                "entityType": event.entity_type,
                "entityId": event.entity_id,
                "entity": event.entity,
                "eventId": event.event_id,
                "updatedAt": event.timestamp,
            }
            key = entity_key(event.entity_type, event.entity_id)
            value = orjson.dumps(latest)
            # An entity too large for a Kafka record would be refused on
            # every retry: the catalogue keeps the previous one.
            if fits_in_a_record(key.encode(), value):
                self._pending[(ENTITIES, key)] = value
        if self._pending:
            self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, {}
            failed = await self._write(batch)
            for topic, key in failed:
                # Put it back unless a newer value is already waiting.
                self._pending.setdefault((topic, key), batch[(topic, key)])
            if failed:
                log.warning(
                    "catalogue: %d writes failed; retrying in %.0fs", len(failed), RETRY_AFTER
                )
                await asyncio.sleep(RETRY_AFTER)
                self._wake.set()

    async def _write(self, pending: dict[tuple[str, str], bytes]) -> list[tuple[str, str]]:
        """Write ``pending`` in one batch per partition (streams/batches.py);
        the (topic, key) of every write that failed."""
        batches = PartitionBatches(self._producer)
        written: list[tuple[list[tuple[str, str]], asyncio.Future[Any] | None]] = []
        for (topic, key), value in pending.items():
            if batches.add(topic, key.encode(), value) is None:
                written.append(([(topic, key)], await self._send_alone(topic, key, value)))
        for sent in await batches.submit():
            keys = [(sent.tp.topic, raw_key.decode()) for raw_key, _ in sent.records if raw_key]
            written.append((keys, sent.ack))
        acks = [ack for _, ack in written if ack is not None]
        await asyncio.gather(*acks, return_exceptions=True)
        failed: list[tuple[str, str]] = []
        for keys, ack in written:
            if not acknowledged(ack):
                failed += keys
                continue
            self._known_types.update(key for topic, key in keys if topic == EVENT_TYPES)
        return failed

    async def _send_alone(self, topic: str, key: str, value: bytes) -> asyncio.Future[Any] | None:
        try:
            return await self._producer.send(topic, key=key.encode(), value=value)  # type: ignore[no-any-return]
        except KafkaError as exc:
            log.warning("catalogue: write to %s not queued: %r", topic, exc)
            return None
