"""``make soak``: a steady load for SOAK_SECONDS (default 600) on the bench
stack, with one of ten webhooks failing half its requests.

Every second it produces SOAK_RATE events (default 100) that all ten webhooks
subscribe to, and posts SOAK_INBOUND_RATE inbound webhooks (default 20) to a
listener. Retries use a short schedule (1s,2s,4s) so a failing delivery either
succeeds or is dead-lettered within the run. Each minute it prints the worker
and ingress RSS and the delivery rate; at the end, once everything has
drained, it prints what was lost:

* outbound: for each webhook, events produced minus delivery ids that got a
  2xx minus dead letters — must be 0;
* inbound: 202 answers minus flow-trigger records written — must be 0.

Not a test (it takes ten minutes and its figures depend on the machine).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench.harness import EventProducer, Stack, rss_mib, stack
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import keyed, read_records
from streams.topics import FLOW_TRIGGERS

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RATE = int(os.environ.get("SOAK_RATE", "100"))
INBOUND_RATE = int(os.environ.get("SOAK_INBOUND_RATE", "20"))
ENDPOINTS = 10
REPORT_EVERY = int(os.environ.get("SOAK_REPORT_SECONDS", "60"))
DRAIN_TIMEOUT = 180.0
RETRY_SCHEDULE = "1s,2s,4s"


async def inbound_load(s: Stack, url: str, stop: asyncio.Event, answered: dict[int, int]) -> None:
    body = b'{"action": "opened", "number": 1}'
    headers = {"Content-Type": "application/json"}
    tick = time.monotonic()
    while not stop.is_set():
        for _ in range(INBOUND_RATE):
            async with s.session.post(url, data=body, headers=headers) as response:
                answered[response.status] = answered.get(response.status, 0) + 1
        tick += 1.0
        await asyncio.sleep(max(0.0, tick - time.monotonic()))


async def dead_letters(s: Stack) -> float:
    return await s.worker.metric("hookstream_dead_letters_total")


async def main() -> None:
    async with stack(HOOKSTREAM_RETRY_SCHEDULE=RETRY_SCHEDULE) as s:
        webhooks = []
        for i in range(ENDPOINTS):
            path = "/flaky" if i == 0 else f"/steady{i}"
            webhooks.append(
                await s.webhook(
                    name=f"soak{i}",
                    url=f"{s.receiver}{path}",
                    events=["soak.tick"],
                    includeEntity=True,
                )
            )
        status, listener = await s.api.call("POST", "/api/v1/listeners", json={"name": "soak"})
        assert status == 201, listener
        inbound_url = f"{s.ingress_url}/hooks/{listener['id']}"
        assert s.ingress.pid is not None
        start_rss = (rss_mib(s.worker_pid), rss_mib(s.ingress.pid))
        print(
            f"soak: {SECONDS}s at {RATE} events/s x {ENDPOINTS} webhooks (one failing half its "
            f"requests) and {INBOUND_RATE} inbound/s; worker RSS {start_rss[0]:.0f} MiB, "
            f"ingress RSS {start_rss[1]:.0f} MiB",
            flush=True,
        )
        stop = asyncio.Event()
        answered: dict[int, int] = {}
        inbound = asyncio.create_task(inbound_load(s, inbound_url, stop, answered))
        produced = 0
        started = last_report = time.monotonic()
        last_ok = 0
        async with EventProducer(s.bootstrap) as events:
            while time.monotonic() - started < SECONDS:
                tick = time.monotonic()
                await events.send_and_wait("soak.tick", RATE, f"soak-{produced}")
                produced += RATE
                if time.monotonic() - last_report >= REPORT_EVERY:
                    ok = (await s.receiver_stats("/"))["ok"]
                    rate = (ok - last_ok) / (time.monotonic() - last_report)
                    last_ok, last_report = ok, time.monotonic()
                    print(
                        f"soak: t={time.monotonic() - started:4.0f}s produced={produced} "
                        f"deliveries/s={rate:,.0f} worker RSS={rss_mib(s.worker_pid):.0f} MiB "
                        f"ingress RSS={rss_mib(s.ingress.pid):.0f} MiB "
                        f"dead letters={await dead_letters(s):.0f}",
                        flush=True,
                    )
                await asyncio.sleep(max(0.0, tick + 1.0 - time.monotonic()))
        stop.set()
        await inbound

        async def drained() -> dict[str, Any] | None:
            dead = await dead_letters(s)
            lost = {}
            for i, webhook in enumerate(webhooks):
                path = "/flaky" if i == 0 else f"/steady{i}"
                delivered = (await s.receiver_stats(path))["unique"]
                lost[webhook["name"]] = produced - delivered - (dead if i == 0 else 0)
            return lost if all(v <= 0 for v in lost.values()) else None

        try:
            lost = await eventually(drained, timeout=DRAIN_TIMEOUT, interval=2.0)
        except AssertionError:
            lost = {"not drained in time": -1}
        accepted = answered.get(202, 0)
        triggers = await read_records(
            s.bootstrap,
            FLOW_TRIGGERS,
            where=keyed(listener["id"]),
            count=accepted,
            timeout=120,
        )
        end_rss = (rss_mib(s.worker_pid), rss_mib(s.ingress.pid))
        flaky = await s.receiver_stats("/flaky")
        steady = await s.receiver_stats("/steady")
        print("\n| soak figure | value |\n|---|---|")
        print(f"| duration | {SECONDS} s |")
        print(f"| events produced (each to {ENDPOINTS} webhooks) | {produced:,} |")
        print(f"| outbound events lost | {sum(max(v, 0) for v in lost.values()):.0f} |")
        print(f"| dead letters (failing webhook) | {await dead_letters(s):.0f} |")
        print(f"| failing webhook: requests / 2xx | {flaky['requests']:,} / {flaky['ok']:,} |")
        print(
            f"| healthy webhooks: p50 / p99 event→2xx | {steady['p50'] * 1000:.0f} / "
            f"{steady['p99'] * 1000:.0f} ms |"
        )
        print(
            f"| inbound 202s / flow triggers written | {accepted:,} / {len(triggers):,} "
            f"(other answers: { {k: v for k, v in answered.items() if k != 202} }) |"
        )
        print(f"| worker RSS start → end | {start_rss[0]:.0f} → {end_rss[0]:.0f} MiB |")
        print(f"| ingress RSS start → end | {start_rss[1]:.0f} → {end_rss[1]:.0f} MiB |")


if __name__ == "__main__":
    asyncio.run(main())
