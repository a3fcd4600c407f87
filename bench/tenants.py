"""The tenant figures (docs/tenants.md):

- p99 event→2xx of tenant B's webhook at a steady rate while tenant A's 100
  endpoints hang (each holding every request until the worker's timeout),
  beside tenant B alone on the same stack a moment before. Tenant A is sent
  enough events to want several times the worker's 1 000 connection slots;
  HOOKSTREAM_TENANT_MAX_IN_FLIGHT is what keeps B's latency where it was;
- webhooks created/s, each in its own tenant, with 10 000 tenants stored,
  beside webhooks without a tenant created the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

from bench.harness import EVENTS_TOPIC, LOAD_LINGER_MS, Stack, note
from hookstream.delivery.matching import RoutingIndex
from hookstream.testing.eventually import eventually
from hookstream.testing.loopback import LoopbackServer
from schemas.events import DomainEvent
from schemas.webhooks import Webhook

Add = Callable[..., None]

RATE = 200
SECONDS = 10
HANGING = 100
EVENTS_FOR_A = 50  # x 100 endpoints: 5 000 requests that would hang at once
TENANTS = 10_000
CREATED = 100
ENTITIES = 997
API_URL = "http://127.0.0.1:8000"  # of the entityUrl a filter would see


@asynccontextmanager
async def hanging_endpoints() -> AsyncIterator[tuple[str, Callable[[], int]]]:
    """An HTTP server whose every request waits until its client gives up;
    yields its URL and how many requests it holds now."""
    holding = 0

    async def hang(request: web.Request) -> web.Response:
        nonlocal holding
        holding += 1
        try:
            await asyncio.Event().wait()
        finally:
            holding -= 1
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    async with LoopbackServer(app, shutdown_timeout=0.5, handler_cancellation=True) as server:
        yield server.url, lambda: holding


def event(event_type: str, tenant_id: str, n: int) -> bytes:
    return orjson.dumps(
        {
            "eventId": f"{tenant_id}-{time.time()}-{n}",
            "eventType": event_type,
            "entityId": str(n % ENTITIES),
            "tenantId": tenant_id,
            "entity": {"n": n, "sentAt": time.time()},
        }
    )


async def produce(s: Stack, event_type: str, tenant_id: str, rate: int, seconds: float) -> int:
    """``rate`` events a second of one tenant for ``seconds`` (20 ms ticks)."""
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all", linger_ms=LOAD_LINGER_MS)
    await producer.start()
    try:
        per_tick, sent, started = max(1, rate // 50), 0, time.monotonic()
        while time.monotonic() - started < seconds:
            batch = [
                await producer.send(EVENTS_TOPIC, event(event_type, tenant_id, sent + i))
                for i in range(per_tick)
            ]
            await asyncio.gather(*batch)
            sent += per_tick
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
    finally:
        await producer.stop()
    return sent


async def p99_of_b(s: Stack, path: str) -> float:
    """Tenant B's p99 event→2xx (ms) over SECONDS at RATE, warm-up excluded."""
    await produce(s, "bench.tenant-b", "bench-b", 50, 1)
    await eventually(lambda: _unique(s, path, 50), timeout=120)
    await s.forget(path)
    sent = await produce(s, "bench.tenant-b", "bench-b", RATE, SECONDS)
    await eventually(lambda: _unique(s, path, sent), timeout=300)
    return float((await s.receiver_stats(path))["p99"]) * 1000


async def _unique(s: Stack, path: str, count: int) -> bool:
    return bool((await s.receiver_stats(path))["unique"] >= count)


async def put_tenant(s: Stack, tenant_id: str) -> None:
    status, body = await s.api.call("PUT", f"/api/v1/tenants/{tenant_id}", json={"name": tenant_id})
    assert status in (200, 201), body


async def fairness_figure(s: Stack, add: Add) -> None:
    for tenant_id in ("bench-a", "bench-b"):
        await put_tenant(s, tenant_id)
    path = "/tenant-b"
    await s.webhook(
        name=path,
        url=f"{s.receiver}{path}",
        events=["bench.tenant-b"],
        tenantId="bench-b",
        includeEntity=True,
    )
    note(f"tenant B alone, {RATE} events/s for {SECONDS}s …")
    alone = await p99_of_b(s, path)
    async with hanging_endpoints() as (url, holding):
        note(f"{HANGING} hanging endpoints of tenant A …")
        for i in range(HANGING):
            await s.webhook(
                name=f"hang-{i}", url=f"{url}/{i}", events=["bench.tenant-a"], tenantId="bench-a"
            )
        await produce(s, "bench.tenant-a", "bench-a", EVENTS_FOR_A, 1)
        await eventually(lambda: holding() > 0, timeout=120)
        note(f"tenant B beside them, {RATE} events/s for {SECONDS}s …")
        beside = await p99_of_b(s, path)
        note(f"tenant A held {holding()} requests at the end")
        # Its webhooks go with it; their hanging requests end at the timeout.
        status, _ = await s.api.call("DELETE", "/api/v1/tenants/bench-a")
        assert status == 204
    add(
        f"p99 event→2xx of tenant B while tenant A's {HANGING} endpoints hang",
        beside,
        "ms",
        "tenant B alone",
        alone,
    )


async def creation_figure(s: Stack, add: Add) -> None:
    note(f"{TENANTS} tenants …")
    for start in range(0, TENANTS, 100):
        await asyncio.gather(*(put_tenant(s, f"t{n}") for n in range(start, start + 100)))

    async def created_per_second(tenant: Callable[[int], dict[str, str]]) -> float:
        started = time.monotonic()
        for i in range(CREATED):
            await s.api.create_webhook(
                name=f"c{i}", url=f"{s.receiver}/created", events=["bench.none"], **tenant(i)
            )
        return CREATED / (time.monotonic() - started)

    without = await created_per_second(lambda i: {})
    with_tenant = await created_per_second(lambda i: {"tenantId": f"t{i * 97 % TENANTS}"})
    add(
        f"webhooks created/s, each in one of {TENANTS:,} tenants",
        with_tenant,
        "/s",
        "without a tenant",
        without,
    )


def routing_index_figure(add: Add) -> None:
    """The router's decision for one event of one tenant, in process: with
    TENANTS tenants holding a webhook each, beside one webhook in all. (End to
    end, ten thousand webhooks are ten thousand delivery topics, more than
    the embedded broker on this machine holds; the index is what routing
    adds per webhook.)"""

    def webhook(n: int) -> Webhook:
        return Webhook.model_validate(
            {
                "id": f"wh_{n}",
                "name": f"t{n}",
                "url": "https://example.com/hook",
                "events": ["bench.routing"],
                "tenantId": f"t{n}",
                "createdAt": "2026-12-07T00:00:00.000Z",
                "updatedAt": "2026-12-07T00:00:00.000Z",
            }
        )

    event = DomainEvent(
        event_id="e-1",
        event_type="bench.routing",
        entity_id="1",
        timestamp="2026-12-07T00:00:00.000Z",
        tenant_id="t0",
    )

    def decisions_per_second(index: RoutingIndex) -> float:
        assert [w.id for w in index.route(event).matched] == ["wh_0"]
        rounds, started = 0, time.perf_counter()
        while time.perf_counter() - started < 1.0:
            for _ in range(1000):
                index.route(event)
            rounds += 1000
        return rounds / (time.perf_counter() - started)

    note(f"routing index with {TENANTS:,} tenants …")
    one = decisions_per_second(RoutingIndex([webhook(0)], api_url=API_URL))
    many = decisions_per_second(RoutingIndex([webhook(n) for n in range(TENANTS)], api_url=API_URL))
    add(
        f"routing decisions/s in process, {TENANTS:,} tenants x 1 webhook",
        many,
        "/s",
        "1 webhook in all",
        one,
    )


async def tenant_figures(s: Stack, add: Add) -> None:
    routing_index_figure(add)
    await fairness_figure(s, add)
    await creation_figure(s, add)
