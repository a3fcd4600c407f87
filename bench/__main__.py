"""``make bench``: hookstream's figures beside the raw limits of the same
machine, measured in the same run (figures from one run are comparable;
figures from different machines or runs are not).

Everything is local (bench/harness.py; the raw limits are in bench/raw.py):
embedded broker (memory), worker and ingress as their own processes, the
receiver in its own process, the load
generator here. Each raw limit is measured right before the figure printed
beside it (a shared machine's speed drifts within a run: measured once at
the start, the raw HTTP limit moved between 2 000 and 3 850 requests/s from
run to run); the delivery and ingress rows take both in turns, three times,
and print the medians (``in_turns``). Every HTTP figure uses the same receiver and the same
concurrency: one webhook's deliveries run CONCURRENCY at once (its topic's
partitions times the per-partition concurrency the bench sets), N webhooks'
up to N times that (at most the worker's connection pool), and the raw
client runs as many at once as the figure beside it allows. Latency is event produced → 2xx
seen by the receiver (same clock), from ``sentAt`` stamped into each event.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from bench.cloudevents import cloudevents_figure, tracing_figure
from bench.harness import LOAD_LINGER_MS, EventProducer, Stack, note, rss_mib, stack
from bench.measure import delivered_per_second, has_received, steady
from bench.raw import (
    CONCURRENCY,
    KAFKA_MESSAGES,
    PARTITIONS,
    PER_PARTITION,
    ROUNDS,
    allowed_concurrency,
    in_turns,
    raw_batched_produce,
    raw_limit,
    raw_produce_limit,
)
from bench.replay import replay_figures
from bench.storage import long_rows, storage_rows
from bench.subscriptions import subscription_figures
from bench.tenants import tenant_figures
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import read_records
from hookstream.testing.processes import WorkerProcess, wait_all_slots, wait_slots_split
from streams.ports import free_port
from streams.topics import delivery_topic

DELIVERIES = 6000
ROUTER_EVENTS = 5000
INGRESS_REQUESTS = 10_000
INGRESS_WARM_UP = 500
STEADY_SECONDS = 10
WARM_UP = 50
MANY = (100, 1000)
CHURN_WEBHOOKS = 20
CHURN_EVERY = 2.0
CHURN_RATE = 100

Row = tuple[str, str, str, str, str]
rows: list[Row] = []


def add(name: str, value: float, unit: str, raw_name: str = "", raw: float | None = None) -> None:
    figure = f"{value:,.0f} {unit}".strip()
    share = f"{value / raw:.1%}" if raw else ""
    rows.append((name, figure, raw_name, f"{raw:,.0f}" if raw else "", share))


def add_latency(name: str, stats: dict[str, Any]) -> None:
    if stats["p99"] is None:
        rows.append((name, "no samples", "", "", ""))
        return
    rows.append(
        (
            name,
            f"{stats['p99'] * 1000:,.0f} ms (p50 {stats['p50'] * 1000:,.0f} ms, "
            f"max {stats['max'] * 1000:,.0f} ms)",
            "",
            "",
            "",
        )
    )


async def routed_per_second(
    s: Stack, event_type: str, events: int, fanout: int, worker: WorkerProcess | None = None
) -> float:
    """Deliveries written to delivery topics per second: the Kafka side of the
    pipeline (consume events, match, fan out, acknowledged produce)."""
    worker = worker or s.worker
    metric = "hookstream_deliveries_routed_total"
    base = await worker.metric(metric)
    started = time.monotonic()
    async with EventProducer(s.bootstrap) as producer:
        await producer.send_and_wait(event_type, events, f"route-{started}")

    async def done() -> bool:
        return await worker.metric(metric) >= base + events * fanout

    await eventually(done, timeout=300, interval=0.02)
    return events * fanout / (time.monotonic() - started)


async def ingress_accepted(s: Stack, url: str, total: int) -> float:
    queue = iter(range(total))
    body = orjson.dumps({"action": "opened", "number": 1})

    async def client() -> None:
        for _ in queue:
            async with s.session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 202, await r.text()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return total / (time.monotonic() - started)


async def one_webhook_figures(s: Stack) -> float:
    await s.webhook(name="one", url=f"{s.receiver}/one", events=["bench.one"], includeEntity=True)
    await delivered_per_second(s, "bench.one", 10, 1)  # warm up

    async def deliveries() -> float:
        note(f"{DELIVERIES} deliveries to one webhook …")
        return await delivered_per_second(s, "bench.one", DELIVERIES, 1)

    http_rps, one = await in_turns(lambda: raw_limit(s), deliveries)
    add(
        "deliveries/s, 1 webhook",
        one,
        "/s",
        f"raw aiohttp client→server, {CONCURRENCY} at once",
        http_rps,
    )
    return one


async def fanout_webhooks(s: Stack) -> None:
    for i in range(10):
        await s.webhook(name=f"fan{i}", url=f"{s.receiver}/fan{i}", events=["bench.fan"])


async def fanout_figures(s: Stack) -> None:
    await fanout_webhooks(s)
    await delivered_per_second(s, "bench.fan", 2, 10)
    at_once = allowed_concurrency(10, DELIVERIES)

    async def fanned_out() -> float:
        note(f"{DELIVERIES // 10} events x 10 webhooks …")
        return await delivered_per_second(s, "bench.fan", DELIVERIES // 10, 10)

    http_rps, fan = await in_turns(lambda: raw_limit(s, at_once), fanned_out)
    add(
        "deliveries/s, 10-webhook fan-out",
        fan,
        "/s",
        f"raw aiohttp client→server, {at_once} at once",
        http_rps,
    )
    produce_rate = await raw_produce_limit(s)
    note("routing 2000 events to 10 webhooks …")
    before = await s.received()
    routed = await routed_per_second(s, "bench.fan", 2000, 10)
    add(
        "deliveries routed/s, 10-way fan-out (same process delivers them)",
        routed,
        "/s",
        "raw aiokafka produce msg/s",
        produce_rate,
    )
    await s.wait_received(before + 20_000, timeout=600)  # drain before the next figure


async def latency_figures(
    s: Stack, rates: tuple[int, ...] = (500, 1000), late: bool = False
) -> None:
    """p99 event→2xx at steady rates. Measured first, on a fresh broker; with
    ``late``, once more after every other row: the embedded broker's fetch
    cost grows with the records a partition holds (docs/performance.md), so
    the same load is slower there once the other rows have filled the shared
    topics (the events topic, the delivery log, the entities)."""
    for rate in rates:
        tag = f"late{rate}" if late else f"lat{rate}"
        path = f"/{tag}"
        webhook = await s.webhook(
            name=path, url=f"{s.receiver}{path}", events=[f"bench.{tag}"], includeEntity=True
        )
        # Steady state: the topic and the webhook's partitions are warm, the
        # warm-up's deliveries are not counted.
        await delivered_per_second(s, f"bench.{tag}", WARM_UP, 1)
        await s.forget(path)
        note(f"steady {rate} events/s for {STEADY_SECONDS}s …")
        await steady(s, f"bench.{tag}", rate, STEADY_SECONDS)
        await eventually(
            lambda path=path, rate=rate: has_received(s, path, rate * STEADY_SECONDS), timeout=120
        )
        after = ", after the other rows" if late else ""
        add_latency(f"p99 event→2xx at {rate} ev/s{after}", await s.receiver_stats(path))
        await hop_figures(s, webhook["id"], path, rate)


async def hop_figures(s: Stack, webhook_id: str, path: str, rate: int) -> None:
    """Where the latency goes: event sent → its delivery record written
    (routing; the record's CreateTime) and delivery record → 2xx (delivery)."""
    records = await read_records(
        s.bootstrap, delivery_topic(webhook_id), count=WARM_UP + rate * STEADY_SECONDS, timeout=120
    )
    async with s.session.get(f"{s.receiver}/arrivals", params={"prefix": path}) as response:
        arrived: dict[str, float] = await response.json()
    routing, delivering = [], []
    for record in records:
        delivery = orjson.loads(record.value)
        if delivery["deliveryId"] not in arrived:
            continue  # a warm-up delivery
        written = record.timestamp / 1000
        routing.append(written - delivery["event"]["entity"]["sentAt"])
        delivering.append(arrived[delivery["deliveryId"]] - written)
    rows.append(
        (
            f"  where it goes at {rate} ev/s: routing / delivery hop",
            f"p50 {_ms(routing, 0.5)} / {_ms(delivering, 0.5)}, "
            f"p99 {_ms(routing, 0.99)} / {_ms(delivering, 0.99)}",
            "",
            "",
            "",
        )
    )


def _ms(values: list[float], share: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000:,.0f} ms"


async def churn_figures(s: Stack) -> None:
    """One webhook at a steady CHURN_RATE while CHURN_WEBHOOKS others are
    created, one every CHURN_EVERY s; each new one gets an event at once."""
    await s.webhook(
        name="steady", url=f"{s.receiver}/churn-steady", events=["bench.churn"], includeEntity=True
    )
    first_events: list[float] = []

    async def create_others() -> None:
        async with EventProducer(s.bootstrap) as producer:
            for i in range(CHURN_WEBHOOKS):
                await asyncio.sleep(CHURN_EVERY)
                path = f"/churn-new{i}"
                webhook = await s.api.create_webhook(
                    name=path,
                    url=f"{s.receiver}{path}",
                    events=[f"bench.new{i}"],
                    includeEntity=True,
                )
                assert webhook["id"]
                await producer.send_and_wait(f"bench.new{i}", 1, f"new{i}")
        for i in range(CHURN_WEBHOOKS):
            path = f"/churn-new{i}"
            await eventually(lambda path=path: has_received(s, path, 1), timeout=120)
            first_events.append((await s.receiver_stats(path))["max"])

    seconds = CHURN_WEBHOOKS * CHURN_EVERY + 2
    note(f"{CHURN_RATE} events/s to one webhook while {CHURN_WEBHOOKS} webhooks are created …")
    await steady(s, "bench.churn", CHURN_RATE, seconds, during=create_others)
    await eventually(
        lambda: has_received(s, "/churn-steady", int(CHURN_RATE * seconds * 0.95)), timeout=120
    )
    add_latency(
        f"p99 of a webhook while {CHURN_WEBHOOKS} are created",
        await s.receiver_stats("/churn-steady"),
    )
    first_events.sort()
    rows.append(
        (
            "new webhook: created → first event 2xx",
            f"{first_events[len(first_events) // 2] * 1000:,.0f} ms median, "
            f"{first_events[-1] * 1000:,.0f} ms max",
            "",
            "",
            "",
        )
    )


async def new_topic_figure(s: Stack) -> None:
    topic = f"events.fresh{int(time.time())}"
    await s.webhook(
        name="fresh", url=f"{s.receiver}/fresh", events=["bench.fresh"], includeEntity=True
    )
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all")
    await producer.start()
    event = {
        "eventId": "fresh-1",
        "eventType": "bench.fresh",
        "entityId": "1",
        "entity": {"sentAt": time.time()},
    }
    await producer.send_and_wait(topic, key=b"1", value=orjson.dumps(event))
    await producer.stop()
    await eventually(lambda: has_received(s, "/fresh", 1), timeout=120)
    stats = await s.receiver_stats("/fresh")
    rows.append(
        ("first event on a new events.* topic → 2xx", f"{stats['max'] * 1000:,.0f} ms", "", "", "")
    )


async def many_webhooks_figures(s: Stack) -> None:
    for count in MANY:
        note(f"creating {count} webhooks …")
        started = time.monotonic()
        created = [
            await s.api.create_webhook(
                name=f"many{count}-{i}",
                url=f"{s.receiver}/many{count}/{i}",
                events=[f"bench.many{count}"],
                includeEntity=True,
            )
            for i in range(count)
        ]
        await s.worker.wait_knows(created[-1], timeout=300)
        elapsed = time.monotonic() - started
        add(f"webhooks created/s (API → worker knows), {count}", count / elapsed, "/s")
        note(f"one event to {count} webhooks …")
        base = await s.received()
        started = time.monotonic()
        async with EventProducer(s.bootstrap) as producer:
            await producer.send_and_wait(f"bench.many{count}", 1, f"many{count}-one")
        await s.wait_received(base + count, timeout=600)
        rows.append(
            (
                f"one event → last of {count} webhooks 2xx",
                f"{(time.monotonic() - started) * 1000:,.0f} ms",
                "",
                "",
                "",
            )
        )
        events = max(1, DELIVERIES // count)
        at_once = allowed_concurrency(count, events * count)
        http_rps = await raw_limit(s, at_once)
        note(f"{events} events x {count} webhooks …")
        rate = await delivered_per_second(s, f"bench.many{count}", events, count)
        add(
            f"deliveries/s, {count} webhooks",
            rate,
            "/s",
            f"raw aiohttp client→server, {at_once} at once",
            http_rps,
        )
        add(f"worker RSS with {len(created)}+ webhooks", rss_mib(s.worker_pid), "MiB")


async def two_workers_figure(s: Stack, one_worker: float) -> None:
    """Right after the one-webhook row, with the same webhooks: measured later,
    each worker would also be holding the thousand webhooks' partitions."""
    note("starting a second worker …")
    second = WorkerProcess(s.env, free_port(), s.workdir / "worker2.log")
    await second.start(timeout=180)
    try:
        # Measure after the membership rebalance, not through it.
        await wait_slots_split([s.worker, second])
        await delivered_per_second(s, "bench.one", 200, 1)
        rate = await delivered_per_second(s, "bench.one", DELIVERIES, 1)
        add("deliveries/s, 1 webhook, 2 workers", rate, "/s", "same, 1 worker (above)", one_worker)
    finally:
        await second.stop()
    await wait_all_slots(s.worker)  # the next figures run on one worker again


async def router_only_figure(s: Stack) -> None:
    """Routing by a route-only worker (HOOKSTREAM_WORKER_ROLES=route), the
    shape to run when routing is the bottleneck. The stack's worker is then
    stopped (this is the last figure), so the router holds every routing slot
    and nothing else runs in its process."""
    if not any(row[0].startswith("deliveries/s, 10-webhook") for row in rows):
        await fanout_webhooks(s)
    router = WorkerProcess(
        s.env | {"HOOKSTREAM_WORKER_ROLES": "route"}, free_port(), s.workdir / "router.log"
    )
    # Started before the stack's worker stops: joining the worker group right
    # after a member left waited minutes on the embedded broker.
    await router.start(timeout=180)
    await s.worker.stop()
    try:
        await wait_slots_split([router])
        await routed_per_second(s, "bench.fan", 200, 10, router)  # warm up
        produce_rate = await raw_produce_limit(s)
        note(f"routing {ROUTER_EVENTS} events to 10 webhooks, route-only worker …")
        routed = await routed_per_second(s, "bench.fan", ROUTER_EVENTS, 10, router)
        add(
            "deliveries routed/s, 10-way fan-out, route-only worker",
            routed,
            "/s",
            "raw aiokafka produce msg/s",
            produce_rate,
        )
        note(f"raw aiokafka send_batch {KAFKA_MESSAGES * 4} messages …")
        batched_rate = await raw_batched_produce(s.bootstrap, KAFKA_MESSAGES * 4)
        add(
            "  the same, beside batched produce",
            routed,
            "/s",
            "raw aiokafka send_batch msg/s",
            batched_rate,
        )
    finally:
        await router.stop()


def print_table() -> None:
    print(
        f"\nhookstream bench — {os.cpu_count()} cores, embedded broker (memory; rows "
        f"marked disk: the store make run uses), "
        f"HTTP concurrency {CONCURRENCY} ({PARTITIONS} partitions x {PER_PARTITION} per webhook), "
        f"load generator linger {LOAD_LINGER_MS} ms; throughput rows are medians of "
        f"{ROUNDS} rounds taken in turns with their raw limit"
    )
    print("| hookstream | figure | raw limit, same run | raw | share |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


FIGURES = (
    "one",
    "workers",
    "fanout",
    "ingress",
    "latency",
    "churn",
    "topic",
    "many",
    "router",
    "disk",
    "cloudevents",
    "tracing",
    "tenants",
    "subscriptions",
    "replay",
)


async def ingress_figure(s: Stack) -> None:
    status, listener = await s.api.call("POST", "/api/v1/listeners", json={"name": "bench"})
    assert status == 201, listener
    url = f"{s.ingress_url}/hooks/{listener['id']}"
    # Warm: the listener is known, the connections are open, the producer has
    # its metadata (as the other figures, after their warm-up).
    await ingress_accepted(s, url, INGRESS_WARM_UP)

    async def accepted() -> float:
        note(f"{INGRESS_REQUESTS} inbound webhooks …")
        return await ingress_accepted(s, url, INGRESS_REQUESTS)

    http_rps, inbound = await in_turns(lambda: raw_limit(s), accepted)
    add("ingress 202s/s (acks=all)", inbound, "/s", "raw aiohttp client→server", http_rps)


ENV = {
    "HOOKSTREAM_DELIVERY_PARTITIONS": str(PARTITIONS),
    "HOOKSTREAM_DELIVERY_CONCURRENCY": str(PER_PARTITION),
    "HOOKSTREAM_TENANT_MAX_IN_FLIGHT": "100",  # the default (the tests' processes use 8)
}


async def main(only: set[str]) -> None:
    env = ENV
    async with stack(**env) as s:
        start = time.monotonic()
        if "latency" in only:
            await latency_figures(s)
        one = 0.0
        if "one" in only or "workers" in only:
            one = await one_webhook_figures(s)
        if "workers" in only:
            await two_workers_figure(s, one)
        if "fanout" in only:
            await fanout_figures(s)
        if "ingress" in only:
            await ingress_figure(s)
        if "churn" in only:
            await churn_figures(s)
        if "topic" in only:
            await new_topic_figure(s)
        if "many" in only:
            await many_webhooks_figures(s)
        if "latency" in only and len(only) > 1:
            await latency_figures(s, (1000,), late=True)
        # bench/cloudevents.py: CloudEvents beside plain events, spans exported beside not.
        if "cloudevents" in only:
            await cloudevents_figure(s, add)
        if "tracing" in only:
            await tracing_figure(s, add, env)
        # bench/tenants.py: a tenant beside another's hanging endpoints; webhooks created/s.
        if "tenants" in only:
            await tenant_figures(s, add)
        # bench/subscriptions.py: filtered routing beside unfiltered; a rate limit's neighbour.
        if "subscriptions" in only:
            await subscription_figures(s, add)
        # bench/replay.py: replay scanning beside raw consume; live p99 during a replay.
        if "replay" in only:
            await replay_figures(s, add)
        add("worker RSS at the end", rss_mib(s.worker_pid), "MiB")
        if "router" in only:
            await router_only_figure(s)  # stops the stack's worker
        note(f"measured in {time.monotonic() - start:.0f}s")
    if "disk" in only:
        # Two fresh stacks of their own, one on each storage (bench/storage.py).
        rows.extend(await storage_rows(env))
    print_table()


async def long_main() -> None:
    rows.extend(await long_rows(ENV))
    print_table()


def chosen(args: list[str]) -> set[str]:
    """Every figure, or those named by ``--only a,b`` (to profile one), less
    the 100/1 000-webhook rows with ``--quick``."""
    only = set(FIGURES)
    if "--only" in args:
        only = set(args[args.index("--only") + 1].split(","))
        if unknown := only - set(FIGURES):
            raise SystemExit(f"unknown figures {sorted(unknown)}; choose from {FIGURES}")
    if "--quick" in args:
        only.discard("many")
    return only


if __name__ == "__main__":
    if "--long" in sys.argv:
        asyncio.run(long_main())
    else:
        asyncio.run(main(chosen(sys.argv[1:])))
