"""TenantSlots (hookstream/tenants/fairness.py): a tenant's share of a worker."""

from __future__ import annotations

import asyncio

from hookstream.tenants.fairness import TenantSlots


async def test_a_tenant_holds_at_most_its_limit_and_others_are_not_held_up() -> None:
    slots = TenantSlots(2)
    release = asyncio.Event()
    peak = 0

    async def hanging() -> None:
        nonlocal peak
        async with slots.hold("a"):
            peak = max(peak, slots.in_flight("a"))
            await release.wait()

    hangers = [asyncio.create_task(hanging()) for _ in range(10)]
    await asyncio.sleep(0)  # let them all queue
    assert slots.in_flight("a") == 2
    # Another tenant, and webhooks without one, go straight through.
    async with slots.hold("b"):
        assert slots.in_flight("b") == 1
    async with slots.hold(None):
        pass
    release.set()
    await asyncio.gather(*hangers)
    assert peak == 2
    assert slots.tenants() == 0  # nothing kept for tenants with nothing in flight


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    slots = TenantSlots(1)
    async with slots.hold("a"):
        waiter = asyncio.create_task(slots.hold("a").__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
    assert slots.tenants() == 0
    async with slots.hold("a"):
        assert slots.in_flight("a") == 1
