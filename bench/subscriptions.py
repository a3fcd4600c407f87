"""The subscription figures (docs/subscriptions.md):

- routing with 1 000 webhooks that each have a filter, beside 1 000
  without: deliveries routed per second by the worker, the same events and
  the same fan-out (every bench event passes the filter), and the routing
  index's own decisions per second measured in-process (pure, no Kafka);
- a rate-limited webhook's neighbour: p99 event→2xx of a webhook at a
  steady rate alone, and again while another webhook limited to 20
  requests/s has 2 000 deliveries waiting for their turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.harness import EventProducer, Stack, note
from bench.measure import delivered_per_second, has_received, steady
from hookstream.delivery.matching import RoutingIndex
from hookstream.testing.eventually import eventually
from schemas.events import DomainEvent
from schemas.webhooks import Webhook

Add = Callable[..., None]

WEBHOOKS = 1000
ROUTED_EVENTS = 5  # x 1 000 webhooks: 5 000 deliveries a side
INDEX_EVENTS = 200
# Every bench event passes it (same fan-out as without), after evaluating
# three operators on two fields.
FILTER = {"eventType": {"$startsWith": "bench."}, "entity": {"n": {"$gte": 0, "$lt": 10**9}}}
RATE = 200
SECONDS = 10
LIMIT = {"requests": 20, "perSeconds": 1}
FLOOD = 2000


async def _routed_per_second(s: Stack, event_type: str, events: int, fanout: int) -> float:
    metric = "hookstream_deliveries_routed_total"
    base = await s.worker.metric(metric)
    received = await s.received()
    started = time.monotonic()
    async with EventProducer(s.bootstrap) as producer:
        await producer.send_and_wait(event_type, events, f"{event_type}-{started}")

    async def routed() -> bool:
        return await s.worker.metric(metric) >= base + events * fanout

    await eventually(routed, timeout=300, interval=0.02)
    rate = events * fanout / (time.monotonic() - started)
    await s.wait_received(received + events * fanout, timeout=600)  # drained before the next
    return rate


def _index_decisions_per_second(filtered: bool) -> float:
    """The routing index alone: candidates by tenant and type, then filters."""
    now = "2026-12-01T00:00:00.000Z"
    extra: dict[str, Any] = {"filter": FILTER} if filtered else {}
    webhooks = [
        Webhook.model_validate(
            {"id": f"wh_{n}", "name": "n", "url": "https://example.com/h", "events": ["bench.x"],
             "createdAt": now, "updatedAt": now, **extra}
        )
        for n in range(WEBHOOKS)
    ]  # fmt: skip
    index = RoutingIndex(webhooks, api_url="http://127.0.0.1:8000")
    events = [
        DomainEvent(f"e-{n}", "bench.x", str(n), now, entity={"n": n}) for n in range(INDEX_EVENTS)
    ]
    started = time.perf_counter()
    for event in events:
        assert len(index.route(event).matched) == WEBHOOKS
    return INDEX_EVENTS * WEBHOOKS / (time.perf_counter() - started)


async def routing_figures(s: Stack, add: Add) -> None:
    for kind in ("plain", "filtered"):
        note(f"creating {WEBHOOKS} {kind} webhooks …")
        for i in range(WEBHOOKS):
            fields: dict[str, Any] = {"filter": FILTER} if kind == "filtered" else {}
            created = await s.api.create_webhook(
                name=f"{kind}-{i}", url=f"{s.receiver}/{kind}/{i}", events=[f"bench.{kind}"],
                **fields,
            )  # fmt: skip
        await s.worker.wait_knows(created, timeout=300)
        await _routed_per_second(s, f"bench.{kind}", 1, WEBHOOKS)  # warm up
    note(f"routing {ROUTED_EVENTS} events to {WEBHOOKS} webhooks, without and with filters …")
    plain = await _routed_per_second(s, "bench.plain", ROUTED_EVENTS, WEBHOOKS)
    filtered = await _routed_per_second(s, "bench.filtered", ROUTED_EVENTS, WEBHOOKS)
    add(
        f"deliveries routed/s, {WEBHOOKS:,} webhooks each with a filter",
        filtered,
        "/s",
        f"the same, {WEBHOOKS:,} webhooks without",
        plain,
    )
    add(
        f"routing index decisions/s (in-process), {WEBHOOKS:,} filtered webhooks",
        _index_decisions_per_second(filtered=True),
        "/s",
        "the same without filters",
        _index_decisions_per_second(filtered=False),
    )


async def _neighbour_p99(s: Stack, path: str, event_type: str) -> float:
    await s.forget(path)
    note(f"steady {RATE} events/s for {SECONDS}s to the neighbour …")
    await steady(s, event_type, RATE, SECONDS)
    await eventually(lambda: has_received(s, path, RATE * SECONDS), timeout=120)
    stats = await s.receiver_stats(path)
    return float(stats["p99"]) * 1000


async def rate_limit_figure(s: Stack, add: Add) -> None:
    path = "/rl-neighbour"
    await s.webhook(
        name="neighbour", url=f"{s.receiver}{path}", events=["bench.rlfree"], includeEntity=True
    )  # the entity carries sentAt, for event→2xx
    await delivered_per_second(s, "bench.rlfree", 50, 1)  # warm up
    alone = await _neighbour_p99(s, path, "bench.rlfree")
    limited = await s.webhook(
        name="limited", url=f"{s.receiver}/rl-limited", events=["bench.rllimited"], rateLimit=LIMIT
    )
    async with EventProducer(s.bootstrap) as producer:
        await producer.send_and_wait("bench.rllimited", FLOOD, "rl-flood")
    beside = await _neighbour_p99(s, path, "bench.rlfree")
    add(
        f"neighbour p99 event→2xx while a webhook limited to {LIMIT['requests']}/s holds "
        f"{FLOOD:,} waiting deliveries (ms)",
        beside,
        "ms",
        "the neighbour alone (ms)",
        alone,
    )
    await s.api.call("DELETE", f"/api/v1/webhooks/{limited['id']}")  # its wait is not ours


async def subscription_figures(s: Stack, add: Add) -> None:
    await rate_limit_figure(s, add)
    await routing_figures(s, add)
