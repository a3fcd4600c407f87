"""Reading what hookstream wrote, straight from Kafka (integration tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer


async def read_records(
    kafka: str,
    topic: str,
    *,
    where: Callable[[Any], bool] = lambda record: True,
    count: int = 1,
    timeout: float = 60.0,
    settle: float = 0.0,
) -> list[Any]:
    """Records of ``topic``, from the beginning, that match ``where``: waits
    until ``count`` are found, then ``settle`` more seconds of quiet so a test
    can also assert that nothing *extra* was written."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            new = [r for records in batch.values() for r in records if where(r)]
            if new:
                found += new
                quiet_since = time.monotonic()
            elif len(found) >= count and time.monotonic() - quiet_since >= settle:
                return found
    finally:
        await consumer.stop()
    raise AssertionError(f"{topic}: found {len(found)} of {count} matching records in {timeout}s")


def values(records: list[Any]) -> list[Any]:
    return [orjson.loads(record.value) for record in records]


def keyed(key: str) -> Callable[[Any], bool]:
    return lambda record: record.key == key.encode()
