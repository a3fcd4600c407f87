"""Routing by tenant and content filter, end to end: real broker, worker,
API and receiver."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event


def order(unique: str, n: int, total: float, tenant: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventId": f"e-{unique}-{n}",
        "eventType": f"order.created.{unique}",
        # One entity: one event partition and one lane key, so events are
        # routed and delivered in the order sent (the last one is a marker).
        "entityId": "1",
        "entity": {"id": 1, "total": total},
    }
    if tenant is not None:
        event["tenantId"] = tenant
    return event


async def test_tenant_and_filter_decide_who_receives(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    tenant = f"acme-{unique}"
    status, body = await api.call("PUT", f"/api/v1/tenants/{tenant}", json={"name": "Acme"})
    assert status == 201, body
    await live_webhook(
        api,
        worker,
        name="big orders of acme",
        url=f"{receiver.url}/acme",
        events=[f"order.created.{unique}"],
        tenantId=tenant,
        filter={"entity": {"total": {"$gt": 5}}},
    )
    await live_webhook(
        api, worker, name="all", url=f"{receiver.url}/all", events=[f"order.created.{unique}"]
    )
    await send_event(producer, order(unique, 1, 9, tenant))  # both
    await send_event(producer, order(unique, 2, 1, tenant))  # filtered from acme
    await send_event(producer, order(unique, 3, 9, "globex"))  # another tenant
    await send_event(producer, order(unique, 4, 9, None))  # no tenant
    await send_event(producer, order(unique, 5, 50, tenant))  # both: the marker

    everything = await receiver.wait_for("/all", count=5)
    assert [orjson.loads(r.body)["eventId"] for r in everything] == [
        f"e-{unique}-{n}" for n in range(1, 6)
    ]
    # In order behind the marker (one entity): nothing else can still come.
    acme = await receiver.wait_for("/acme", count=2)
    assert [orjson.loads(r.body)["eventId"] for r in acme] == [f"e-{unique}-1", f"e-{unique}-5"]

    async def counted() -> bool:
        filtered = await worker.metric("hookstream_events_filtered_total")
        return filtered >= 1

    await eventually(counted, timeout=30, message="events_filtered counted")


async def test_an_invalid_filter_is_a_422_naming_its_path(api: ApiClient, unique: str) -> None:
    status, body = await api.call(
        "POST",
        "/api/v1/webhooks",
        json={
            "name": "bad",
            "url": "https://example.com/h",
            "filter": {"entity": {"$or": [{"total": {"$regex": "^9"}}]}},
        },
    )
    assert status == 422, body
    assert body["error"]["details"][0]["field"] == "filter.entity.$or[0].total.$regex"
    status, body = await api.call(
        "POST",
        "/api/v1/webhooks",
        json={"name": "bad", "url": "https://example.com/h", "tenantId": "no spaces"},
    )
    assert status == 422, body


async def test_filter_test_and_backtest_on_real_traffic(
    api: ApiClient, producer: AIOKafkaProducer, unique: str
) -> None:
    big = {"entity": {"total": {"$gte": 10}}}
    status, body = await api.call(
        "POST", "/api/v1/filters/test", json={"filter": big, "event": order(unique, 1, 12, None)}
    )
    assert (status, body) == (200, {"matches": True})
    status, body = await api.call(
        "POST",
        "/api/v1/filters/test",
        json={"filter": {"entity": {"total": {"$gte": []}}}, "event": {}},
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "filter.entity.total.$gte"

    totals = [5, 10, 20, 30, 1]
    for n, total in enumerate(totals, start=1):
        await send_event(producer, order(unique, n, total, "acme" if n <= 2 else None))
    query = {"filter": big, "events": [f"order.created.{unique}"], "limit": 1000}
    status, body = await api.call("POST", "/api/v1/filters/backtest", json=query)
    assert status == 200, body
    assert (body["scanned"], body["matched"]) == (5, 3)
    assert [e["eventId"] for e in body["examples"]] == [f"e-{unique}-{n}" for n in (4, 3, 2)]

    status, body = await api.call(
        "POST", "/api/v1/filters/backtest", json={**query, "tenantId": "acme"}
    )
    assert (status, body["scanned"], body["matched"]) == (200, 2, 1)
    status, _ = await api.call("POST", "/api/v1/filters/backtest", json={**query, "limit": 10_001})
    assert status == 422


async def test_a_portal_token_tries_filters_on_its_own_tenants_traffic_only(
    api: ApiClient, producer: AIOKafkaProducer, unique: str, tenant_pair: tuple[str, str]
) -> None:
    mine, other = tenant_pair
    status, link = await api.call("POST", f"/api/v1/tenants/{mine}/portal", json={})
    assert status == 201
    portal = link["token"]
    for n, tenant_id in enumerate((mine, other, mine, None), start=1):
        await send_event(producer, order(unique, n, 10 * n, tenant_id))
    query = {"filter": {}, "events": [f"order.created.{unique}"], "limit": 1000}

    status, body = await api.call("POST", "/api/v1/filters/backtest", json=query, token=portal)
    assert status == 200, body
    assert [e["eventId"] for e in body["examples"]] == [f"e-{unique}-{n}" for n in (3, 1)]
    assert body["scanned"] == 2
    status, body = await api.call(
        "POST", "/api/v1/filters/backtest", json={**query, "tenantId": other}, token=portal
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "tenantId"
    status, body = await api.call(
        "POST",
        "/api/v1/filters/test",
        json={"filter": {"entity": {"total": {"$gt": 5}}}, "event": order(unique, 9, 6, mine)},
        token=portal,
    )
    assert (status, body) == (200, {"matches": True})


async def test_a_filter_sees_the_entity_url_the_delivery_carries(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    """An event without entityUrl is delivered with hookstream's own
    (HOOKSTREAM_API_URL/api/v1/entities/{type}/{entityId}); the router's
    filter sees that same URL."""
    event_type = f"order.created.{unique}"
    own_entities = {"entityUrl": {"$endsWith": "/api/v1/entities/order/1"}}
    await live_webhook(
        api,
        worker,
        name="hookstream's entity URLs",
        url=f"{receiver.url}/ents",
        events=[event_type],
        filter=own_entities,
    )
    await send_event(
        producer, {**order(unique, 1, 9, None), "entityUrl": "https://shop.example/o/1"}
    )
    await send_event(producer, order(unique, 2, 9, None))  # generated: kept
    arrived = await receiver.wait_for("/ents", count=1)
    body = orjson.loads(arrived[0].body)
    assert body["eventId"] == f"e-{unique}-2"
    assert body["entityUrl"].endswith("/api/v1/entities/order/1")
    assert receiver.header(arrived[0], "X-Etl-Webhook-Entity-Url") == body["entityUrl"]

    # POST /filters/test answers the same for the same event.
    status, answer = await api.call(
        "POST",
        "/api/v1/filters/test",
        json={"filter": own_entities, "event": order(unique, 2, 9, None)},
    )
    assert (status, answer) == (200, {"matches": True})
