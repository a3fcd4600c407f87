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
