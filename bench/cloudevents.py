"""The CloudEvents and trace-context figures (docs/cloudevents.md):

- deliveries/s of one webhook fed binary-mode CloudEvents and sending
  CloudEvents (payloadFormat cloudevents), beside the same for plain domain
  events and the etl body, in turns on the same stack;
- deliveries/s of one webhook with every event traced (a traceparent on each
  record) while the worker exports its spans over OTLP/HTTP, beside tracing
  off. Exporting needs a worker started with OTEL_EXPORTER_OTLP_ENDPOINT: a
  second stack, idle while the first is measured and the other way round,
  with a collector (hookstream/testing/otlp.py, counting only) in this
  process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaProducer

from bench.harness import EVENTS_TOPIC, LOAD_LINGER_MS, Stack, note, stack
from bench.raw import in_turns
from hookstream.testing.otlp import OtlpReceiver
from schemas.trace_context import new_trace

EVENTS = 6000
WARM_UP = 50
ENTITIES = 997

Add = Callable[..., None]


def _plain(event_type: str, n: int) -> tuple[list[tuple[str, bytes]], bytes]:
    event = {
        "eventId": f"{event_type}-{time.time()}-{n}",
        "eventType": event_type,
        "entityId": str(n % ENTITIES),
        "entity": {"n": n, "sentAt": time.time()},
    }
    return [], orjson.dumps(event)


def _binary(event_type: str, n: int) -> tuple[list[tuple[str, bytes]], bytes]:
    """What the cloudevents SDK's to_binary writes: ce_* headers, the data as value."""
    headers = [
        ("content-type", b"application/json"),
        ("ce_specversion", b"1.0"),
        ("ce_id", f"{event_type}-{time.time()}-{n}".encode()),
        ("ce_type", event_type.encode()),
        ("ce_source", b"https://bench.example/orders"),
        ("ce_subject", str(n % ENTITIES).encode()),
        ("ce_time", b"2026-11-23T10:00:00+00:00"),
    ]
    return headers, orjson.dumps({"n": n, "sentAt": time.time()})


async def _delivered_per_second(
    s: Stack,
    event_type: str,
    make: Callable[[str, int], tuple[list[tuple[str, bytes]], bytes]],
    count: int,
    *,
    traced: bool = False,
) -> float:
    base = await s.received()
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all", linger_ms=LOAD_LINGER_MS)
    await producer.start()
    started = time.monotonic()
    try:
        acks = []
        for n in range(count):
            headers, value = make(event_type, n)
            if traced:
                headers = headers + new_trace(sampled=True).kafka_headers()
            key = str(n % ENTITIES).encode()
            acks.append(
                await producer.send(EVENTS_TOPIC, key=key, value=value, headers=headers or None)
            )
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    finished = await s.wait_received(base + count, timeout=600)
    return count / (finished - started)


async def cloudevents_figure(s: Stack, add: Add) -> None:
    await s.webhook(name="plain", url=f"{s.receiver}/ce-plain", events=["bench.ceplain"])
    await s.webhook(
        name="cloudevents",
        url=f"{s.receiver}/ce-ce",
        events=["bench.cloudevents"],
        payloadFormat="cloudevents",
    )
    await _delivered_per_second(s, "bench.ceplain", _plain, WARM_UP)
    await _delivered_per_second(s, "bench.cloudevents", _binary, WARM_UP)

    async def plain() -> float:
        note(f"{EVENTS} plain domain events, etl body …")
        return await _delivered_per_second(s, "bench.ceplain", _plain, EVENTS)

    async def cloudevents() -> float:
        note(f"{EVENTS} binary-mode CloudEvents, CloudEvents body …")
        return await _delivered_per_second(s, "bench.cloudevents", _binary, EVENTS)

    plain_rate, ce_rate = await in_turns(plain, cloudevents)
    add(
        "deliveries/s, 1 webhook, CloudEvents in and out",
        ce_rate,
        "/s",
        "the same, plain domain events and etl body",
        plain_rate,
    )


async def tracing_figure(s: Stack, add: Add, env: dict[str, str]) -> None:
    collector = OtlpReceiver(decode=False)
    await collector.start()
    try:
        async with stack(**env, OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint) as traced:
            await s.webhook(name="untraced", url=f"{s.receiver}/trace-off", events=["bench.t"])
            await traced.webhook(
                name="traced", url=f"{traced.receiver}/trace-on", events=["bench.t"]
            )
            for each in (s, traced):
                await _delivered_per_second(each, "bench.t", _plain, WARM_UP, traced=True)

            async def off() -> float:
                note(f"{EVENTS} traced events, spans not exported …")
                return await _delivered_per_second(s, "bench.t", _plain, EVENTS, traced=True)

            async def exported() -> float:
                note(f"{EVENTS} traced events, spans exported over OTLP/HTTP …")
                return await _delivered_per_second(traced, "bench.t", _plain, EVENTS, traced=True)

            off_rate, exported_rate = await in_turns(off, exported)
            add(
                "deliveries/s, 1 webhook, every event traced, spans exported (OTLP/HTTP)",
                exported_rate,
                "/s",
                "the same, tracing not exported (traceparent still carried)",
                off_rate,
            )
            note(f"collector received {collector.requests} OTLP export requests")
    finally:
        await collector.stop()
