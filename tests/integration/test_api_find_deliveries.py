"""GET /api/v1/deliveries: the attempts of one event or one delivery across
webhooks (Svix's message view), and a portal token finds only its own
tenant's."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import (
    ADMIN_TOKEN,
    PUBLISHER_TOKEN,
    VIEWER_TOKEN,
    ApiClient,
    live_webhook,
)
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event


async def portal_token(api: ApiClient, tenant_id: str) -> str:
    status, link = await api.call("POST", f"/api/v1/tenants/{tenant_id}/portal", json={})
    assert status == 201, link
    return str(link["token"])


async def find(api: ApiClient, query: str, token: str = ADMIN_TOKEN) -> list[dict[str, Any]]:
    status, body = await api.call("GET", f"/api/v1/deliveries?{query}", token=token)
    assert status == 200, body
    return body["data"]  # type: ignore[no-any-return]


async def test_an_event_is_found_across_webhooks_and_a_tenant_finds_its_own_only(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    tenant_pair: tuple[str, str],
    unique: str,
) -> None:
    a, b = tenant_pair
    event_type = f"find.{unique}"
    # Tenant A's webhook, and one without a tenant (it receives every
    # tenant's events) that tenant A must not see.
    ours = await live_webhook(
        api, worker, name="ours", url=f"{receiver.url}/ours", events=[event_type], tenantId=a
    )
    shared = await live_webhook(
        api, worker, name="shared", url=f"{receiver.url}/shared", events=[event_type]
    )
    event_id = f"e-{unique}"
    await send_event(
        producer, {"eventId": event_id, "eventType": event_type, "entityId": "1", "tenantId": a}
    )

    async def both() -> list[dict[str, Any]] | None:
        found = await find(api, f"eventId={event_id}")
        return found if len(found) == 2 else None

    found = await eventually(both, timeout=30, interval=0.2, message="both attempts found")
    assert {f["webhookId"] for f in found} == {ours["id"], shared["id"]}
    assert all(f["eventId"] == event_id and f["outcome"] == "success" for f in found)
    assert found[0]["at"] >= found[1]["at"]  # newest first
    assert "event" not in found[0]  # the same attempt view as GET /webhooks/{id}/events
    by_webhook = {f["webhookId"]: f for f in found}
    mine, theirs = by_webhook[ours["id"]]["deliveryId"], by_webhook[shared["id"]]["deliveryId"]

    assert await find(api, f"eventId={event_id}", VIEWER_TOKEN) == found
    assert [f["webhookId"] for f in await find(api, f"deliveryId={theirs}")] == [shared["id"]]
    both_ids = await find(api, f"eventId={event_id}&deliveryId={mine}")
    assert [f["webhookId"] for f in both_ids] == [ours["id"]]
    assert await find(api, f"eventId=e-other-{unique}&deliveryId={mine}") == []
    assert len(await find(api, f"eventId={event_id}&limit=1")) == 1

    token_a, token_b = await portal_token(api, a), await portal_token(api, b)
    assert [f["webhookId"] for f in await find(api, f"eventId={event_id}", token_a)] == [ours["id"]]
    assert await find(api, f"deliveryId={theirs}", token_a) == []
    assert await find(api, f"eventId={event_id}", token_b) == []
    assert await find(api, f"deliveryId={mine}", token_b) == []


async def test_find_deliveries_errors(api: ApiClient) -> None:
    for query in ("", "eventId=", "eventId=%20&deliveryId=", "eventId=x&limit=0"):
        status, body = await api.call("GET", f"/api/v1/deliveries?{query}")
        assert status == 422, (query, body)
    status, body = await api.call("GET", "/api/v1/deliveries")
    assert body["error"]["details"][0]["field"] == "eventId"
    status, _ = await api.call("GET", "/api/v1/deliveries?eventId=x", token=PUBLISHER_TOKEN)
    assert status == 403
    status, _ = await api.call("GET", "/api/v1/deliveries?eventId=x", token=None)
    assert status == 401
    assert await find(api, "eventId=never-sent") == []
