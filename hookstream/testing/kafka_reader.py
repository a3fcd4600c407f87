"""Reading what hookstream wrote, straight from Kafka (integration tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from hookstream.testing.eventually import eventually


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
    until ``count`` are found *and* the reader has caught up with every record
    the topic held when the call began. So every write acknowledged before the
    call is in the result, and a test can assert that nothing *extra* was
    written by the requests it made before calling. ``settle`` adds that many
    seconds of quiet on top (prefer a positive marker record instead)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    loop = asyncio.get_running_loop()
    found: list[Any] = []
    ends: dict[Any, int] | None = None  # end offsets, taken once partitions are known
    quiet_since = loop.time()

    async def complete() -> bool:
        nonlocal ends, quiet_since
        if ends is None and consumer.assignment():
            ends = await consumer.end_offsets(list(consumer.assignment()))
        batch = await consumer.getmany(timeout_ms=300)
        new = [r for records in batch.values() for r in records if where(r)]
        if new:
            found.extend(new)
            quiet_since = loop.time()
            return False
        if len(found) < count or ends is None:
            return False
        for partition, end in ends.items():
            if await consumer.position(partition) < end:
                return False
        return loop.time() - quiet_since >= settle

    try:
        await eventually(
            complete,
            timeout=timeout,
            interval=0.001,  # complete() itself waits up to 300 ms for records
            message=lambda: f"{topic}: found {len(found)} of {count} matching records",
        )
    finally:
        await consumer.stop()
    return found


def values(records: list[Any]) -> list[Any]:
    return [orjson.loads(record.value) for record in records]


def keyed(key: str) -> Callable[[Any], bool]:
    return lambda record: record.key == key.encode()
