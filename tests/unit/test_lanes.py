from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from hookstream.testing.eventually import eventually
from streams.lanes import OffsetTracker, PartitionLane


@given(st.lists(st.booleans(), min_size=1, max_size=60))
def test_committable_is_first_unfinished_offset(done_flags: list[bool]) -> None:
    tracker = OffsetTracker()
    for offset in range(len(done_flags)):
        tracker.add(100 + offset)
    for offset, done in enumerate(done_flags):
        if done:
            tracker.done(100 + offset)
    unfinished = [100 + i for i, done in enumerate(done_flags) if not done]
    expected = unfinished[0] if unfinished else 100 + len(done_flags)
    assert tracker.committable() == expected


def test_empty_tracker_has_nothing_to_commit() -> None:
    assert OffsetTracker().committable() is None


@dataclass
class Record:
    offset: int
    key: bytes


async def test_lane_keeps_per_key_order_and_runs_keys_concurrently() -> None:
    started: list[tuple[bytes, int]] = []
    release = asyncio.Event()

    async def handler(record: Record) -> None:
        started.append((record.key, record.offset))
        if record.key == b"slow":
            await release.wait()

    lane = PartitionLane("t[0]", handler, concurrency=4)
    lane.submit(Record(0, b"slow"))
    lane.submit(Record(1, b"slow"))
    lane.submit(Record(2, b"fast"))
    lane.submit(Record(3, b"fast"))
    # The fast key gets through although the slow key's first record is stuck,
    # and the slow key's second record has not started.
    await eventually(
        lambda: {(b"fast", 2), (b"fast", 3)} <= set(started), timeout=5, interval=0.001
    )
    assert (b"slow", 1) not in started
    assert lane.tracker.committable() == 0
    release.set()
    await eventually(lambda: lane.tracker.committable() == 4, timeout=5, interval=0.001)
    assert [o for k, o in started if k == b"slow"] == [0, 1]
    assert lane.tracker.committable() == 4


async def test_lane_retries_a_failing_handler_instead_of_skipping(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("streams.lanes.RETRY_HANDLER_AFTER", 0)
    calls = 0

    async def flaky(record: Record) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("kafka down")

    lane = PartitionLane("t[0]", flaky, concurrency=1)
    lane.submit(Record(7, b"k"))
    await eventually(lambda: lane.tracker.committable() == 8, timeout=5, interval=0.001)
    assert calls == 3


async def test_close_cancels_stuck_records_and_leaves_them_uncommitted() -> None:
    entered = asyncio.Event()

    async def hang(record: Record) -> None:
        entered.set()
        await asyncio.Event().wait()

    lane = PartitionLane("t[0]", hang, concurrency=2)
    lane.submit(Record(5, b"a"))
    await eventually(entered.is_set, timeout=5, interval=0.001)
    await lane.close(grace=0.01)
    assert lane.tracker.committable() == 5


async def test_concurrency_can_be_raised_and_lowered_while_running() -> None:
    running: set[int] = set()
    most = 0
    gates = {offset: asyncio.Event() for offset in range(12)}

    async def handler(record: Record) -> None:
        nonlocal most
        running.add(record.offset)
        most = max(most, len(running))
        await gates[record.offset].wait()
        running.discard(record.offset)

    lane = PartitionLane("t[0]", handler, concurrency=2)
    for offset in range(12):
        lane.submit(Record(offset, str(offset).encode()))  # distinct keys: no ordering
    await eventually(lambda: len(running) == 2)
    lane.concurrency = 5
    await eventually(lambda: len(running) == 5)
    lane.concurrency = 1
    for offset in sorted(running):
        gates[offset].set()
    # The surplus workers leave after their record; one goes on alone.
    await eventually(lambda: len(running) == 1 and lane.backlog == 7)
    for _ in range(7):
        assert len(running) == 1
        (offset,) = running
        gates[offset].set()
        await eventually(lambda offset=offset: offset not in running)
        await eventually(lambda: len(running) == 1 or lane.backlog == 0)
    assert lane.backlog == 0
    assert most == 5
    assert lane.tracker.committable() == 12


async def test_lane_says_when_its_backlog_falls_to_the_low_water_mark() -> None:
    """The dispatcher resumes a paused partition from this call, not at its
    next fetch round."""
    gates = {offset: asyncio.Event() for offset in range(6)}
    backlog_when_called: list[int] = []

    async def handler(record: Record) -> None:
        await gates[record.offset].wait()

    lane: PartitionLane = PartitionLane(
        "t[0]",
        handler,
        concurrency=6,
        low_water=2,
        on_low=lambda: backlog_when_called.append(lane.backlog),
    )
    for offset in range(6):
        lane.submit(Record(offset, f"k{offset}".encode()))
    for offset in range(3):
        gates[offset].set()
    await eventually(lambda: lane.backlog == 3)
    assert backlog_when_called == []
    gates[3].set()
    await eventually(lambda: lane.backlog == 2)
    assert backlog_when_called == [2]
    gates[4].set()
    gates[5].set()
    await eventually(lambda: lane.backlog == 0)
    assert backlog_when_called == [2]
