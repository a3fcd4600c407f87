"""A fair share of a worker per tenant: at most ``limit`` of one tenant's
deliveries are in flight in a worker at once (HOOKSTREAM_TENANT_MAX_IN_FLIGHT).

Every webhook already has its own lanes, so a hanging endpoint fills only
its own. What webhooks share is the worker's connection slots
(hookstream/delivery/sender.py): a tenant with many endpoints that hang
would hold all of them and every other tenant's requests would wait for the
timeouts. Taken before a connection slot, a tenant's share caps what it can
hold; its surplus waits here, in its own queue, holding nothing anyone else
needs. Webhooks without a tenant (the platform's own) are not limited.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class _Share:
    __slots__ = ("running", "slots", "users")

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)  # FIFO: a tenant's deliveries in arrival order
        self.users = 0  # holding or waiting
        self.running = 0  # holding


class TenantSlots:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a tenant's in-flight limit must be at least 1")
        self.limit = limit
        # Only tenants with deliveries in flight have an entry: ten thousand
        # quiet tenants cost nothing.
        self._shares: dict[str, _Share] = {}

    def in_flight(self, key: str) -> int:
        share = self._shares.get(key)
        return 0 if share is None else share.running

    def tenants(self) -> int:
        return len(self._shares)

    @contextlib.asynccontextmanager
    async def hold(self, key: str | None) -> AsyncIterator[None]:
        if key is None:
            yield
            return
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = _Share(self.limit)
        share.users += 1
        try:
            async with share.slots:
                share.running += 1
                try:
                    yield
                finally:
                    share.running -= 1
        finally:
            share.users -= 1
            if share.users == 0:
                del self._shares[key]
