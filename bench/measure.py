"""Measurements shared by the bench's figures: deliveries/s of a flood,
and a steady rate for p99 event→2xx."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.harness import EventProducer, Stack


async def delivered_per_second(s: Stack, event_type: str, events: int, fanout: int) -> float:
    base = await s.received()
    started = time.monotonic()
    async with EventProducer(s.bootstrap) as producer:
        await producer.send_and_wait(event_type, events, f"{event_type}-{started}")
    finished = await s.wait_received(base + events * fanout, timeout=600)
    return events * fanout / (finished - started)


async def steady(
    s: Stack, event_type: str, rate: int, seconds: float, during: Callable[[], Any] | None = None
) -> None:
    """Produce ``rate`` events a second for ``seconds``, in 20 ms ticks;
    ``during`` runs alongside (churn)."""
    per_tick = max(1, rate // 50)  # 50 ticks a second
    side = asyncio.create_task(during()) if during else None
    async with EventProducer(s.bootstrap) as producer:
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < seconds:
            await producer.send(event_type, per_tick, f"{event_type}-{started}-{sent}")
            sent += per_tick
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
    if side is not None:
        await side


async def has_received(s: Stack, path: str, count: int) -> bool:
    return bool((await s.receiver_stats(path))["unique"] >= count)
