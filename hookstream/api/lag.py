"""Consumer lag per topic for ``GET /api/v1/stats``: the committed offsets of
the worker's consumer groups against the topics' end offsets.

On Tansu (the embedded broker) ListOffsets(latest) is approximate: it answers
"base offset of the last batch + 1", so a topic's end, and with it the lag,
can read low by up to one batch (see KAFKA-NOTES). On Apache Kafka it is
exact. ``list_consumer_group_offsets`` is always given the partitions: on
Tansu it breaks the connection without them."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams.kafka import stop_quietly
from streams.topics import (
    DELIVER_GROUP,
    DELIVERIES_PATTERN,
    RETRIES_PREFIX,
    RETRY_GROUP,
    ROUTE_GROUP,
)

CACHE_SECONDS = 5.0
PROBE_TIMEOUT = 10.0
NOTE = (
    "lag = end offset - committed offset, per topic summed over partitions. End offsets "
    "come from ListOffsets(latest), which the embedded broker (Tansu) reports approximately "
    "(the base offset of the last batch + 1), so there lag can read low by up to one batch; "
    "on Apache Kafka it is exact."
)


def lag_of(end: int, committed: int | None, beginning: int) -> int:
    """Records not yet consumed by the group (nothing committed: from the beginning)."""
    start = beginning if committed is None or committed < 0 else max(committed, beginning)
    return max(end - start, 0)


class LagProbe:
    def __init__(
        self, bootstrap: str, event_topics: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._groups: list[tuple[str, re.Pattern[str]]] = [
            (ROUTE_GROUP, re.compile(event_topics)),
            (DELIVER_GROUP, re.compile(DELIVERIES_PATTERN)),
            (RETRY_GROUP, re.compile("^" + re.escape(RETRIES_PREFIX))),
        ]
        self._clock = clock
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def close(self) -> None:
        await stop_quietly(self._consumer, "lag-probe")
        await self._admin.close()

    async def report(self) -> dict[str, Any]:
        """Cached for a few seconds: a dashboard polling every few seconds
        costs the broker one round of offset lookups, not one per viewer."""
        async with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    groups = await self._measure()
                report: dict[str, Any] = {"approximate": True, "note": NOTE, "groups": groups}
            except (KafkaError, TimeoutError, OSError) as exc:
                report = {"approximate": True, "note": NOTE, "groups": [], "error": repr(exc)}
            self._cached = (now, report)
            return report

    async def _measure(self) -> list[dict[str, Any]]:
        cluster = await self._consumer._client.fetch_all_metadata()
        out: list[dict[str, Any]] = []
        for group, pattern in self._groups:
            partitions = [
                TopicPartition(topic, p)
                for topic in sorted(t for t in cluster.topics() if pattern.match(t))
                for p in sorted(cluster.partitions_for_topic(topic) or ())
            ]
            if not partitions:
                continue
            committed = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
            ends = await self._consumer.end_offsets(partitions)
            beginnings = await self._consumer.beginning_offsets(partitions)
            per_topic: dict[str, int] = {}
            for tp in partitions:
                mark = committed.get(tp)
                lag = lag_of(ends[tp], mark.offset if mark is not None else None, beginnings[tp])
                per_topic[tp.topic] = per_topic.get(tp.topic, 0) + lag
            out += [
                {"group": group, "topic": topic, "lag": lag} for topic, lag in per_topic.items()
            ]
        return out
