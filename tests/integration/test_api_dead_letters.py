"""Dead letters of a webhook, and recovering them after an outage."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import PUBLISHER_TOKEN, VIEWER_TOKEN, ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from schemas.timestamps import utc_now_iso
from tests.conftest import send_event

ATTEMPTS = 4  # the test worker's schedule 1s,1s,2s: one attempt and three retries


async def dead_letters_of(api: ApiClient, webhook_id: str, count: int) -> list[dict[str, Any]]:
    async def listed() -> list[dict[str, Any]] | None:
        status, body = await api.call("GET", f"/api/v1/webhooks/{webhook_id}/dead-letters")
        assert status == 200, body
        return body["data"] if len(body["data"]) >= count else None

    return await eventually(listed, timeout=60, interval=0.3, message="dead letters")


async def test_dead_letters_are_listed_paged_and_recovered_with_the_same_ids(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    path = f"/dl-{unique}"
    receiver.scripts[path] = [(500, {})] * (2 * ATTEMPTS)  # then the default 200
    webhook = await live_webhook(
        api, worker, name="dead", url=receiver.url + path, events=[f"dl.{unique}"]
    )
    before = utc_now_iso()
    for n in (1, 2):
        await send_event(
            producer,
            {"eventId": f"dl{n}-{unique}", "eventType": f"dl.{unique}", "entityId": str(n)},
        )
    letters = await dead_letters_of(api, webhook["id"], 2)
    assert {d["event"]["eventId"] for d in letters} == {f"dl1-{unique}", f"dl2-{unique}"}
    assert letters[0]["deadAt"] >= letters[1]["deadAt"]  # newest first
    assert [a["attempt"] for a in letters[0]["attempts"]] == list(range(1, ATTEMPTS + 1))
    assert all(a["status"] == 500 for a in letters[0]["attempts"])
    dead_ids = {d["deliveryId"] for d in letters}

    base = f"/api/v1/webhooks/{webhook['id']}"
    status, first = await api.call("GET", f"{base}/dead-letters?limit=1", token=VIEWER_TOKEN)
    assert status == 200 and len(first["data"]) == 1 and first["nextCursor"]
    status, second = await api.call(
        "GET", f"{base}/dead-letters?limit=1&cursor={first['nextCursor']}"
    )
    assert status == 200 and second["nextCursor"] is None
    assert [first["data"][0]["deliveryId"], second["data"][0]["deliveryId"]] == [
        d["deliveryId"] for d in letters
    ]

    status, body = await api.call("POST", f"{base}/recover", json={"since": before})
    assert status == 202 and body == {"queued": 2}
    requests = await receiver.wait_for(path, 2 * ATTEMPTS + 2)
    recovered = requests[2 * ATTEMPTS :]
    assert {receiver.header(r, "X-Etl-Webhook-Event-Id") for r in recovered} == dead_ids
    assert {receiver.header(r, "X-Etl-Webhook-Attempt") for r in recovered} == {"1"}

    status, body = await api.call("POST", f"{base}/recover", json={"since": utc_now_iso()})
    assert status == 202 and body == {"queued": 0}


async def test_deliveries_of_a_disabled_webhook_wait_in_dead_letters(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    """Disabling a webhook while a delivery waits to retry dead-letters it
    (it was once dropped): enable the webhook again and recover it."""
    path = f"/paused-{unique}"
    receiver.scripts[path] = [(500, {})] * ATTEMPTS  # then the default 200
    webhook = await live_webhook(
        api, worker, name="paused", url=receiver.url + path, events=[f"pz.{unique}"]
    )
    before = utc_now_iso()
    await send_event(
        producer, {"eventId": f"pz-{unique}", "eventType": f"pz.{unique}", "entityId": "1"}
    )
    [first] = await receiver.wait_for(path, 1)
    base = f"/api/v1/webhooks/{webhook['id']}"
    status, disabled = await api.call("PATCH", base, json={"enabled": False})
    assert status == 200, disabled

    [letter] = await dead_letters_of(api, webhook["id"], 1)
    assert letter["reason"] == "webhook disabled"
    assert letter["deliveryId"] == receiver.header(first, "X-Etl-Webhook-Event-Id")
    tried = len(receiver.on_path(path))
    assert [a["attempt"] for a in letter["attempts"]] == list(range(1, tried + 1))

    status, _ = await api.call("POST", f"{base}/recover", json={"since": before})
    assert status == 409  # enable it first
    receiver.scripts[path] = []  # healthy again
    status, enabled = await api.call("PATCH", base, json={"enabled": True})
    assert status == 200, enabled
    # At once, before the worker may have read the change: it catches up
    # before deciding a delivery's webhook is disabled.
    status, body = await api.call("POST", f"{base}/recover", json={"since": before})
    assert status == 202 and body == {"queued": 1}
    requests = await receiver.wait_for(path, tried + 1)
    assert receiver.header(requests[-1], "X-Etl-Webhook-Event-Id") == letter["deliveryId"]
    assert receiver.header(requests[-1], "X-Etl-Webhook-Attempt") == "1"


async def test_dead_letter_errors(api: ApiClient, unique: str) -> None:
    webhook = await api.create_webhook(
        name="errors", url="https://example.invalid/x", events=[f"err.{unique}"]
    )
    base = f"/api/v1/webhooks/{webhook['id']}"
    status, body = await api.call("GET", f"{base}/dead-letters")
    assert status == 200 and body == {"data": [], "nextCursor": None}
    for query in ("limit=0", "limit=101", "limit=x", "cursor=garbage"):
        status, body = await api.call("GET", f"{base}/dead-letters?{query}")
        assert status == 422, (query, body)
    status, _ = await api.call("GET", "/api/v1/webhooks/wh_nope/dead-letters")
    assert status == 404
    status, _ = await api.call("GET", f"{base}/dead-letters", token=PUBLISHER_TOKEN)
    assert status == 403

    for bad in ({}, {"since": "yesterday"}, {"since": "2026-11-23T10:00:00"}, {"since": 1}):
        status, body = await api.call("POST", f"{base}/recover", json=bad)
        assert status == 422 and body["error"]["details"][0]["field"] == "since", bad
    since = {"since": "2026-01-01T00:00:00Z"}
    status, _ = await api.call("POST", f"{base}/recover", json=since, token=VIEWER_TOKEN)
    assert status == 403
    status, _ = await api.call("POST", "/api/v1/webhooks/wh_nope/recover", json=since)
    assert status == 404
    status, _ = await api.call("PATCH", base, json={"enabled": False})
    assert status == 200
    status, body = await api.call("POST", f"{base}/recover", json=since)
    assert status == 409 and body["error"]["code"] == "conflict"
