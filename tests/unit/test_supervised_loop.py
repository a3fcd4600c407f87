"""The one supervision rule: a failing loop is logged, counted, reported
unhealthy while it waits, recovered and started again; a stop ends it."""

from __future__ import annotations

import asyncio

import pytest

from hookstream.testing.eventually import eventually
from streams import service
from streams.service import SupervisedLoop


class Flaky(SupervisedLoop):
    name = "flaky"

    def __init__(self, failures: int, restarts: list[str]) -> None:
        super().__init__(on_restart=restarts.append)
        self.failures_left = failures
        self.runs = 0
        self.recovered = 0
        self.torn_down = False
        self.steady = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("boom")
        self.steady.set()
        await asyncio.Event().wait()  # runs until stopped

    async def recover(self) -> None:
        self.recovered += 1

    async def teardown(self) -> None:
        self.torn_down = True


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "FIRST_BACKOFF", 0.01)
    monkeypatch.setattr(service, "MAX_BACKOFF", 0.02)


async def test_a_failing_loop_is_counted_recovered_and_restarted() -> None:
    restarts: list[str] = []
    loop = Flaky(failures=3, restarts=restarts)
    await loop.start()
    await asyncio.wait_for(loop.steady.wait(), 10)
    assert loop.runs == 4
    assert restarts == ["flaky", "flaky", "flaky"]
    assert loop.restarts == 3
    assert loop.recovered == 3
    assert loop.running
    await loop.stop()
    assert not loop.running
    assert loop.torn_down


async def test_a_loop_is_unhealthy_while_it_waits_to_restart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "FIRST_BACKOFF", 3600.0)
    loop = Flaky(failures=1, restarts=[])
    await loop.start()
    await eventually(lambda: loop.restarts == 1, timeout=10)
    assert not loop.running  # /readyz turns unready while the loop is down
    await loop.stop()
    assert loop.torn_down


async def test_a_recover_that_fails_is_tried_again() -> None:
    class BadRecovery(Flaky):
        async def recover(self) -> None:
            self.recovered += 1
            if self.recovered < 3:
                raise ConnectionError("broker still away")

    restarts: list[str] = []
    loop = BadRecovery(failures=1, restarts=restarts)
    await loop.start()
    await asyncio.wait_for(loop.steady.wait(), 10)
    assert loop.recovered == 3
    assert loop.runs == 2
    await loop.stop()


async def test_a_loop_that_returns_is_finished_not_restarted() -> None:
    class Once(SupervisedLoop):
        name = "once"

        async def run(self) -> None:
            return

    restarts: list[str] = []
    loop = Once(on_restart=restarts.append)
    await loop.start()
    await eventually(lambda: not loop.running, timeout=10)
    assert restarts == []
    await loop.stop()


class Stuck(SupervisedLoop):
    """Beats a few rounds, then waits on something that never comes."""

    name = "stuck"
    beats = True

    def __init__(self) -> None:
        super().__init__()
        self.rounds = 0
        self.release = asyncio.Event()

    async def run(self) -> None:
        while True:
            self.rounds += 1
            self.progressed()
            if self.rounds == 3:
                await self.wait_for_nothing()
            await asyncio.sleep(0)

    async def wait_for_nothing(self) -> None:
        await self.release.wait()


async def test_a_loop_that_stops_beating_is_reported_with_where_it_waits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = Stuck()
    watch = service.StallWatch(lambda: [loop], after=0.05, every=0.01)
    await loop.start()
    watcher = asyncio.create_task(watch.run())
    try:
        await eventually(lambda: watch.stalled() == [loop])
        await eventually(lambda: "made no progress" in caplog.text)
        assert "in wait_for_nothing" in caplog.text
        assert any("wait_for_nothing" in frame for frame in loop.waiting_in())

        loop.release.set()  # it moves again: no longer stalled
        await eventually(lambda: not watch.stalled())
    finally:
        watcher.cancel()
        await loop.stop()


async def test_loops_that_do_not_beat_are_never_stalled() -> None:
    quiet = Flaky(failures=0, restarts=[])
    watch = service.StallWatch(lambda: [quiet], after=0.0)
    await quiet.start()
    try:
        await eventually(quiet.steady.is_set)
        assert watch.stalled() == []
    finally:
        await quiet.stop()
