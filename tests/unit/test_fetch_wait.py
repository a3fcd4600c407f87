"""FetchWait: a consumer's fetch wait rises while fetches come back empty
although records are waiting, and comes back down once records flow. The
consumer is a fake (pure logic): the broker behaviour that needs it is
covered by the broker-restart integration test on disk storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import TopicPartition

from streams import broker_compat
from streams.broker_compat import FETCH_MAX_WAIT_MS, MAX_FETCH_WAIT_MS, FetchWait

TP = TopicPartition("events.a", 0)


@dataclass
class State:
    position: int = 0
    highwater: int | None = None
    paused: bool = False
    has_valid_position: bool = True


@dataclass
class FakeAssignment:
    states: dict[TopicPartition, State] = field(default_factory=lambda: {TP: State()})

    @property
    def tps(self) -> set[TopicPartition]:
        return set(self.states)

    def state_value(self, tp: TopicPartition) -> State:
        return self.states[tp]


class FakeConsumer:
    def __init__(self) -> None:
        self.assignment = FakeAssignment()
        self._subscription = type(
            "S", (), {"subscription": type("Sub", (), {"assignment": self.assignment})()}
        )()
        self._fetcher: Any = type(
            "F", (), {"_fetch_max_wait_ms": FETCH_MAX_WAIT_MS, "_fetch_min_bytes": 1}
        )()

    @property
    def wait(self) -> int:
        return int(self._fetcher._fetch_max_wait_ms)


@pytest.fixture(autouse=True)
def check_every_round(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_compat, "LAG_CHECK_EVERY", 0.0)


def test_empty_fetches_with_records_waiting_raise_the_wait_up_to_the_cap() -> None:
    consumer = FakeConsumer()
    consumer.assignment.states[TP].highwater = 5  # five records the broker did not hand over
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    waits = []
    for _ in range(12):
        tuner.after_fetch(got_records=False)
        waits.append(consumer.wait)
    assert waits[:3] == [2 * FETCH_MAX_WAIT_MS, 4 * FETCH_MAX_WAIT_MS, 8 * FETCH_MAX_WAIT_MS]
    assert max(waits) == MAX_FETCH_WAIT_MS == waits[-1]


def test_records_flowing_bring_the_wait_back_down() -> None:
    consumer = FakeConsumer()
    consumer.assignment.states[TP].highwater = 5
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    for _ in range(5):
        tuner.after_fetch(got_records=False)
    raised = consumer.wait
    for _ in range(30):
        tuner.after_fetch(got_records=True)
    assert raised > FETCH_MAX_WAIT_MS
    assert consumer.wait == FETCH_MAX_WAIT_MS


@pytest.mark.parametrize(
    "state",
    [
        State(position=5, highwater=5),  # caught up: an empty fetch is just idle
        State(position=0, highwater=5, paused=True),  # held back on purpose
        State(position=0, highwater=None),  # nothing fetched yet
        State(position=0, highwater=5, has_valid_position=False),  # being positioned
    ],
)
def test_idle_or_held_partitions_leave_the_wait_alone(state: State) -> None:
    consumer = FakeConsumer()
    consumer.assignment.states[TP] = state
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    for _ in range(5):
        tuner.after_fetch(got_records=False)
    assert consumer.wait == FETCH_MAX_WAIT_MS


def many_partitions(count: int) -> FakeConsumer:
    consumer = FakeConsumer()
    consumer.assignment.states = {TopicPartition(f"t{n}", 0): State() for n in range(count)}
    return consumer


def test_an_idle_consumer_of_many_partitions_polls_less_until_records_come() -> None:
    consumer = many_partitions(4000)
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    tuner.after_fetch(got_records=False)
    busy = consumer.wait
    for _ in range(broker_compat.IDLE_AFTER_ROUNDS):
        tuner.after_fetch(got_records=False)
    idle = consumer.wait
    tuner.after_fetch(got_records=True)
    assert idle == broker_compat.MAX_IDLE_WAIT_MS > busy
    assert consumer.wait == busy


def test_an_idle_consumer_of_few_partitions_waits_the_idle_minimum() -> None:
    consumer = many_partitions(8)
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    for _ in range(broker_compat.IDLE_AFTER_ROUNDS - 1):
        tuner.after_fetch(got_records=False)
    assert consumer.wait == FETCH_MAX_WAIT_MS  # quiet, not idle yet
    for _ in range(broker_compat.IDLE_AFTER_ROUNDS):
        tuner.after_fetch(got_records=False)
    assert consumer.wait == broker_compat.MIN_IDLE_WAIT_MS
    tuner.after_fetch(got_records=True)
    assert consumer.wait == FETCH_MAX_WAIT_MS  # records end it at once


def test_a_busy_consumer_of_many_partitions_has_the_broker_gather_records() -> None:
    consumer = many_partitions(broker_compat.BATCH_FROM_PARTITIONS)
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    tuner.after_fetch(got_records=True)
    assert tuner.min_bytes == broker_compat.BATCH_MIN_BYTES
    assert consumer.wait <= 100  # the most a hop can gain from it
    tuner.after_fetch(got_records=False)  # a trickle or silence: answer at once again
    assert tuner.min_bytes == 1


def test_a_busy_consumer_of_fewer_partitions_is_answered_at_once() -> None:
    consumer = many_partitions(broker_compat.BATCH_FROM_PARTITIONS - 1)
    tuner = FetchWait(consumer)  # type: ignore[arg-type]
    for _ in range(3):
        tuner.after_fetch(got_records=True)
    assert tuner.min_bytes == 1


def test_dormant_partitions_do_not_count_towards_the_wait() -> None:
    consumer = many_partitions(4000)
    tuner = FetchWait(consumer, asleep=lambda: 3996)  # type: ignore[arg-type]
    tuner.after_fetch(got_records=True)
    assert consumer.wait == FETCH_MAX_WAIT_MS  # as for the four partitions fetched
    assert tuner.min_bytes == 1
    everyone = FetchWait(many_partitions(4000))  # type: ignore[arg-type]
    everyone.after_fetch(got_records=True)
    assert everyone.min_bytes == broker_compat.BATCH_MIN_BYTES
