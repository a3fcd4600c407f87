"""Every process stops within a deadline, and at once when asked twice
(hookstream/stopping.py)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import pytest

from hookstream.stopping import EXIT_UNCLEAN, StopDeadline, stop_within
from streams import kafka_outage
from streams.kafka_outage import Reachability
from streams.ports import free_port


class FakeTimer:
    def __init__(self, seconds: float, expire: Callable[[], None]) -> None:
        self.seconds = seconds
        self.expire = expire
        self.daemon = False
        self.started = False
        self.cancelled = False

    def start(self) -> None:
        self.started = True

    def cancel(self) -> None:
        self.cancelled = True


class Exited(Exception):
    pass


class Harness:
    def __init__(self) -> None:
        self.timers: list[FakeTimer] = []
        self.exits: list[int] = []
        self.killed = 0
        self.deadline = StopDeadline(
            25.0, before_exit=self.kill, exit=self.exit, timer=self.new_timer
        )

    def new_timer(self, seconds: float, expire: Callable[[], None]) -> FakeTimer:
        self.timers.append(FakeTimer(seconds, expire))
        return self.timers[-1]

    def kill(self) -> None:
        self.killed += 1

    def exit(self, code: int) -> None:
        self.exits.append(code)
        raise Exited  # as os._exit, nothing after it runs


def test_the_first_signal_starts_the_stop_and_the_deadline() -> None:
    h = Harness()
    assert h.deadline.signalled(signal.SIGTERM)
    (timer,) = h.timers
    assert timer.started and timer.daemon and timer.seconds == 25.0
    assert h.deadline.stopping and h.exits == []


def test_a_second_signal_exits_at_once_after_the_clean_up() -> None:
    h = Harness()
    h.deadline.signalled(signal.SIGTERM)
    with pytest.raises(Exited):
        h.deadline.signalled(signal.SIGINT)
    assert h.exits == [EXIT_UNCLEAN] and h.killed == 1


def test_the_deadline_exits_non_zero() -> None:
    h = Harness()
    h.deadline.signalled(signal.SIGTERM)
    with pytest.raises(Exited):
        h.timers[0].expire()
    assert h.exits == [EXIT_UNCLEAN] and h.killed == 1


def test_a_failing_clean_up_does_not_prevent_the_exit() -> None:
    h = Harness()

    def broken() -> None:
        raise OSError("no such process")

    h.deadline.before_exit = broken
    h.deadline.signalled(signal.SIGTERM)
    with pytest.raises(Exited):
        h.deadline.signalled(signal.SIGTERM)
    assert h.exits == [EXIT_UNCLEAN]


def test_cancel_stops_the_timer() -> None:
    h = Harness()
    h.deadline.signalled(signal.SIGTERM)
    h.deadline.cancel()
    assert h.timers[0].cancelled


async def finished(result: bool) -> bool:
    return result


async def hangs() -> bool:
    await asyncio.Event().wait()
    return True


@pytest.fixture
def reachability(monkeypatch: pytest.MonkeyPatch) -> Reachability:
    reach = Reachability()
    monkeypatch.setattr("hookstream.stopping.REACHABILITY", reach)
    monkeypatch.setattr(kafka_outage, "REACHABILITY", reach)
    return reach


async def test_an_orderly_stop_that_finished_is_clean(reachability: Reachability) -> None:
    assert await stop_within(finished(True), what="test")


async def test_a_stop_that_left_work_is_not_clean(reachability: Reachability) -> None:
    assert not await stop_within(finished(False), what="test")


async def test_a_stop_that_overruns_its_budget_is_cut_short(
    reachability: Reachability, caplog: pytest.LogCaptureFixture
) -> None:
    assert not await stop_within(hangs(), what="test", budget=0.05)
    assert "test: stopping took over 0s; leaving the rest undone" in caplog.text


async def test_stopping_while_kafka_is_unreachable_is_not_clean(
    reachability: Reachability, caplog: pytest.LogCaptureFixture
) -> None:
    nobody = f"127.0.0.1:{free_port()}"  # nothing listens there
    reachability.failed(nobody, ConnectionRefusedError(111, "refused"))
    assert not await stop_within(finished(True), what="test")
    assert f"stopping while kafka is unreachable (broker={nobody})" in caplog.text


async def test_kafka_back_before_the_clients_noticed_is_reachable(
    reachability: Reachability,
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reachability.failed(f"127.0.0.1:{port}", ConnectionRefusedError(111, "refused"))
        assert await stop_within(finished(True), what="test")
    finally:
        server.close()
        await server.wait_closed()
