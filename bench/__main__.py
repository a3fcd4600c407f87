"""``make bench``: hookstream's throughput beside the raw limits of the same
machine, measured in the same run (numbers from one run are comparable;
numbers from different machines or runs are not).

Everything is local: embedded broker (memory), worker and ingress as their
own processes, a receiver process, the load generator here.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from hookstream.api.app import create_api_from_settings
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import TOKENS, ApiClient, ApiServer
from hookstream.testing.processes import SECRET_KEY, WorkerProcess, base_env
from streams.broker import EmbeddedBroker, free_port
from streams.kafka import ensure_core_topics

HTTP_REQUESTS = 4000
HTTP_CONCURRENCY = 64
KAFKA_MESSAGES = 50_000
DELIVERIES = 4000
FANOUT_WEBHOOKS = 10
FANOUT_EVENTS = 400
INGRESS_REQUESTS = 2000


async def wait_http(session: aiohttp.ClientSession, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


async def received(session: aiohttp.ClientSession, receiver: str) -> int:
    async with session.get(f"{receiver}/count") as response:
        return int((await response.json())["count"])


async def wait_count(
    session: aiohttp.ClientSession, receiver: str, target: int, timeout: float = 300
) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await received(session, receiver) >= target:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"receiver got {await received(session, receiver)} of {target}")


async def raw_http(session: aiohttp.ClientSession, url: str, total: int) -> float:
    """Requests/s of a plain aiohttp client to the receiver at the same concurrency."""
    queue = iter(range(total))
    body = orjson.dumps({"eventId": "x", "eventType": "bench", "entity": {"n": 1}})

    async def worker() -> None:
        for _ in queue:
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as r:
                await r.read()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(HTTP_CONCURRENCY)))
    return total / (time.monotonic() - started)


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


async def produce_events(bootstrap: str, event_type: str, total: int, prefix: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    acks = []
    for i in range(total):
        event = {
            "eventId": f"{prefix}-{i}",
            "eventType": event_type,
            "entityId": str(i % 97),
            "entity": {"n": i},
        }
        acks.append(
            await producer.send("events.bench", key=str(i % 97).encode(), value=orjson.dumps(event))
        )
    await asyncio.gather(*acks)
    await producer.stop()


async def delivered_per_second(
    session: aiohttp.ClientSession,
    bootstrap: str,
    receiver: str,
    event_type: str,
    events: int,
    fanout: int,
) -> float:
    base = await received(session, receiver)
    started = time.monotonic()
    await produce_events(bootstrap, event_type, events, event_type)
    finished = await wait_count(session, receiver, base + events * fanout)
    return events * fanout / (finished - started)


async def routed_per_second(
    bootstrap: str, worker: WorkerProcess, events: int, fanout: int
) -> float:
    """Deliveries written to delivery topics per second: the Kafka side of the
    pipeline (consume events, match, fan out, acknowledged produce)."""

    def routed(metrics: str) -> float:
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("hookstream_deliveries_routed_total{")
        )

    base = routed(await worker.metrics())
    started = time.monotonic()
    await produce_events(bootstrap, "bench.fan", events, "route")
    while routed(await worker.metrics()) < base + events * fanout:
        await asyncio.sleep(0.05)
    return events * fanout / (time.monotonic() - started)


async def ingress_accepted(session: aiohttp.ClientSession, url: str, total: int) -> float:
    queue = iter(range(total))
    body = orjson.dumps({"action": "opened", "number": 1})

    async def worker() -> None:
        for _ in queue:
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 202, await r.text()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(HTTP_CONCURRENCY)))
    return total / (time.monotonic() - started)


def row(name: str, value: float, unit: str, raw_name: str, raw: float) -> str:
    share = f"{value / raw:6.1%}" if raw else "   n/a"
    return f"| {name:<38} | {value:>9,.0f} {unit:<5} | {raw_name:<34} | {raw:>9,.0f} | {share} |"


async def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hookstream-bench-"))
    broker = EmbeddedBroker("127.0.0.1", free_port(), log_file=workdir / "broker.log")
    await broker.start()
    await ensure_core_topics(broker.bootstrap)
    receiver_port = free_port()
    receiver = f"http://127.0.0.1:{receiver_port}"
    receiver_proc = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(receiver_port)])
    env = base_env(broker.bootstrap, TOKENS)
    worker = WorkerProcess(env, free_port(), workdir / "worker.log")
    ingress_port = free_port()
    ingress_proc = subprocess.Popen(
        [sys.executable, "-m", "hookstream", "ingress"],
        env=env | {"HOOKSTREAM_INGRESS_PORT": str(ingress_port)},
        stdout=(workdir / "ingress.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    settings = Settings(
        kafka_bootstrap_servers=broker.bootstrap,
        api_tokens=TOKENS,
        allow_private_targets=True,
        secret_key=SECRET_KEY,
    )
    api = ApiServer(create_api_from_settings(settings, Metrics()))
    results: list[str] = []
    try:
        await worker.start()
        await api.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_http(session, f"{receiver}/count")
            await wait_http(session, f"http://127.0.0.1:{ingress_port}/readyz")
            client = ApiClient(api.url, session)

            print(f"bench: raw aiohttp {HTTP_REQUESTS} requests …", flush=True)
            http_rps = await raw_http(session, f"{receiver}/raw", HTTP_REQUESTS)
            print(f"bench: raw aiokafka produce {KAFKA_MESSAGES} messages …", flush=True)
            produce_rate = await raw_produce(broker.bootstrap, KAFKA_MESSAGES)

            single = await client.create_webhook(
                name="bench", url=f"{receiver}/one", events=["bench.one"]
            )
            await worker.wait_knows(single)
            fanout = [
                await client.create_webhook(
                    name=f"fan{i}", url=f"{receiver}/fan{i}", events=["bench.fan"]
                )
                for i in range(FANOUT_WEBHOOKS)
            ]
            for webhook in fanout:
                await worker.wait_knows(webhook)
            print("bench: warming up (delivery topics subscribed) …", flush=True)
            await delivered_per_second(session, broker.bootstrap, receiver, "bench.one", 1, 1)
            await delivered_per_second(
                session, broker.bootstrap, receiver, "bench.fan", 1, FANOUT_WEBHOOKS
            )

            print(f"bench: {DELIVERIES} deliveries to one webhook …", flush=True)
            one = await delivered_per_second(
                session, broker.bootstrap, receiver, "bench.one", DELIVERIES, 1
            )
            print(f"bench: {FANOUT_EVENTS} events × {FANOUT_WEBHOOKS} webhooks …", flush=True)
            fan = await delivered_per_second(
                session, broker.bootstrap, receiver, "bench.fan", FANOUT_EVENTS, FANOUT_WEBHOOKS
            )

            print(
                f"bench: routing {FANOUT_EVENTS * 5} events to {FANOUT_WEBHOOKS} webhooks …",
                flush=True,
            )
            before = await received(session, receiver)
            routed = await routed_per_second(
                broker.bootstrap, worker, FANOUT_EVENTS * 5, FANOUT_WEBHOOKS
            )
            # Let those deliveries drain so they do not compete with the next figure.
            await wait_count(session, receiver, before + FANOUT_EVENTS * 5 * FANOUT_WEBHOOKS)

            status, listener = await client.call(
                "POST", "/api/v1/listeners", json={"name": "bench"}
            )
            assert status == 201, listener
            hook = f"http://127.0.0.1:{ingress_port}/hooks/{listener['id']}"
            print(f"bench: {INGRESS_REQUESTS} inbound webhooks …", flush=True)
            inbound = await ingress_accepted(session, hook, INGRESS_REQUESTS)

        results = [
            row(
                "deliveries/s, 1 webhook (event→2xx)",
                one,
                "/s",
                "raw aiohttp client→server req/s",
                http_rps,
            ),
            row(
                f"deliveries/s, {FANOUT_WEBHOOKS}-webhook fan-out",
                fan,
                "/s",
                "raw aiohttp client→server req/s",
                http_rps,
            ),
            row(
                "ingress 202s/s (acks=all)",
                inbound,
                "/s",
                "raw aiohttp client→server req/s",
                http_rps,
            ),
            row(
                f"deliveries routed/s, {FANOUT_WEBHOOKS}-way fan-out",
                routed,
                "/s",
                "raw aiokafka produce msg/s",
                produce_rate,
            ),
        ]
    finally:
        await api.stop()
        await worker.stop()
        for proc in (ingress_proc, receiver_proc):
            proc.terminate()
            proc.wait(timeout=15)
        await broker.stop()

    cores = os.cpu_count()
    print(
        f"\nhookstream bench — {cores} cores, embedded broker (memory), HTTP concurrency {HTTP_CONCURRENCY}"
    )
    print(
        f"| {'hookstream':<38} | {'figure':>15} | {'raw limit, same run':<34} | {'raw':>9} | share  |"
    )
    print(f"|{'-' * 40}|{'-' * 17}|{'-' * 36}|{'-' * 11}|--------|")
    for line in results:
        print(line)


if __name__ == "__main__":
    asyncio.run(main())
