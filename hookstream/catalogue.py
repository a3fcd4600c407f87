"""What the router has seen, for ``GET /event-types`` and ``GET /entities``
(the default ``X-Etl-Webhook-Entity-URL`` target).

Catalogue records are a by-product of routing and must never hold it up or
fail it: :meth:`CatalogueWriter.record` only queues; a background task writes
the newest value per key, retrying on its own until the broker acknowledges.
An event type counts as recorded only once a write of it was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.events import DomainEvent
from streams.topics import ENTITIES, EVENT_TYPES, entity_key

log = logging.getLogger(__name__)

RETRY_AFTER = 1.0


class CatalogueWriter:
    def __init__(self, producer: AIOKafkaProducer) -> None:
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
            self._pending[(ENTITIES, key)] = orjson.dumps(latest)
        if self._pending:
            self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, {}
            try:
                sends = [
                    (topic, key, await self._producer.send(topic, key=key.encode(), value=value))
                    for (topic, key), value in batch.items()
                ]
                results = await asyncio.gather(*(s for _, _, s in sends), return_exceptions=True)
            except KafkaError as exc:
                results = [exc] * len(batch)
                sends = [(topic, key, None) for topic, key in batch]
            failed = 0
            for (topic, key, _), result in zip(sends, results, strict=True):
                if isinstance(result, BaseException):
                    failed += 1
                    # Put it back unless a newer value is already waiting.
                    self._pending.setdefault((topic, key), batch[(topic, key)])
                elif topic == EVENT_TYPES:
                    self._known_types.add(key)
            if failed:
                log.warning("catalogue: %d writes failed; retrying in %.0fs", failed, RETRY_AFTER)
                await asyncio.sleep(RETRY_AFTER)
                self._wake.set()
