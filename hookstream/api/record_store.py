"""What every configuration store of the admin API shares: records in a
compacted topic, read from a :class:`CompactedTable`, written with
read-your-writes, and Kafka trouble answered with 503."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hookstream.config_writes import write_config
from hookstream.errors import NotFoundError, kafka_unavailable
from streams.table import CompactedTable


class Record(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> str: ...


R = TypeVar("R", bound=Record)


class RecordStore(Generic[R]):
    kind = "record"

    def __init__(self, *, table: CompactedTable[R], producer: AIOKafkaProducer) -> None:
        self.table = table
        self._producer = producer

    def list(self) -> list[R]:
        return sorted(self.table.values(), key=lambda item: item.created_at)

    def get(self, record_id: str) -> R:
        found = self.table.get(record_id)
        if found is None:
            raise NotFoundError(f"{self.kind} {record_id} not found")
        return found

    async def delete(self, record_id: str) -> None:
        self.get(record_id)
        await self._store(record_id, None)

    async def _store(self, key: str, value: bytes | None) -> None:
        try:
            await write_config(self._producer, self.table, key, value)
        except KafkaError as exc:
            raise kafka_unavailable(exc) from None
