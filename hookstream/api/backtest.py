"""A filter tried on real traffic: the newest records of the event topics,
read straight from Kafka, the way the router would see them.

Each partition's newest ``limit`` records are read (a consumer of its own,
in no group); of those, the newest ``limit`` of the chosen event types and
tenant (by record timestamp, over every partition) are tried. Nothing is
written and nobody's offsets move.
"""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import dataclass, field
from typing import Any

from hookstream.delivery.matching import event_document
from hookstream.filters import Filter
from schemas.cloudevents import read_record
from schemas.events import DomainEvent, InvalidEventError
from schemas.webhooks import ALL_EVENTS
from streams.broker_compat import true_end_offsets
from streams.history import history_consumer, newest_starts, partitions_of, read_between
from streams.kafka import stop_quietly

EXAMPLES = 10
TIMEOUT = 30.0


@dataclass(frozen=True)
class BacktestQuery:
    filter: Filter
    events: list[str]  # ["*"]: every type
    tenant_id: str | None  # None: every event, as for a webhook without a tenant
    limit: int

    def selects(self, event: DomainEvent) -> bool:
        if self.tenant_id is not None and event.tenant_id != self.tenant_id:
            return False
        return self.events == [ALL_EVENTS] or event.event_type in self.events


@dataclass
class Newest:
    """The newest ``limit`` selected events seen, by record timestamp."""

    limit: int
    _heap: list[tuple[int, int, DomainEvent]] = field(default_factory=list)
    _seen: int = 0

    def add(self, timestamp: int, event: DomainEvent) -> None:
        self._seen += 1  # ties keep arrival order, and events never compare
        item = (timestamp, self._seen, event)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def newest_first(self) -> list[DomainEvent]:
        return [event for _, _, event in sorted(self._heap, reverse=True)]


def summary(query: BacktestQuery, events: list[DomainEvent], api_url: str) -> dict[str, Any]:
    """``{scanned, matched, examples}`` for events newest first (pure); the
    examples are the documents the filter matched (event_document)."""
    documents = (event_document(event, api_url) for event in events)
    matched = [document for document in documents if query.filter.matches(document)]
    return {"scanned": len(events), "matched": len(matched), "examples": matched[:EXAMPLES]}


async def backtest(
    bootstrap: str, event_topics: str, query: BacktestQuery, *, api_url: str
) -> dict[str, Any]:
    """Raises TimeoutError when the broker does not answer within TIMEOUT,
    KafkaError when it cannot be reached."""
    consumer = history_consumer(bootstrap, client_id="hookstream-backtest")
    newest = Newest(query.limit)
    try:
        async with asyncio.timeout(TIMEOUT):
            await consumer.start()
            partitions = await partitions_of(consumer, event_topics)
            ends = await true_end_offsets(consumer, partitions)
            starts = await newest_starts(consumer, ends, query.limit)
            async for records in read_between(consumer, starts, ends):
                for record in records:
                    try:
                        event = read_record(
                            record.value, record.timestamp, key=record.key, headers=record.headers
                        ).event
                    except InvalidEventError:
                        continue  # the router sends those to hookstream.invalid-events
                    if query.selects(event):
                        newest.add(record.timestamp, event)
    finally:
        await stop_quietly(consumer, "backtest")
    return summary(query, newest.newest_first(), api_url)
