"""Domain events on Kafka become webhook requests exactly as the seed says."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs

import orjson
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event

ETL_HEADERS = (
    "X-Etl-Webhook-Event-Id",
    "X-Etl-Webhook-Event",
    "X-Etl-Webhook-Id",
    "X-Etl-Webhook-Entity-Id",
    "X-Etl-Webhook-Entity-URL",
)


def event(unique: str, n: int = 1, **extra: object) -> dict[str, object]:
    return {
        "eventId": f"e-{unique}-{n}",
        "eventType": f"order.created.{unique}",
        "entityId": f"{n}",
        "entity": {"id": n, "total": 9.5},
        "timestamp": "2026-11-23T10:00:00Z",
        **extra,
    }


async def test_json_delivery_has_every_header_signature_auth_and_entity(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await live_webhook(
        api,
        worker,
        name="orders to CRM",
        url=f"{receiver.url}/json",
        events=[f"order.created.{unique}"],
        includeEntity=True,
        secret="s3cret",
        basicAuth={"username": "u", "password": "p"},
        headers={"X-Tenant": "acme"},
    )
    await send_event(producer, event(unique))

    [request] = await receiver.wait_for("/json")
    assert request.method == "POST"
    for name in ETL_HEADERS:
        assert receiver.header(request, name), name
    assert receiver.header(request, "X-Etl-Webhook-Event") == f"order.created.{unique}"
    assert receiver.header(request, "X-Etl-Webhook-Id") == webhook["id"]
    assert receiver.header(request, "X-Etl-Webhook-Entity-Id") == "1"
    assert receiver.header(request, "X-Etl-Webhook-Entity-URL").endswith("/api/v1/entities/order/1")
    assert receiver.header(request, "X-Etl-Webhook-Event-Id").startswith("dlv_")
    assert receiver.header(request, "Content-Type") == "application/json"
    assert receiver.header(request, "X-Tenant") == "acme"
    assert receiver.header(request, "Authorization") == "Basic " + base64.b64encode(b"u:p").decode()
    expected = hmac.new(b"s3cret", request.body, hashlib.sha1).hexdigest()
    assert receiver.header(request, "X-Etl-Webhook-Signature") == expected

    body = orjson.loads(request.body)
    assert body == {
        "eventId": f"e-{unique}-1",
        "eventType": f"order.created.{unique}",
        "webhookId": webhook["id"],
        "entityId": "1",
        "entity": {"id": 1, "total": 9.5},
        "entityUrl": receiver.header(request, "X-Etl-Webhook-Entity-URL"),
        "timestamp": "2026-11-23T10:00:00.000Z",
    }


async def test_entity_left_out_unless_included_and_producer_entity_url_kept(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    await live_webhook(
        api,
        worker,
        name="no entity",
        url=f"{receiver.url}/plain",
        events=[f"order.created.{unique}"],
    )
    await send_event(producer, event(unique, entityUrl="https://shop.example/orders/1"))

    [request] = await receiver.wait_for("/plain")
    body = orjson.loads(request.body)
    assert "entity" not in body
    assert body["entityUrl"] == "https://shop.example/orders/1"
    assert receiver.header(request, "X-Etl-Webhook-Entity-URL") == "https://shop.example/orders/1"
    assert receiver.header(request, "X-Etl-Webhook-Signature") is None  # no secret, no signature
    assert receiver.header(request, "Authorization") is None


async def test_form_encoded_body_is_signed(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await live_webhook(
        api,
        worker,
        name="form",
        url=f"{receiver.url}/form",
        events=[f"order.created.{unique}"],
        contentType="application/x-www-form-urlencoded",
        includeEntity=True,
        secret="formsecret",
    )
    await send_event(producer, event(unique))

    [request] = await receiver.wait_for("/form")
    assert receiver.header(request, "Content-Type") == "application/x-www-form-urlencoded"
    fields = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    assert fields == {
        "eventId": f"e-{unique}-1",
        "eventType": f"order.created.{unique}",
        "webhookId": webhook["id"],
        "entityId": "1",
        "timestamp": "2026-11-23T10:00:00.000Z",
    }
    expected = hmac.new(b"formsecret", request.body, hashlib.sha1).hexdigest()
    assert receiver.header(request, "X-Etl-Webhook-Signature") == expected


async def test_get_sends_fields_as_query_string_without_body(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await live_webhook(
        api,
        worker,
        name="get",
        url=f"{receiver.url}/get?static=1",
        method="GET",
        events=[f"order.created.{unique}"],
    )
    await send_event(producer, event(unique))

    [request] = await receiver.wait_for("/get")
    assert request.method == "GET"
    assert request.body == b""
    assert request.query == {
        "static": "1",
        "eventId": f"e-{unique}-1",
        "eventType": f"order.created.{unique}",
        "webhookId": webhook["id"],
        "entityId": "1",
        "timestamp": "2026-11-23T10:00:00.000Z",
    }
    assert receiver.header(request, "X-Etl-Webhook-Event") == f"order.created.{unique}"


async def test_only_subscribed_event_types_are_delivered_and_all_means_all(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    created = await api.create_webhook(
        name="created only", url=f"{receiver.url}/created", events=[f"order.created.{unique}"]
    )
    everything = await api.create_webhook(name="all", url=f"{receiver.url}/all", events=["*"])
    await worker.wait_knows(created)
    await worker.wait_knows(everything)
    await send_event(producer, event(unique, 1))
    await send_event(producer, event(unique, 2, eventType=f"order.cancelled.{unique}"))
    await send_event(producer, event(unique, 3))

    def own_to_all() -> list[str] | None:
        # A "*" webhook also gets whatever else is routed while it exists
        # (other tests' events): count only this test's own.
        types = [r.headers["X-Etl-Webhook-Event"] for r in receiver.on_path("/all")]
        own = [t for t in types if t.endswith(f".{unique}")]
        return own if len(own) >= 3 else None

    all_types = await eventually(own_to_all, timeout=60, message="three events to all")
    created_requests = await receiver.wait_for("/created", 2)
    assert sorted(all_types) == sorted(
        [f"order.created.{unique}", f"order.cancelled.{unique}", f"order.created.{unique}"]
    )
    # The cancelled event went out to "all" alongside the others, so by now it
    # would have reached "created" too if it were routed there.
    assert {r.headers["X-Etl-Webhook-Event"] for r in created_requests} == {
        f"order.created.{unique}"
    }
    assert len(receiver.on_path("/created")) == 2


async def test_disabled_webhook_gets_nothing_until_enabled(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    off = await api.create_webhook(
        name="off", url=f"{receiver.url}/off", events=[f"order.created.{unique}"], enabled=False
    )
    on = await api.create_webhook(
        name="on", url=f"{receiver.url}/on", events=[f"order.created.{unique}"]
    )
    await worker.wait_knows(off)
    await worker.wait_knows(on)
    await send_event(producer, event(unique, 1))
    await receiver.wait_for("/on", 1)
    metrics = await worker.metrics()
    assert f'hookstream_deliveries_routed_total{{webhook="{on["id"]}"}} 1.0' in metrics
    assert f'webhook="{off["id"]}"' not in metrics
    assert receiver.on_path("/off") == []

    status, enabled = await api.call(
        "PATCH", f"/api/v1/webhooks/{off['id']}", json={"enabled": True}
    )
    assert status == 200 and enabled["enabled"] is True
    await worker.wait_knows(enabled)
    await send_event(producer, event(unique, 2))
    [request] = await receiver.wait_for("/off", 1)
    assert orjson.loads(request.body)["eventId"] == f"e-{unique}-2"


async def test_same_event_keeps_its_delivery_id(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    await live_webhook(
        api, worker, name="dedupe", url=f"{receiver.url}/dup", events=[f"order.created.{unique}"]
    )
    await send_event(producer, event(unique, 1))
    await send_event(producer, event(unique, 1))  # the producer retried: same eventId
    await send_event(producer, event(unique, 2))
    requests = await receiver.wait_for("/dup", 3)
    ids = [r.headers["X-Etl-Webhook-Event-Id"] for r in requests]
    by_event = {}
    for r, delivery_id in zip(requests, ids, strict=True):
        by_event.setdefault(orjson.loads(r.body)["eventId"], set()).add(delivery_id)
    assert len(by_event[f"e-{unique}-1"]) == 1
    assert by_event[f"e-{unique}-1"] != by_event[f"e-{unique}-2"]


async def test_url_change_and_delete_take_effect_without_restart(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await live_webhook(
        api, worker, name="moving", url=f"{receiver.url}/before", events=[f"order.created.{unique}"]
    )
    await send_event(producer, event(unique, 1))
    await receiver.wait_for("/before", 1)

    status, moved = await api.call(
        "PATCH", f"/api/v1/webhooks/{webhook['id']}", json={"url": f"{receiver.url}/after"}
    )
    assert status == 200
    await worker.wait_knows(moved)
    await send_event(producer, event(unique, 2))
    [request] = await receiver.wait_for("/after", 1)
    assert orjson.loads(request.body)["eventId"] == f"e-{unique}-2"

    status, _ = await api.call("DELETE", f"/api/v1/webhooks/{webhook['id']}")
    assert status == 204
    status, body = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}")
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_event_produced_right_after_creating_a_webhook_reaches_it(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    # No waiting for the worker to see the webhook: the router catches up with
    # the configuration topic before routing, so creation is read-after-write.
    # (The race is too narrow to force here; test_topic_views shows catch_up
    # itself is what makes a just-acknowledged write visible.)
    for n in range(3):
        await api.create_webhook(
            name=f"instant {n}", url=f"{receiver.url}/instant{n}", events=[f"instant.{unique}.{n}"]
        )
        await send_event(producer, event(unique, n, eventType=f"instant.{unique}.{n}"))
    for n in range(3):
        [request] = await receiver.wait_for(f"/instant{n}")
        assert orjson.loads(request.body)["eventId"] == f"e-{unique}-{n}"


async def test_credential_headers_are_write_only_and_never_logged(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await live_webhook(
        api,
        worker,
        name="keyed",
        url=f"{receiver.url}/keyed",
        events=[f"order.created.{unique}"],
        headers={"X-Api-Key": "k-123", "X-Tenant": "acme"},
    )
    assert webhook["headers"] == {"X-Api-Key": "[redacted]", "X-Tenant": "acme"}
    base = f"/api/v1/webhooks/{webhook['id']}"
    # The view sent back (as the console does) keeps the stored key.
    status, updated = await api.call(
        "PATCH", base, json={"headers": {**webhook["headers"], "X-Extra": "1"}}
    )
    assert status == 200, updated
    status, body = await api.call("PATCH", base, json={"headers": {"X-Auth-Token": "[redacted]"}})
    assert status == 422 and "write-only" in body["error"]["message"]
    await worker.wait_knows(updated)

    await send_event(producer, event(unique))
    [request] = await receiver.wait_for("/keyed")
    assert request.headers["X-Api-Key"] == "k-123"
    assert request.headers["X-Extra"] == "1"

    async def logged() -> dict | None:
        status, log = await api.call("GET", f"{base}/events")
        return log["data"][0] if status == 200 and log["data"] else None

    entry = await eventually(logged, timeout=30, interval=0.2, message="attempt logged")
    assert entry["request"]["headers"]["X-Api-Key"] == "[redacted]"
    assert entry["request"]["headers"]["X-Tenant"] == "acme"
