"""Writing one record and waiting for the broker's acknowledgement, behind a
Protocol: an aiokafka producer is a :class:`Publisher` as it is, and
:class:`MemoryPublisher` stands in for it in unit tests of the logic that
decides what to write (failure routing, configuration writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Publisher(Protocol):
    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None
    ) -> Any: ...


@dataclass
class Published:
    topic: str
    key: bytes | None
    value: bytes | None


@dataclass
class MemoryPublisher:
    """Keeps what was written, in order; ``fail_with`` makes writes fail."""

    records: list[Published] = field(default_factory=list)
    fail_with: Exception | None = None

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.records.append(Published(topic, key, value))

    def on(self, topic: str) -> list[Published]:
        return [record for record in self.records if record.topic == topic]
