"""The raw limits each hookstream figure is printed beside: a plain aiohttp
client against the same receiver at the same concurrency, and a plain
aiokafka producer against the same broker (message by message, and with the
batch API). Measured right before the figure, or in turns with it."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import orjson
from aiokafka import AIOKafkaProducer

from bench.harness import Stack, note
from hookstream.delivery.sender import CONNECTION_LIMIT

PARTITIONS = 4
PER_PARTITION = 16
CONCURRENCY = PARTITIONS * PER_PARTITION
HTTP_REQUESTS = 6000
KAFKA_MESSAGES = 50_000
ROUNDS = 3


async def raw_http(s: Stack, path: str, total: int, concurrency: int = CONCURRENCY) -> float:
    """Requests/s of a plain aiohttp client to the receiver, ``concurrency`` at once."""
    queue = iter(range(total))
    body = orjson.dumps({"eventId": "x", "eventType": "bench", "entity": {"n": 1}})

    async def client() -> None:
        for _ in queue:
            async with s.session.post(
                f"{s.receiver}{path}", data=body, headers={"Content-Type": "application/json"}
            ) as r:
                await r.read()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return total / (time.monotonic() - started)


async def raw_limit(s: Stack, concurrency: int = CONCURRENCY) -> float:
    """The raw HTTP limit, measured right before the figure set beside it, so
    both see the same machine (a shared machine's speed drifts within a run),
    and at the concurrency that figure allows (see ``allowed_concurrency``)."""
    note(f"raw aiohttp {HTTP_REQUESTS} requests, {concurrency} at once …")
    return await raw_http(s, "/raw", HTTP_REQUESTS, concurrency)


async def in_turns(
    raw: Callable[[], Awaitable[float]], figure: Callable[[], Awaitable[float]]
) -> tuple[float, float]:
    """The raw limit and the figure beside it, measured in turns ROUNDS times
    each; their medians. A shared machine's speed moves within seconds: one
    raw-then-figure pair gave the ingress shares from 36 % to 78 % in one
    afternoon. In turns, both medians come from the same stretch of time."""
    raws, figures = [], []
    for _ in range(ROUNDS):
        raws.append(await raw())
        figures.append(await figure())
    return statistics.median(raws), statistics.median(figures)


def allowed_concurrency(webhooks: int, deliveries: int) -> int:
    """How many requests hookstream may have in flight for a figure: each
    webhook CONCURRENCY, the worker's connection pool CONNECTION_LIMIT over
    all, and never more than there are deliveries. The raw client runs the
    same number at once (many connections cost each request more: the raw
    limit at 640 at once is about 60 % of that at 64 on this machine)."""
    return min(webhooks * CONCURRENCY, CONNECTION_LIMIT, deliveries)


async def raw_produce_limit(s: Stack) -> float:
    note(f"raw aiokafka produce {KAFKA_MESSAGES} messages …")
    return await raw_produce(s.bootstrap, KAFKA_MESSAGES)


async def raw_produce(bootstrap: str, total: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    value = orjson.dumps({"eventId": "x", "eventType": "raw", "entityId": "1"})
    started = time.monotonic()
    acks = [
        await producer.send("bench.raw", key=str(i % 64).encode(), value=value)
        for i in range(total)
    ]
    await asyncio.gather(*acks)
    elapsed = time.monotonic() - started
    await producer.stop()
    return total / elapsed


async def raw_batched_produce(bootstrap: str, total: int) -> float:
    """Messages/s with aiokafka's batch API (``create_batch``/``send_batch``,
    one batch per partition at a time), which hookstream's router and log
    writers use: the per-message ``send`` above is no longer their limit."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    await producer.send_and_wait("bench.raw", b"warm-up")  # the topic's metadata
    value = orjson.dumps({"eventId": "x", "eventType": "raw", "entityId": "1"})
    partitions = sorted(producer.client.cluster.partitions_for_topic("bench.raw"))
    builders = {p: producer.create_batch() for p in partitions}
    acks = []
    started = time.monotonic()
    for i in range(total):
        partition = partitions[i % len(partitions)]
        key = str(i % 64).encode()
        if builders[partition].append(key=key, value=value, timestamp=None) is None:
            acks.append(
                await producer.send_batch(builders[partition], "bench.raw", partition=partition)
            )
            builders[partition] = producer.create_batch()
            builders[partition].append(key=key, value=value, timestamp=None)
    for partition, builder in builders.items():
        acks.append(await producer.send_batch(builder, "bench.raw", partition=partition))
    await asyncio.gather(*acks)
    elapsed = time.monotonic() - started
    await producer.stop()
    return total / elapsed
