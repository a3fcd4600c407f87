"""eventually(): counts tries and checks messages, never measures durations."""

from __future__ import annotations

import asyncio

import pytest

from hookstream.testing.eventually import eventually


class Countdown:
    """Falsy for the first `misses` calls, then returns `value`."""

    def __init__(self, misses: int, value: object = "ready") -> None:
        self.misses = misses
        self.value = value
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value if self.calls > self.misses else None


async def test_returns_the_first_truthy_value_without_retrying() -> None:
    countdown = Countdown(misses=0, value={"id": 7})
    assert await eventually(countdown) == {"id": 7}
    assert countdown.calls == 1


async def test_retries_a_sync_predicate_until_truthy() -> None:
    countdown = Countdown(misses=3)
    assert await eventually(countdown, interval=0.001) == "ready"
    assert countdown.calls == 4


async def test_retries_an_async_predicate_until_truthy() -> None:
    calls = 0

    async def predicate() -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return list(range(calls)) if calls > 3 else []

    assert await eventually(predicate, interval=0.001) == [0, 1, 2, 3]
    assert calls == 4


async def test_retries_ignored_exceptions() -> None:
    calls = 0

    def predicate() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise KeyError("not there yet")
        return "found"

    assert await eventually(predicate, interval=0.001, ignoring=(KeyError,)) == "found"
    assert calls == 3


async def test_other_exceptions_propagate_at_once() -> None:
    calls = 0

    def predicate() -> bool:
        nonlocal calls
        calls += 1
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        await eventually(predicate, interval=0.001, ignoring=(KeyError,))
    assert calls == 1


async def test_timeout_raises_assertion_with_message_and_last_value() -> None:
    with pytest.raises(AssertionError) as caught:
        await eventually(list, timeout=0.02, interval=0.001, message="queue drained")
    text = str(caught.value)
    assert text.startswith("queue drained")
    assert "last value: []" in text


async def test_timeout_zero_tries_exactly_once() -> None:
    countdown = Countdown(misses=10)
    with pytest.raises(AssertionError, match="1 tries"):
        await eventually(countdown, timeout=0)
    assert countdown.calls == 1


async def test_timeout_reports_and_chains_the_last_ignored_exception() -> None:
    def predicate() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(AssertionError, match="ConnectionError") as caught:
        await eventually(predicate, timeout=0.02, interval=0.001, ignoring=(ConnectionError,))
    assert isinstance(caught.value.__cause__, ConnectionError)


async def test_callable_message_is_built_only_on_failure() -> None:
    built: list[str] = []

    def message() -> str:
        built.append("x")
        return f"seen {len(built)}"

    assert await eventually(lambda: 1, message=message) == 1
    assert built == []
    with pytest.raises(AssertionError, match="seen 1"):
        await eventually(lambda: 0, timeout=0, message=message)


async def test_a_hanging_async_predicate_is_cancelled_at_the_deadline() -> None:
    cancelled = asyncio.Event()

    async def hangs() -> bool:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    with pytest.raises(AssertionError, match="still running at the deadline"):
        await eventually(hangs, timeout=0.02, interval=0.001)
    assert cancelled.is_set()


async def test_the_predicates_own_timeout_error_is_not_mistaken_for_the_deadline() -> None:
    calls = 0

    async def predicate() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TimeoutError("inner")
        return True

    assert await eventually(predicate, interval=0.001, ignoring=(TimeoutError,)) is True
    assert calls == 2


async def test_rejects_a_non_positive_interval() -> None:
    with pytest.raises(ValueError, match="interval"):
        await eventually(lambda: True, interval=0)
