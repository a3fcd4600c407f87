"""The replay figures (docs/subscriptions.md, issue 25 "Measure"):

- events scanned per second by a replay (read from Kafka, decoded, tried
  against the webhook's type and filter; the filter matches none, so no
  write or rate limit slows it), beside a plain aiokafka consumer reading
  the same topic, in turns, in the same run;
- p99 event→2xx of a live webhook at a steady rate while another webhook
  replays EVENTS events, beside the same load without the replay; and of
  the replaying webhook's own live events, beside the same without.

The history is EVENTS events (``BENCH_REPLAY_EVENTS``, default 200 000) on
a topic of its own, produced before the replaying webhooks exist, so they
are routed to nobody live. Replayed deliveries are written at
``HOOKSTREAM_REPLAY_RATE`` (the default, 200/s): the latency rows show
whether that bound keeps live deliveries from starving. At that rate a
replay of 200 000 events takes over 16 minutes, so the latency is measured
over its first STEADY_SECONDS and the replay is then cancelled.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.harness import EventProducer, Stack, note
from bench.measure import delivered_per_second, has_received, steady
from bench.raw import in_turns
from hookstream.testing.eventually import eventually
from streams.kafka import TopicAdmin
from streams.topics import TopicSpec

Add = Callable[..., None]

EVENTS = int(os.environ.get("BENCH_REPLAY_EVENTS", "200000"))
TOPIC = "events.replay"
PARTITIONS = 4
CHUNK = 20_000
# Decoded and tried by every replayed event, matched by none (entity.n >= 0).
NONE_MATCH = {"entity": {"n": {"$lt": 0}}}
LIVE_RATE = 200  # the other webhook's live events a second
OWN_RATE = 50  # the replaying webhook's own live events a second
STEADY_SECONDS = 10


async def _history(s: Stack) -> tuple[str, str]:
    """EVENTS events on TOPIC, routed (to nobody) before any figure reads
    them; returns the times just before the first and just after the last:
    the range every replay here takes (live events sent later, stamped with
    sentAt, must not be replayed: their "latency" would be their age)."""
    admin = TopicAdmin(s.bootstrap)
    await admin.start()
    try:
        await admin.ensure([TopicSpec(TOPIC, PARTITIONS)])
    finally:
        await admin.close()
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    consumed = "hookstream_events_consumed_total"
    base = await s.worker.metric(consumed, topic=TOPIC)
    note(f"producing {EVENTS:,} events of history …")
    async with EventProducer(s.bootstrap, topic=TOPIC, stamp=False) as producer:
        for first in range(0, EVENTS, CHUNK):
            count = min(CHUNK, EVENTS - first)
            await producer.send_and_wait("bench.replayed", count, f"history-{first}")

    async def routed() -> bool:
        return await s.worker.metric(consumed, topic=TOPIC) >= base + EVENTS

    until = datetime.now(UTC).isoformat()
    await eventually(routed, timeout=600, interval=0.5, message="history never routed")
    return since, until


async def raw_consume(s: Stack) -> float:
    """Records/s of a plain aiokafka consumer reading TOPIC from its start."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        read = 0
        started = time.monotonic()
        while read < EVENTS:
            batches = await consumer.getmany(timeout_ms=500)
            read += sum(len(records) for records in batches.values())
        return read / (time.monotonic() - started)
    finally:
        await consumer.stop()


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def _replay(s: Stack, webhook_id: str, history: tuple[str, str]) -> str:
    since, until = history
    status, body = await s.api.call(
        "POST", f"/api/v1/webhooks/{webhook_id}/replay", json={"since": since, "until": until}
    )
    assert status == 202, body
    return str(body["replayId"])


async def _state(s: Stack, webhook_id: str, replay_id: str) -> dict[str, Any]:
    status, body = await s.api.call("GET", f"/api/v1/webhooks/{webhook_id}/replays/{replay_id}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def replay_scan(s: Stack, webhook_id: str, history: tuple[str, str]) -> float:
    """Records of the range scanned per second, from the first state the
    worker saved (when it has found where to read: before the first record,
    or a progress save after it) to the last, both on the worker's clock;
    the wait for the worker to pick the replay up (up to a second) and its
    consumer's start are left out."""
    replay_id = await _replay(s, webhook_id, history)
    first: dict[str, Any] | None = None
    while True:
        state = await _state(s, webhook_id, replay_id)
        if state["status"] != "running":
            break
        if first is None and state["updatedAt"] != state["createdAt"]:
            first = state
        await asyncio.sleep(0.02)
    assert state["status"] == "done" and state["scanned"] >= EVENTS, state
    if first is None:  # done before any progress was saved: from its creation
        first = {"scanned": 0, "updatedAt": state["createdAt"]}
    seconds = _at(state["updatedAt"]) - _at(first["updatedAt"])
    return float(state["scanned"] - first["scanned"]) / seconds


async def scan_figure(s: Stack, add: Add, history: tuple[str, str]) -> None:
    scanner = await s.webhook(
        name="replay-scan", url=f"{s.receiver}/replay-scan", events=["bench.replayed"],
        filter=NONE_MATCH,
    )  # fmt: skip

    async def scanned() -> float:
        note(f"replaying {EVENTS:,} events (none matched) …")
        return await replay_scan(s, scanner["id"], history)

    async def raw() -> float:
        note(f"raw aiokafka consume of {EVENTS:,} events …")
        return await raw_consume(s)

    raw_rate, scan_rate = await in_turns(raw, scanned)
    add(
        f"replay: events scanned/s ({EVENTS:,} events, filter tried on each, none matched)",
        scan_rate,
        "/s",
        "raw aiokafka consume of the same topic, msg/s",
        raw_rate,
    )


async def _p99s(s: Stack) -> tuple[float, float]:
    """p99 (ms) of the other webhook and of the replaying one's own live
    events, under the same steady load of both."""
    await s.forget("/replay-live")
    await s.forget("/replaying")
    note(f"steady {LIVE_RATE} + {OWN_RATE} events/s for {STEADY_SECONDS}s …")
    await asyncio.gather(
        steady(s, "bench.rlive", LIVE_RATE, STEADY_SECONDS),
        steady(s, "bench.rself", OWN_RATE, STEADY_SECONDS),
    )
    await eventually(
        lambda: has_received(s, "/replay-live", LIVE_RATE * STEADY_SECONDS), timeout=120
    )

    async def own_arrived() -> bool:
        stats = await s.receiver_stats("/replaying")
        return bool(stats["latencies"] >= OWN_RATE * STEADY_SECONDS)

    await eventually(own_arrived, timeout=120)
    live = await s.receiver_stats("/replay-live")
    own = await s.receiver_stats("/replaying")
    return float(live["p99"]) * 1000, float(own["p99"]) * 1000


async def starvation_figure(s: Stack, add: Add, history: tuple[str, str]) -> None:
    await s.webhook(
        name="replay-live", url=f"{s.receiver}/replay-live", events=["bench.rlive"],
        includeEntity=True,
    )  # fmt: skip
    # Its own live events carry sentAt; its replayed history does not (and
    # the replay ends before the first live one), so the receiver's
    # latencies on /replaying are the live ones alone.
    replaying = await s.webhook(
        name="replaying", url=f"{s.receiver}/replaying",
        events=["bench.replayed", "bench.rself"], includeEntity=True,
    )  # fmt: skip
    await delivered_per_second(s, "bench.rlive", 50, 1)  # warm up
    await delivered_per_second(s, "bench.rself", 50, 1)
    alone, own_alone = await _p99s(s)

    replay_id = await _replay(s, replaying["id"], history)

    async def writing() -> bool:
        return bool((await _state(s, replaying["id"], replay_id))["queued"] > 0)

    await eventually(writing, timeout=120, message="the replay never started writing")
    written = "hookstream_replayed_deliveries_total"
    before = await s.worker.metric(written, webhook=replaying["id"])
    started = time.monotonic()
    beside, own_beside = await _p99s(s)
    rate = (await s.worker.metric(written, webhook=replaying["id"]) - before) / (
        time.monotonic() - started
    )
    state = await _state(s, replaying["id"], replay_id)
    if state["status"] == "running":  # its queued deliveries are still made
        status, body = await s.api.call(
            "DELETE", f"/api/v1/webhooks/{replaying['id']}/replays/{replay_id}"
        )
        assert status == 200, body
    else:
        note(f"the replay ended ({state['status']}) before the window did")
    add(
        f"p99 event→2xx of a webhook at {LIVE_RATE} ev/s while another replays "
        f"{EVENTS:,} events ({rate:,.0f} replayed deliveries/s written) (ms)",
        beside,
        "ms",
        "the same load, no replay (ms)",
        alone,
    )
    add(
        f"  the replaying webhook's own live events at {OWN_RATE} ev/s, during its replay (ms)",
        own_beside,
        "ms",
        "the same, no replay (ms)",
        own_alone,
    )


async def replay_figures(s: Stack, add: Add) -> None:
    history = await _history(s)
    await scan_figure(s, add, history)
    await starvation_figure(s, add, history)
