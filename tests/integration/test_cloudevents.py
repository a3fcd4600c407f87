"""CloudEvents in and out, end to end: records made by the official SDK's
Kafka conversion, produced through librdkafka (confluent-kafka), routed by the
real worker to a real receiver; a payloadFormat "cloudevents" webhook's
requests parsed by the SDK's from_http, their signature checked; the
producer's traceparent carried to the outbound request as a child span."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import orjson
import pytest
from cloudevents.v1.http import CloudEvent, from_http
from cloudevents.v1.kafka import KafkaMessage, to_binary, to_structured
from confluent_kafka import Producer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.kafka_reader import read_records, values
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Received, Receiver
from schemas.trace_context import parse_traceparent
from streams.topics import INVALID_EVENTS
from tests.conftest import create_topic

SECRET = "ce-s3cret"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PRODUCER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PRODUCER_SPAN}-01"
DEADLINE = 60.0  # covers the worker's topic refresh


def librdkafka(kafka: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": kafka,
            "acks": "all",
            "enable.idempotence": False,  # the embedded broker has no idempotent producer
            "client.id": "cloudevents-interop",
        }
    )


async def produce(kafka: str, topic: str, messages: list[KafkaMessage]) -> None:
    """Every message through librdkafka; each must be acknowledged."""
    producer, errors, acked = librdkafka(kafka), [], []

    def report(err: Any, msg: Any) -> None:
        (errors if err is not None else acked).append(err)

    for message in messages:
        producer.produce(
            topic,
            key=message.key,
            value=message.value,
            headers=list(message.headers.items()),
            on_delivery=report,
        )
    assert await asyncio.to_thread(producer.flush, 30.0) == 0
    assert errors == []
    assert len(acked) == len(messages)


def order(unique: str, n: int, **attributes: Any) -> CloudEvent:
    return CloudEvent(
        {
            "type": f"com.example.order.created.{unique}",
            "source": "https://shop.example/orders",
            "id": f"ce-{n}-{unique}",
            "subject": f"order-{n}",
            "time": "2026-11-23T10:00:00Z",
            "datacontenttype": "application/json",  # the SDK's to_binary requires it
            **attributes,
        },
        {"id": n, "total": 9.5, "lines": [{"sku": "A-1", "qty": 2}]},
    )


def with_trace(message: KafkaMessage, traceparent: str, tracestate: str) -> KafkaMessage:
    """A plain W3C header on the record, as OpenTelemetry's Kafka instrumentation writes."""
    headers = message.headers | {
        "traceparent": traceparent.encode(),
        "tracestate": tracestate.encode(),
    }
    return KafkaMessage(headers, message.key, message.value)


def signed_by_secret(request: Received) -> bool:
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha1).hexdigest()
    return request.headers.get("X-Etl-Webhook-Signature") == expected


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_sdk_cloudevents_from_librdkafka_are_delivered(
    mode: str, api: ApiClient, worker: WorkerProcess, receiver: Receiver, kafka: str, unique: str
) -> None:
    topic = await create_topic(kafka, f"events.ce-{mode}-{unique}", 2)
    event_type = f"com.example.order.created.{unique}"
    await live_webhook(
        api,
        worker,
        name="cloudevents out",
        url=receiver.url + "/ce",
        events=[event_type],
        payloadFormat="cloudevents",
        secret=SECRET,
    )
    await live_webhook(api, worker, name="etl out", url=receiver.url + "/etl", events=[event_type])
    convert = to_binary if mode == "binary" else to_structured
    traced = order(unique, 1, tenantid="acme")
    messages = [
        with_trace(convert(traced), TRACEPARENT, "vendor=abc"),
        # The Distributed Tracing extension instead of a record header.
        convert(order(unique, 2, traceparent=TRACEPARENT)),
        # No subject: the record key is the entity id.
        convert(order(unique, 3, subject=None), key_mapper=lambda _: "key-3"),
    ]
    await produce(kafka, topic, messages)

    received = {
        r.headers["X-Etl-Webhook-Entity-Id"]: r
        for r in await receiver.wait_for("/ce", 3, DEADLINE)
        if unique in r.body.decode()
    }
    assert set(received) == {"order-1", "order-2", "key-3"}
    for entity_id, request in received.items():
        event = from_http(request.headers, request.body)
        assert request.headers["Content-Type"] == "application/cloudevents+json"
        assert event["specversion"] == "1.0"
        assert event["id"] == request.headers["X-Etl-Webhook-Event-Id"]
        assert event["type"] == event_type
        assert event["source"] == "https://shop.example/orders"
        assert event["subject"] == entity_id
        assert event["time"] == "2026-11-23T10:00:00.000Z"
        assert event["datacontenttype"] == "application/json"
        assert event.data["total"] == 9.5
        assert signed_by_secret(request), "the signature covers the exact body"
    assert from_http(received["order-1"].headers, received["order-1"].body)["tenantid"] == "acme"

    # Same trace, a new span (the attempt's), tracestate kept.
    for entity_id in ("order-1", "order-2"):
        headers = received[entity_id].headers
        carried = parse_traceparent(headers.get("traceparent"), headers.get("tracestate"))
        assert carried is not None, f"{entity_id}: no traceparent"
        assert carried.trace_id == TRACE_ID
        assert carried.span_id != PRODUCER_SPAN
    assert received["order-1"].headers["tracestate"] == "vendor=abc"
    assert "traceparent" not in received["key-3"].headers  # untraced, nothing exported

    etl = [orjson.loads(r.body) for r in await receiver.wait_for("/etl", 3, DEADLINE)]
    mine = {body["entityId"]: body for body in etl if body["eventId"].endswith(unique)}
    assert mine["order-1"]["eventId"] == f"ce-1-{unique}"
    assert mine["order-1"]["eventType"] == event_type
    assert mine["order-1"]["timestamp"] == "2026-11-23T10:00:00.000Z"


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_a_cloudevent_missing_a_required_attribute_is_reported_and_later_ones_delivered(
    mode: str, api: ApiClient, worker: WorkerProcess, receiver: Receiver, kafka: str, unique: str
) -> None:
    topic = await create_topic(kafka, f"events.ce-bad-{mode}-{unique}", 1)
    event_type = f"com.example.order.created.{unique}"
    path = f"/after-{mode}"
    await live_webhook(api, worker, name="after", url=receiver.url + path, events=[event_type])
    convert = to_binary if mode == "binary" else to_structured
    broken = convert(order(unique, 0))
    if mode == "binary":
        headers = {k: v for k, v in broken.headers.items() if k != "ce_source"}
        broken = KafkaMessage(headers, b"bad-" + unique.encode(), broken.value)
    else:
        envelope = orjson.loads(broken.value)
        del envelope["source"]
        broken = KafkaMessage(broken.headers, b"bad-" + unique.encode(), orjson.dumps(envelope))
    await produce(kafka, topic, [broken, convert(order(unique, 1))])

    [request] = await receiver.wait_for(path, 1, DEADLINE)
    assert orjson.loads(request.body)["eventId"] == f"ce-1-{unique}"
    [report] = values(
        await read_records(
            kafka,
            INVALID_EVENTS,
            where=lambda record: orjson.loads(record.value).get("topic") == topic,
            count=1,
        )
    )
    assert f"CloudEvent ({mode} mode): required attribute source is missing" in report["reason"]
