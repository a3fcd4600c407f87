"""Replay from Kafka history, end to end: the same delivery ids as the live
deliveries, backfill on create, progress and cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess, wait_all_slots, wait_slots_split
from hookstream.testing.receiver import Receiver
from schemas.deliveries import delivery_id_for
from streams.membership import slot_of
from streams.ports import free_port
from streams.topics import REPLAYS
from tests.conftest import send_event

DELIVERY_ID = "X-Etl-Webhook-Event-Id"


def order(unique: str, n: int, total: int) -> dict[str, Any]:
    return {
        "eventId": f"e-{unique}-{n}",
        "eventType": f"order.replayed.{unique}",
        "entityId": str(n),
        "entity": {"total": total},
    }


async def replay_state(api: ApiClient, webhook_id: str, replay_id: str) -> dict[str, Any]:
    status, body = await api.call("GET", f"/api/v1/webhooks/{webhook_id}/replays/{replay_id}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def until_finished(api: ApiClient, webhook_id: str, replay_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        state = await replay_state(api, webhook_id, replay_id)
        return state if state["status"] != "running" else None

    return await eventually(finished, timeout=90, message=f"replay {replay_id} never finished")


async def test_replay_delivers_again_with_the_live_delivery_ids(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    event_type = f"order.replayed.{unique}"
    webhook = await live_webhook(
        api, worker, name="live", url=f"{receiver.url}/live", events=[event_type]
    )
    for n, total in enumerate((5, 50, 500), start=1):
        await send_event(producer, order(unique, n, total))
    live = await receiver.wait_for("/live", count=3)
    live_ids = {receiver.header(r, DELIVERY_ID) for r in live}

    status, body = await api.call(
        "POST", f"/api/v1/webhooks/{webhook['id']}/replay", json={"since": since}
    )
    assert status == 202, body
    assert body["status"] == "running" and body["replayId"].startswith("rpl_")
    again = await receiver.wait_for("/live", count=6)
    assert {receiver.header(r, DELIVERY_ID) for r in again[3:]} == live_ids
    state = await until_finished(api, webhook["id"], body["replayId"])
    assert state["status"] == "done", state
    assert (state["matched"], state["queued"]) == (3, 3)
    assert state["scanned"] >= 3

    async def triggers() -> list[str] | None:
        status, log = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}/events")
        assert status == 200, log
        found = sorted(entry["trigger"] for entry in log["data"])
        return found if len(found) >= 6 else None

    logged = await eventually(triggers, timeout=30, message="the attempts were never logged")
    assert logged == ["event"] * 3 + ["replay"] * 3

    # replayFrom: a new webhook, with a filter, backfilled from the same time.
    status, created = await api.call(
        "POST",
        "/api/v1/webhooks",
        json={
            "name": "backfilled",
            "url": f"{receiver.url}/backfill",
            "events": [event_type],
            "filter": {"entity": {"total": {"$gte": 50}}},
            "replayFrom": since,
        },
    )
    assert status == 201, created
    api.created.append(created["id"])
    assert created["replay"]["status"] == "running"
    backfilled = await receiver.wait_for("/backfill", count=2)
    assert {orjson.loads(r.body)["eventId"] for r in backfilled} == {
        f"e-{unique}-2",
        f"e-{unique}-3",
    }
    assert {receiver.header(r, DELIVERY_ID) for r in backfilled} == {
        delivery_id_for(created["id"], f"e-{unique}-{n}") for n in (2, 3)
    }
    state = await until_finished(api, created["id"], created["replay"]["replayId"])
    assert (state["status"], state["matched"]) == ("done", 2)


async def slow_replay(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
    name: str,
) -> tuple[dict[str, Any], str]:
    """A webhook limited to one request a minute, three live events (the
    first delivered), and a replay of them started: the webhook and the
    replay's id. The replay stays running for minutes."""
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    webhook = await live_webhook(
        api,
        worker,
        name=name,
        url=f"{receiver.url}/{name}",
        events=[f"order.replayed.{unique}"],
        rateLimit={"requests": 1, "perSeconds": 60},
    )
    for n in range(1, 4):
        await send_event(producer, order(unique, n, n))
    await receiver.wait_for(f"/{name}", count=1)
    status, body = await api.call(
        "POST", f"/api/v1/webhooks/{webhook['id']}/replay", json={"since": since}
    )
    assert status == 202, body
    return webhook, body["replayId"]


async def test_a_replay_can_be_cancelled(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    # One request a minute: the replay writes no faster, so it is surely running.
    webhook, replay_id = await slow_replay(api, worker, receiver, producer, unique, "slow")
    status, body = await api.call("DELETE", f"/api/v1/webhooks/{webhook['id']}/replays/{replay_id}")
    assert (status, body["status"]) == (200, "cancelled")

    async def stopped() -> bool:
        return (await replay_state(api, webhook["id"], replay_id))["status"] == "cancelled"

    await eventually(stopped, timeout=60, message="the replay never stopped")
    status, listed = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}/replays")
    assert status == 200 and [r["replayId"] for r in listed["data"]] == [replay_id]


async def test_replay_requests_are_checked(api: ApiClient, unique: str) -> None:
    webhook = await api.create_webhook(name="x", url="https://example.com/h")
    path = f"/api/v1/webhooks/{webhook['id']}/replay"
    status, _ = await api.call("POST", path, json={"since": "yesterday"})
    assert status == 422
    status, _ = await api.call(
        "POST", path, json={"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
    )
    assert status == 422
    status, _ = await api.call("POST", "/api/v1/webhooks/wh_missing/replay", json={"since": "x"})
    assert status in (404, 422)
    status, body = await api.call(
        "POST",
        "/api/v1/webhooks",
        json={"name": "y", "url": "https://example.com/h", "replayFrom": "soon"},
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "replayFrom"
    status, _ = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}/replays/rpl_nope")
    assert status == 404


async def test_a_replay_whose_webhook_is_deleted_ends_as_failed(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    # One request a minute: the replay is waiting for its second write when
    # the webhook goes.
    webhook, replay_id = await slow_replay(api, worker, receiver, producer, unique, "doomed")

    async def started() -> bool:
        return (await replay_state(api, webhook["id"], replay_id))["queued"] >= 1

    await eventually(started, timeout=60, message="the replay never wrote its first delivery")
    status, _ = await api.call("DELETE", f"/api/v1/webhooks/{webhook['id']}")
    assert status == 204
    state = await until_finished(api, webhook["id"], replay_id)
    assert (state["status"], state["error"]) == ("failed", "the webhook was deleted"), state


async def test_a_replay_resumes_where_it_got_when_its_worker_is_killed(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    process_env: dict[str, str],
    artifacts: Path,
    unique: str,
) -> None:
    """A second worker, writing replays at 4 a second, runs the replay and
    is killed (SIGKILL) half way; the first takes its slots over and
    finishes it from the progress last saved: every event is replayed, the
    counts are exact, and what is sent twice has one delivery id."""
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    event_type = f"order.replayed.{unique}"
    path = f"/resumed-{unique}"
    webhook = await live_webhook(
        api, worker, name="resumed", url=f"{receiver.url}{path}", events=[event_type]
    )
    events = 40
    for n in range(events):
        await send_event(producer, order(unique, n, n))
    await receiver.wait_for(path, count=events)
    second = WorkerProcess(
        process_env | {"HOOKSTREAM_REPLAY_RATE": "4"},
        free_port(),
        artifacts / f"worker-{unique}.log",
    )
    await second.start()
    try:
        statuses = await wait_slots_split([worker, second])
        theirs = set(statuses[1]["slots"]["route"])
        # The replay runs where its slot is: ask until one is the second's
        # (those the first worker runs finish at once and change nothing here).
        ours = 0  # replays the first worker ran
        while True:
            status, body = await api.call(
                "POST", f"/api/v1/webhooks/{webhook['id']}/replay", json={"since": since}
            )
            assert status == 202, body
            if slot_of(f"{REPLAYS}/{body['replayId']}", 0) in theirs:
                break
            ours += 1
            assert ours < 20, "no replay landed on the second worker"
        replay_id = body["replayId"]

        async def half_way() -> bool:
            state = await replay_state(api, webhook["id"], replay_id)
            assert state["status"] == "running", state
            return bool(state["queued"] >= 8)

        await eventually(half_way, timeout=60, message="the replay never got going")
        await second.kill()
    finally:
        await second.stop()
    await wait_all_slots(worker)
    state = await until_finished(api, webhook["id"], replay_id)
    assert state["status"] == "done", state
    assert (state["matched"], state["queued"]) == (events, events)
    # The first worker wrote what was left, not the whole replay again.
    written = await worker.metric("hookstream_replayed_deliveries_total", webhook=webhook["id"])
    assert written - ours * events <= events - 8, written
    expected = {delivery_id_for(webhook["id"], f"e-{unique}-{n}") for n in range(events)}

    def replayed() -> list[str] | None:
        arrived = [receiver.header(r, DELIVERY_ID) for r in receiver.on_path(path)]
        return arrived if all(arrived.count(i) >= 2 for i in expected) else None

    arrived = await eventually(replayed, timeout=60, message="an event was not replayed")
    assert set(arrived) == expected
