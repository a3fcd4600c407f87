"""The embedded broker's disk storage (what ``make run`` keeps its data on)
beside its memory storage, in one run:

* ``storage_rows``: one webhook's deliveries/s and p99 event→2xx at steady
  rates, measured the same way on a fresh memory stack and a fresh disk stack;
  the share column is disk / memory.
* the same rate kept up for TRICKLE_WINDOWS windows on one topic, one record
  per produced batch: Tansu lists every batch of a partition on each fetch,
  so on disk the latency grows with the batches a partition holds;
* ``long_rows`` (``python -m bench --long``): p99 at a steady rate on a fresh
  stack, after LONG_EVENTS / 2 and after LONG_EVENTS events have been
  delivered, and the disk's bytes per event: whether latency stays flat as
  partitions fill up.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.harness import EventProducer, Stack, Storage, note, stack
from bench.measure import delivered_per_second, has_received, steady
from hookstream.testing.eventually import eventually
from streams.broker import disk_usage

RATES = (200, 1000)
DELIVERIES = 6000
STEADY_SECONDS = 10
WARM_UP = 50
LONG_RATE = 200
LONG_EVENTS = int(os.environ.get("BENCH_LONG_EVENTS", "1000000"))
FLOOD_CHUNK = 20_000
TRICKLE_WINDOWS = 4

Row = tuple[str, str, str, str, str]


@dataclass
class StorageRun:
    deliveries: float
    latency: dict[int, dict[str, Any]]
    raw_hop: dict[str, float]
    trickle: list[dict[str, Any]]


async def raw_hop(s: Stack, rate: int, partitions: int = 4) -> dict[str, float]:
    """The broker's own hop: a plain aiokafka producer → consumer at a
    steady ``rate`` over a topic of ``partitions`` (as many as events.bench),
    seconds from send to consumed: the floor under every hop of the pipeline."""
    topic = f"raw.hop-{partitions}-{rate}"
    admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=20
    )
    await producer.start()
    await consumer.start()
    total, delays = rate * STEADY_SECONDS, []

    async def consume() -> None:
        while len(delays) < total:
            batches = await consumer.getmany(timeout_ms=1000)
            now = time.time()
            delays.extend(now - float(r.value) for rs in batches.values() for r in rs)

    try:
        reading = asyncio.create_task(consume())
        per_tick, started, sent = max(1, rate // 50), time.monotonic(), 0
        while sent < total:
            for i in range(per_tick):
                await producer.send(
                    topic, key=str(sent + i).encode(), value=repr(time.time()).encode()
                )
            sent += per_tick
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
        await asyncio.wait_for(reading, timeout=180)
    finally:
        await producer.stop()
        await consumer.stop()
    delays.sort()
    return {"p50": delays[len(delays) // 2], "p99": delays[int(len(delays) * 0.99)]}


def _p99(stats: dict[str, Any]) -> str:
    if stats["p99"] is None:
        return "no samples"
    return f"{stats['p99'] * 1000:,.0f} ms (p50 {stats['p50'] * 1000:,.0f} ms)"


async def p99_at(s: Stack, rate: int, tag: str) -> dict[str, Any]:
    """Receiver stats of a new webhook's deliveries at a steady ``rate``."""
    path = f"/{tag}"
    await s.webhook(
        name=path, url=f"{s.receiver}{path}", events=[f"bench.{tag}"], includeEntity=True
    )
    await delivered_per_second(s, f"bench.{tag}", WARM_UP, 1)  # warm: not counted
    await s.forget(path)
    note(f"{tag}: steady {rate} events/s for {STEADY_SECONDS}s …")
    await steady(s, f"bench.{tag}", rate, STEADY_SECONDS)
    await eventually(lambda: has_received(s, path, rate * STEADY_SECONDS), timeout=180)
    return await s.receiver_stats(path)


async def trickle(s: Stack, rate: int, tag: str) -> list[dict[str, Any]]:
    """p99 of each of TRICKLE_WINDOWS consecutive windows at ``rate`` on one
    webhook and one events topic: whether latency holds as partitions fill."""
    path = f"/{tag}"
    await s.webhook(
        name=path, url=f"{s.receiver}{path}", events=[f"bench.{tag}"], includeEntity=True
    )
    await delivered_per_second(s, f"bench.{tag}", WARM_UP, 1)
    windows = []
    for window in range(TRICKLE_WINDOWS):
        await s.forget(path)
        note(f"{tag}: window {window + 1} of {TRICKLE_WINDOWS}, {rate} events/s …")
        await steady(s, f"bench.{tag}", rate, STEADY_SECONDS)
        await eventually(lambda: has_received(s, path, rate * STEADY_SECONDS), timeout=600)
        windows.append(await s.receiver_stats(path))
    return windows


async def storage_run(storage: Storage, env: dict[str, str]) -> StorageRun:
    async with stack(storage, **env) as s:
        latency = {rate: await p99_at(s, rate, f"{storage}{rate}") for rate in RATES}
        windows = await trickle(s, RATES[0], f"{storage}-trickle")
        tag = f"{storage}-one"
        await s.webhook(
            name=tag, url=f"{s.receiver}/{tag}", events=[f"bench.{tag}"], includeEntity=True
        )
        await delivered_per_second(s, f"bench.{tag}", WARM_UP, 1)
        note(f"{storage}: {DELIVERIES} deliveries to one webhook …")
        deliveries = await delivered_per_second(s, f"bench.{tag}", DELIVERIES, 1)
        note(f"{storage}: raw aiokafka hop at {RATES[0]} events/s …")
        hop = await raw_hop(s, RATES[0])
    return StorageRun(deliveries, latency, hop, windows)


async def storage_rows(env: dict[str, str]) -> list[Row]:
    memory = await storage_run("memory", env)
    disk = await storage_run("disk", env)
    rows: list[Row] = [
        (
            "disk (make run's store): deliveries/s, 1 webhook",
            f"{disk.deliveries:,.0f} /s",
            "same on memory, this run",
            f"{memory.deliveries:,.0f}",
            f"{disk.deliveries / memory.deliveries:.1%}",
        )
    ]
    rows.append(
        (
            f"disk: raw aiokafka produce→consume p99 at {RATES[0]} ev/s, 4 partitions",
            _p99(disk.raw_hop),
            "same on memory, this run",
            _p99(memory.raw_hop),
            f"{disk.raw_hop['p99'] / memory.raw_hop['p99']:.1f}x",
        )
    )
    for rate in RATES:
        on_disk, in_memory = disk.latency[rate], memory.latency[rate]
        ratio = (
            f"{on_disk['p99'] / in_memory['p99']:.1f}x"
            if on_disk["p99"] and in_memory["p99"]
            else ""
        )
        rows.append(
            (
                f"disk: p99 event→2xx at {rate} ev/s",
                _p99(on_disk),
                "same on memory, this run",
                _p99(in_memory),
                ratio,
            )
        )
    first, last = disk.trickle[0], disk.trickle[-1]
    rows.append(
        (
            f"disk: p99 at {RATES[0]} ev/s, window 1 → {TRICKLE_WINDOWS} of "
            f"{STEADY_SECONDS}s on one topic",
            f"{_p99(first)} → {_p99(last)}",
            "same on memory, this run",
            f"{_p99(memory.trickle[0])} → {_p99(memory.trickle[-1])}",
            f"disk grew {last['p99'] / first['p99']:.1f}x" if first["p99"] and last["p99"] else "",
        )
    )
    return rows


async def flood_until(s: Stack, event_type: str, path: str, total: int, sent: int) -> int:
    """Produce events until ``total`` have been sent, then wait until every
    one is delivered (the next p99 starts from an empty pipeline)."""
    base, goal = await s.received(), total - sent
    async with EventProducer(s.bootstrap) as producer:
        while sent < total:
            chunk = min(FLOOD_CHUNK, total - sent)
            await producer.send_and_wait(event_type, chunk, f"{path}-{sent}")
            sent += chunk
            note(f"{path}: {sent:,} events produced")
    await s.wait_received(base + goal, timeout=3600)
    return sent


async def long_run(storage: Storage, env: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    async with stack(storage, **env) as s:
        fresh = await p99_at(s, LONG_RATE, f"long-{storage}-fresh")
        path = f"/long-{storage}-flood"
        await s.webhook(
            name=path, url=f"{s.receiver}{path}", events=["bench.flood"], includeEntity=True
        )
        started, sent = time.monotonic(), 0
        checkpoints = {}
        for total in (LONG_EVENTS // 2, LONG_EVENTS):
            await s.forget(path)  # the receiver keeps no per-delivery state for the flood
            sent = await flood_until(s, "bench.flood", path, total, sent)
            checkpoints[total] = await p99_at(s, LONG_RATE, f"long-{storage}-{total}")
        note(f"{storage}: {sent:,} events in {time.monotonic() - started:.0f}s")
        label = f"{storage}: p99 at {LONG_RATE} ev/s"
        rows.append((f"{label}, fresh", _p99(fresh), "", "", ""))
        for total, stats in checkpoints.items():
            ratio = f"{stats['p99'] / fresh['p99']:.1f}x fresh" if stats["p99"] else ""
            rows.append((f"{label}, after {total:,} events", _p99(stats), "", "", ratio))
        if s.broker.data_dir is not None:
            size = disk_usage(s.broker.data_dir)
            rows.append(
                (
                    f"{storage}: disk used after {sent:,} events",
                    f"{size / 1e6:,.0f} MB, {size / sent:,.0f} bytes an event",
                    "",
                    "",
                    "",
                )
            )
    return rows


async def long_rows(env: dict[str, str]) -> list[Row]:
    return [*await long_run("memory", env), *await long_run("disk", env)]
