"""Fetched records that aiokafka throws away are freed at once.

aiokafka drops the rest of a partition's fetch when the partition is paused
(the delivery loop pauses a partition whose lane is full). Its records
object was a reference cycle, so each drop (up to a few MB of fetched bytes)
waited for a full garbage collection, which a busy worker seldom runs: a
flood of 200 000 deliveries left the worker at 1.8 GB
(streams/broker_compat.py). These tests run aiokafka's own fetch result
with the collector off."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.consumer import fetcher
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords

import streams.kafka  # noqa: F401 - what every process imports: installs the records class
from streams import broker_compat

TP = TopicPartition("hookstream.deliveries.wh_1", 0)
RECORDS = 100


@dataclass
class State:
    position: int = 0
    paused: bool = False

    def consumed_to(self, position: int) -> None:
        self.position = position


@dataclass
class Assignment:
    state: State
    active: bool = True

    def state_value(self, tp: TopicPartition) -> State:
        return self.state


def fetched_bytes() -> bytes:
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for offset in range(RECORDS):
        builder.append(offset, timestamp=None, key=b"entity", value=b"x" * 300, headers=[])
    return bytes(builder.build())


def partition_records() -> Any:
    """As aiokafka's fetcher builds them (by its module-level name)."""
    return fetcher.PartitionRecords(
        TP, MemoryRecords(fetched_bytes()), [], 0, None, None, True, "read_uncommitted"
    )


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_aiokafka_builds_the_acyclic_records() -> None:
    assert fetcher.PartitionRecords is broker_compat.PartitionRecords


@pytest.mark.usefixtures("no_collector")
def test_a_paused_partitions_dropped_records_are_freed_without_the_collector() -> None:
    state = State()
    records = partition_records()
    result = fetcher.FetchResult(
        TP, assignment=Assignment(state), partition_records=records, backoff=0.1
    )
    assert [r.offset for r in result.getall(max_records=10)] == list(range(10))
    dropped = weakref.ref(records)
    del records

    state.paused = True  # the lane is full: the delivery loop pauses the partition
    assert result.getall() == []  # aiokafka throws the rest of the fetch away

    assert dropped() is None


@pytest.mark.usefixtures("no_collector")
def test_records_read_in_parts_are_all_read_once_and_then_freed() -> None:
    state = State()
    records = partition_records()
    result = fetcher.FetchResult(
        TP, assignment=Assignment(state), partition_records=records, backoff=0.1
    )
    first = result.getall(max_records=30)
    rest = result.getall()
    assert [r.offset for r in first + rest] == list(range(RECORDS))
    assert state.position == RECORDS == records.next_fetch_offset
    assert not result.has_more()
    dropped = weakref.ref(records)
    del records
    assert dropped() is None
