"""Events from a producer nobody here wrote: librdkafka (confluent-kafka) with
every compression codec real producers use. Each must be routed and delivered;
a record that is not JSON goes to hookstream.invalid-events and the events
after it on the same topic are still delivered."""

from __future__ import annotations

import asyncio
from typing import Any

import aiokafka.codec
import orjson
import pytest
from confluent_kafka import KafkaError, Message, Producer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import read_records, values
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from streams.topics import INVALID_EVENTS
from tests.conftest import create_topic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
EVENTS_PER_CODEC = 6
# Covers the worker's topic refresh (HOOKSTREAM_TOPIC_REFRESH_SECONDS) and a rebalance.
DELIVERY_DEADLINE = 60.0


def test_aiokafka_has_every_codec() -> None:
    assert aiokafka.codec.has_snappy()
    assert aiokafka.codec.has_lz4()
    assert aiokafka.codec.has_zstd()


async def new_events_topic(kafka: str, unique: str) -> str:
    return await create_topic(kafka, f"events.interop-{unique}", 2)


def librdkafka_producer(kafka: str, codec: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": kafka,
            "compression.type": codec,
            "acks": "all",
            "linger.ms": 20,  # several records per batch, so the codec really compresses
            "enable.idempotence": False,  # the embedded broker has no idempotent producer
            "client.id": f"interop-{codec}",
        }
    )


class Produced:
    """Delivery reports of librdkafka producers: every record must be acknowledged."""

    def __init__(self) -> None:
        self.acked = 0
        self.errors: list[str] = []

    def report(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.acked += 1
        else:
            self.errors.append(str(err))


async def flush(producer: Producer, produced: Produced, expected: int) -> None:
    remaining = await asyncio.to_thread(producer.flush, 30.0)
    assert remaining == 0, f"{remaining} records still queued in librdkafka"
    assert produced.errors == []
    assert produced.acked == expected


def event(unique: str, codec: str, n: int) -> dict[str, Any]:
    return {
        "eventId": f"{codec}-{n}-{unique}",
        "eventType": f"interop.{unique}",
        "entityId": str(n % 3),
        "entity": {"n": n, "codec": codec, "padding": "x" * 200},
        "timestamp": "2026-11-23T10:00:00Z",
    }


def produce(
    producer: Producer,
    produced: Produced,
    topic: str,
    value: dict[str, Any] | bytes,
    partition: int | None = None,
) -> None:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    key = None if isinstance(value, bytes) else value["entityId"].encode()
    extra = {} if partition is None else {"partition": partition}
    producer.produce(topic, value=raw, key=key, on_delivery=produced.report, **extra)


async def delivered_ids(receiver: Receiver, path: str, expected: set[str]) -> set[str]:
    def seen() -> set[str]:
        return {orjson.loads(r.body)["eventId"] for r in receiver.on_path(path)}

    return await eventually(
        lambda: seen() >= expected and seen(),
        timeout=DELIVERY_DEADLINE,
        interval=0.2,
        message=lambda: f"{path}: missing {sorted(expected - seen())}",
    )


@pytest.mark.parametrize("codec", CODECS)
async def test_every_codec_from_librdkafka_is_delivered(
    codec: str,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    kafka: str,
    unique: str,
) -> None:
    topic = await new_events_topic(kafka, unique)
    path = f"/interop-{codec}"
    await live_webhook(
        api, worker, name=f"interop {codec}", url=receiver.url + path, events=[f"interop.{unique}"]
    )
    producer, produced = librdkafka_producer(kafka, codec), Produced()
    events = [event(unique, codec, n) for n in range(EVENTS_PER_CODEC)]
    for value in events:
        produce(producer, produced, topic, value)
    await flush(producer, produced, len(events))

    seen = await delivered_ids(receiver, path, {e["eventId"] for e in events})
    assert seen == {e["eventId"] for e in events}


async def test_mixed_codecs_in_one_partition_are_all_delivered(
    api: ApiClient, worker: WorkerProcess, receiver: Receiver, kafka: str, unique: str
) -> None:
    """Batches of every codec interleaved in one partition, so one fetch
    returns them together: none may hold up the others."""
    topic = await new_events_topic(kafka, unique)
    await live_webhook(
        api, worker, name="interop mixed", url=receiver.url + "/mixed", events=[f"interop.{unique}"]
    )
    producers = {codec: (librdkafka_producer(kafka, codec), Produced()) for codec in CODECS}
    expected: set[str] = set()
    for n in range(3):
        for codec, (producer, produced) in producers.items():
            value = event(unique, codec, n)
            produce(producer, produced, topic, value, partition=0)
            expected.add(value["eventId"])
            # One batch per codec per round: flush before the next codec writes.
            await flush(producer, produced, n + 1)

    seen = await delivered_ids(receiver, "/mixed", expected)
    assert seen == expected


async def test_a_record_that_is_not_json_is_reported_and_later_events_delivered(
    api: ApiClient, worker: WorkerProcess, receiver: Receiver, kafka: str, unique: str
) -> None:
    topic = await new_events_topic(kafka, unique)
    await live_webhook(
        api,
        worker,
        name="interop poison",
        url=receiver.url + "/after",
        events=[f"interop.{unique}"],
    )
    producer, produced = librdkafka_producer(kafka, "snappy"), Produced()
    poison = f"not json {unique}".encode()
    produce(producer, produced, topic, poison, partition=0)
    await flush(producer, produced, 1)
    later = [event(unique, "snappy", n) for n in range(3)]
    for value in later:
        produce(producer, produced, topic, value, partition=0)
    await flush(producer, produced, 1 + len(later))

    seen = await delivered_ids(receiver, "/after", {e["eventId"] for e in later})
    assert seen == {e["eventId"] for e in later}
    [report] = values(
        await read_records(
            kafka,
            INVALID_EVENTS,
            where=lambda record: unique in orjson.loads(record.value).get("value", ""),
            count=1,
            settle=1.0,
        )
    )
    assert report["topic"] == topic
    assert report["partition"] == 0
    assert "JSON" in report["reason"]
