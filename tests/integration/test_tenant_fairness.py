"""Fairness between tenants in a worker (HOOKSTREAM_TENANT_MAX_IN_FLIGHT):
tenant A's endpoints all hang; A never has more requests in flight than its
share, and tenant B's deliveries arrive while A's still hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.loopback import LoopbackServer
from hookstream.testing.processes import TENANT_MAX_IN_FLIGHT, WorkerProcess
from tests.conftest import send_event

HANGING_WEBHOOKS = 10
EVENTS_FOR_A = 40  # x 10 webhooks: far more than A's share could ever hold
EVENTS_FOR_B = 5


@dataclass
class Endpoints:
    """``/a/...`` hangs until the caller gives up; ``/b/...`` answers 200."""

    url: str = ""
    hanging: int = 0
    peak: int = 0
    delivered_to_b: list[str] = field(default_factory=list)
    hanging_when_b_arrived: list[int] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        if request.path.startswith("/b/"):
            self.delivered_to_b.append(request.headers["X-Etl-Webhook-Event-Id"])
            self.hanging_when_b_arrived.append(self.hanging)
            return web.Response(text="ok")
        self.hanging += 1
        self.peak = max(self.peak, self.hanging)
        try:
            await asyncio.Event().wait()  # until the worker's timeout closes the connection
        finally:
            self.hanging -= 1
        raise AssertionError("unreachable")


@pytest.fixture
async def endpoints() -> AsyncIterator[Endpoints]:
    found = Endpoints()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    # Cancel a handler when its client goes away: "hanging" counts open requests.
    async with LoopbackServer(app, shutdown_timeout=0.5, handler_cancellation=True) as server:
        found.url = server.url
        yield found


def event(unique: str, tenant_id: str, n: int) -> dict[str, str]:
    return {
        "eventId": f"{tenant_id}-{n}",
        "eventType": f"fair.{unique}",
        "entityId": str(n),
        "tenantId": tenant_id,
    }


async def test_hanging_endpoints_of_one_tenant_hold_only_its_share(
    worker: WorkerProcess,
    api: ApiClient,
    producer: AIOKafkaProducer,
    endpoints: Endpoints,
    tenant_pair: tuple[str, str],
    unique: str,
) -> None:
    a, b = tenant_pair
    kinds = {"events": [f"fair.{unique}"]}
    for i in range(HANGING_WEBHOOKS):
        await live_webhook(
            api, worker, name=f"a{i}", url=f"{endpoints.url}/a/{i}", tenantId=a, **kinds
        )
    await live_webhook(api, worker, name="b", url=f"{endpoints.url}/b/0", tenantId=b, **kinds)

    for n in range(EVENTS_FOR_A):
        await send_event(producer, event(unique, a, n))
    await eventually(
        lambda: endpoints.hanging >= TENANT_MAX_IN_FLIGHT,
        timeout=60,
        message=f"tenant A never filled its share of {TENANT_MAX_IN_FLIGHT}",
    )
    for n in range(EVENTS_FOR_B):
        await send_event(producer, event(unique, b, n))
    await eventually(
        lambda: len(set(endpoints.delivered_to_b)) == EVENTS_FOR_B,
        timeout=60,
        message="tenant B's deliveries did not arrive while tenant A's endpoints hang",
    )
    # B went through beside A's hanging requests, not after them.
    assert all(count > 0 for count in endpoints.hanging_when_b_arrived)
    assert endpoints.peak == TENANT_MAX_IN_FLIGHT
