"""Builders for unit tests of pure logic."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.errors import KafkaTimeoutError

from schemas.deliveries import Delivery
from schemas.events import DomainEvent
from schemas.webhooks import Webhook


def make_webhook(**overrides: Any) -> Webhook:
    fields: dict[str, Any] = {
        "id": "wh_1",
        "name": "crm",
        "url": "https://crm.example/hook",
        "createdAt": "2026-11-23T10:00:00.000Z",
        "updatedAt": "2026-11-23T10:00:00.000Z",
    }
    fields.update(overrides)
    return Webhook.model_validate(fields)


def make_event(**overrides: Any) -> DomainEvent:
    fields: dict[str, Any] = {
        "event_id": "e-1",
        "event_type": "order.created",
        "entity_id": "42",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "entity": {"id": 42},
    }
    fields.update(overrides)
    return DomainEvent(**fields)


def make_delivery(webhook: Webhook, **event_overrides: Any) -> Delivery:
    return Delivery.for_event(webhook.id, make_event(**event_overrides))


class StandInBatch:
    """An aiokafka BatchBuilder's append, holding at most ``capacity`` records."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[tuple[bytes | None, bytes]] = []

    def append(self, *, key: bytes | None, value: bytes, timestamp: int | None) -> object | None:
        if len(self.records) >= self.capacity:
            return None
        self.records.append((key, value))
        return object()


class StandInProducer:
    """What streams/batches.py and streams/queued_writer.py use of a
    TrackingProducer, for unit tests of their logic: keeps what it was given
    as (topic, partition, key, value). Keys pick partitions by a stable hash
    over ``partitions``; topics in ``unknown`` have no known partitions yet.
    ``fail_acks`` fails every acknowledgement, ``fail_first`` the first N;
    with ``hang_acks`` none ever comes."""

    def __init__(
        self,
        *,
        partitions: int = 4,
        batch_capacity: int = 1000,
        unknown: frozenset[str] = frozenset(),
        fail_acks: bool = False,
        fail_first: int = 0,
        hang_acks: bool = False,
    ) -> None:
        self.partitions = partitions
        self.batch_capacity = batch_capacity
        self.unknown = unknown
        self.fail_acks = fail_acks
        self.fail_first = fail_first  # fail this many acknowledgements, then succeed
        self.hang_acks = hang_acks
        self.sent: list[tuple[str, int | None, bytes | None, bytes]] = []
        self.batches_sent = 0

    def partition_for(self, topic: str, key: bytes | None) -> int | None:
        if topic in self.unknown:
            return None
        return sum(key or b"") % self.partitions

    def create_batch(self) -> StandInBatch:
        return StandInBatch(self.batch_capacity)

    async def send_batch(self, batch: StandInBatch, topic: str, *, partition: int) -> Any:
        self.batches_sent += 1
        self.sent += [(topic, partition, key, value) for key, value in batch.records]
        return self._ack()

    async def send(self, topic: str, *, key: bytes | None, value: bytes) -> Any:
        self.sent.append((topic, None, key, value))
        return self._ack()

    def _ack(self) -> Any:
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.hang_acks:
            return ack
        if self.fail_acks or self.fail_first > 0:
            self.fail_first -= 1
            ack.set_exception(KafkaTimeoutError())
        else:
            ack.set_result(None)
        return ack
