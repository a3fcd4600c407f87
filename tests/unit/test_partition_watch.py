"""PartitionWatch: when a manually assigned consumer looks at the cluster's
topics again, and what it hands on. The cluster is a fake (pure logic); the
real one is exercised by the integration tests of routing and delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from hookstream.testing.eventually import eventually
from streams import owned
from streams.owned import PartitionWatch

HOUR = 3600.0


class FakeCluster:
    def __init__(self, topics: dict[str, int]) -> None:
        self.topic_partitions = topics

    def topics(self) -> set[str]:
        return set(self.topic_partitions)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.topic_partitions[topic]))


class FakeClient:
    def __init__(self) -> None:
        self.cluster = FakeCluster({})
        self.looks = 0
        self.failures_left = 0

    async def fetch_all_metadata(self) -> FakeCluster:
        self.looks += 1
        if self.failures_left:
            self.failures_left -= 1
            raise KafkaConnectionError("broker away")
        return self.cluster


class FakeConsumer:
    def __init__(self) -> None:
        self._client = FakeClient()


class Recorder:
    """The ``apply`` side: remembers what it was handed, says "changed" when
    that differs from the time before."""

    def __init__(self) -> None:
        self.applied: list[set[TopicPartition]] = []

    async def __call__(self, found: set[TopicPartition]) -> bool:
        changed = not self.applied or self.applied[-1] != found
        self.applied.append(found)
        return changed


@asynccontextmanager
async def running(watch: PartitionWatch) -> AsyncIterator[None]:
    task = asyncio.create_task(watch.run())
    try:
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def watch_of(consumer: FakeConsumer, apply: Recorder, **options: Any) -> PartitionWatch:
    return PartitionWatch(
        consumer,  # type: ignore[arg-type]
        what="test topics",
        wanted_topic=lambda topic: topic.startswith("events."),
        apply=apply,
        **({"every": HOUR} | options),
    )


async def test_hands_on_the_partitions_of_wanted_topics_only() -> None:
    consumer, apply = FakeConsumer(), Recorder()
    consumer._client.cluster = FakeCluster({"events.a": 2, "other": 3})
    async with running(watch_of(consumer, apply)):
        await eventually(lambda: bool(apply.applied))
    assert apply.applied[0] == {TopicPartition("events.a", 0), TopicPartition("events.a", 1)}


async def test_a_poke_looks_again_at_once() -> None:
    consumer, apply = FakeConsumer(), Recorder()
    watch = watch_of(consumer, apply, settle_for=0.0)
    async with running(watch):
        await eventually(lambda: len(apply.applied) == 1)
        consumer._client.cluster = FakeCluster({"events.new": 1})
        watch.poke()
        await eventually(lambda: {TopicPartition("events.new", 0)} in apply.applied)


async def test_a_change_reported_by_changed_looks_again() -> None:
    consumer, apply = FakeConsumer(), Recorder()
    news = [False]

    def changed() -> bool:
        seen, news[0] = news[0], False
        return seen

    async with running(watch_of(consumer, apply, changed=changed, settle_for=0.0)):
        await eventually(lambda: len(apply.applied) == 1)
        consumer._client.cluster = FakeCluster({"events.b": 1})
        news[0] = True
        await eventually(lambda: {TopicPartition("events.b", 0)} in apply.applied)


async def test_after_a_change_it_keeps_looking_for_late_partitions() -> None:
    """A topic created a moment ago may show its partitions one by one."""
    consumer, apply = FakeConsumer(), Recorder()
    consumer._client.cluster = FakeCluster({"events.c": 1})
    async with running(watch_of(consumer, apply, settle_every=0.01)):
        await eventually(lambda: bool(apply.applied))
        consumer._client.cluster = FakeCluster({"events.c": 2})  # nobody pokes
        await eventually(lambda: len(apply.applied[-1]) == 2)


async def test_a_failed_look_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(owned, "RETRY_EVERY", 0.01)
    consumer, apply = FakeConsumer(), Recorder()
    consumer._client.failures_left = 2
    consumer._client.cluster = FakeCluster({"events.d": 1})
    async with running(watch_of(consumer, apply, settle_for=0.0)):
        await eventually(lambda: bool(apply.applied))
    assert consumer._client.looks == 3
    assert apply.applied == [{TopicPartition("events.d", 0)}]
