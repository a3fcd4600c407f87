"""Coalesced refreshes: shared, and never older than the call."""

from __future__ import annotations

import asyncio

from streams.coalesce import Coalesced


async def test_many_callers_share_refreshes_that_start_after_them() -> None:
    started: list[int] = []  # how many calls had been made when each refresh started
    calls = 0
    gate = asyncio.Event()

    async def refresh() -> bool:
        started.append(calls)
        await gate.wait()
        return True

    shared = Coalesced(refresh)

    async def call() -> tuple[int, bool]:
        nonlocal calls
        calls += 1
        made = calls
        return made, await shared(timeout=30)

    first = asyncio.create_task(call())
    await asyncio.sleep(0)  # the first refresh starts
    rest = [asyncio.create_task(call()) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(first, *rest)
    assert all(ok for _, ok in results)
    # Two refreshes for 51 callers: the first began after call 1, the second
    # after calls 2-51, which it answered.
    assert started == [1, 51]


async def test_a_caller_that_cannot_wait_gets_false() -> None:
    release = asyncio.Event()

    async def slow() -> bool:
        await release.wait()
        return True

    shared = Coalesced(slow)
    assert await shared(timeout=0.01) is False  # never finishes until released
    release.set()
    assert await shared(timeout=30) is True
