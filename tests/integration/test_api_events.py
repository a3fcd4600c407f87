"""POST /api/v1/events: publish domain events over HTTP, acknowledged by the broker."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from hookstream.api.app import create_api_from_settings
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import (
    ADMIN_TOKEN,
    PUBLISHER_TOKEN,
    TOKENS,
    VIEWER_TOKEN,
    ApiClient,
    ApiServer,
    live_webhook,
)
from hookstream.testing.processes import SECRET_KEY, WorkerProcess
from hookstream.testing.receiver import Receiver
from schemas.events import parse_event
from streams.broker import EmbeddedBroker
from streams.ports import free_port
from tests.conftest import EVENTS_TOPIC

EVENTS = "/api/v1/events"


async def record_at(kafka: str, answer: dict[str, Any]) -> Any:
    """The record the API says it wrote, read back from Kafka."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(answer["topic"], answer["partition"])
        consumer.assign([tp])
        consumer.seek(tp, answer["offset"])
        return await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()


async def test_publish_one_event_answers_where_the_broker_stored_it(
    api: ApiClient, kafka: str, unique: str
) -> None:
    status, body = await api.call(
        "POST",
        EVENTS,
        json={"eventType": f"order.created.{unique}", "entityId": 42, "entity": {"total": 9.5}},
    )
    assert status == 202, body
    assert body["topic"] == "events.api" and body["eventId"].startswith("evt_")
    assert isinstance(body["partition"], int) and isinstance(body["offset"], int)

    record = await record_at(kafka, body)
    assert record.key == b"42"
    event = parse_event(record.value, record.timestamp)  # what the router will read
    assert event.event_id == body["eventId"]
    assert event.event_type == f"order.created.{unique}"
    assert event.entity == {"total": 9.5}


async def test_publisher_may_publish_but_not_read_and_viewer_may_not_publish(
    api: ApiClient, unique: str
) -> None:
    event = {"eventId": f"p-{unique}", "eventType": "t.x", "entityId": "1", "topic": EVENTS_TOPIC}
    status, body = await api.call("POST", EVENTS, json=event, token=PUBLISHER_TOKEN)
    assert status == 202, body
    assert body["eventId"] == f"p-{unique}" and body["topic"] == EVENTS_TOPIC

    status, body = await api.call("POST", EVENTS, json=event, token=VIEWER_TOKEN)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await api.call("POST", EVENTS, json=event, token=None)
    assert status == 401
    status, body = await api.call("GET", "/api/v1/webhooks", token=PUBLISHER_TOKEN)
    assert status == 403 and "publisher" in body["error"]["message"]
    status, body = await api.call("GET", "/api/v1/whoami", token=PUBLISHER_TOKEN)
    assert status == 200 and body == {"role": "publisher"}


async def test_invalid_events_are_422_with_the_reason(api: ApiClient) -> None:
    cases = [
        ({"entityId": "1"}, "eventType is required"),
        ({"eventType": "a b", "entityId": "1"}, "eventType may only contain"),
        ({"eventType": "a", "entityId": "1", "timestamp": "yesterday"}, "ISO 8601"),
        ({"eventType": "a", "entityId": "1", "topic": "hookstream.webhooks"}, "hookstream"),
        ({"eventType": "a", "entityId": "1", "topic": "orders"}, "HOOKSTREAM_EVENT_TOPICS"),
        ({"eventType": "a", "entityId": "1", "extra": 1}, "unknown field extra"),
        ("just a string", "JSON object"),
    ]
    for payload, reason in cases:
        status, body = await api.call("POST", EVENTS, json=payload)
        assert status == 422, (payload, body)
        assert body["error"]["code"] == "validation_failed"
        assert reason in body["error"]["message"], (reason, body)
    status, body = await api.call("POST", EVENTS, data=b"{nope")
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_batch_is_answered_per_event(api: ApiClient, kafka: str, unique: str) -> None:
    batch = [
        {"eventId": f"b1-{unique}", "eventType": "b.x", "entityId": "1"},
        {"eventType": "b.x"},  # no entityId
        {"eventId": f"b3-{unique}", "eventType": "b.x", "entityId": "3", "topic": EVENTS_TOPIC},
    ]
    status, body = await api.call("POST", EVENTS, json=batch)
    assert status == 202, body
    first, second, third = body["data"]
    assert first["eventId"] == f"b1-{unique}" and first["topic"] == "events.api"
    assert second["error"]["code"] == "validation_failed"
    assert "entityId" in second["error"]["message"]
    assert third["eventId"] == f"b3-{unique}" and third["topic"] == EVENTS_TOPIC
    assert parse_event((await record_at(kafka, third)).value, 0).event_id == f"b3-{unique}"

    status, body = await api.call("POST", EVENTS, json=[{"eventType": "x"}, {"entityId": "1"}])
    assert status == 422 and [d["index"] for d in body["error"]["details"]] == [0, 1]
    status, body = await api.call("POST", EVENTS, json=[])
    assert status == 422
    too_many = [{"eventType": "x", "entityId": str(i)} for i in range(501)]
    status, body = await api.call("POST", EVENTS, json=too_many)
    assert status == 413 and "500" in body["error"]["message"]


async def test_published_event_is_routed_and_delivered(
    api: ApiClient, worker: WorkerProcess, receiver: Receiver, unique: str
) -> None:
    await live_webhook(
        api, worker, name="api-events", url=f"{receiver.url}/pub", events=[f"pub.{unique}"]
    )
    status, body = await api.call(
        "POST", EVENTS, json={"eventType": f"pub.{unique}", "entityId": "7", "topic": EVENTS_TOPIC}
    )
    assert status == 202, body
    [request] = await receiver.wait_for("/pub")
    assert orjson.loads(request.body)["eventId"] == body["eventId"]


async def test_unreachable_broker_is_503_with_retry_after(
    http: aiohttp.ClientSession, artifacts: Any
) -> None:
    broker = EmbeddedBroker("127.0.0.1", free_port(), log_file=artifacts / "broker-503.log")
    await broker.start()
    settings = Settings(
        kafka_bootstrap_servers=broker.bootstrap, api_tokens=TOKENS, secret_key=SECRET_KEY
    )
    server = ApiServer(create_api_from_settings(settings, Metrics()))
    try:
        await server.start()
        client = ApiClient(server.url, http)
        status, body = await client.call("POST", EVENTS, json={"eventType": "a", "entityId": "1"})
        assert status == 202, body
        await broker.stop()
        async with http.post(
            server.url + EVENTS,
            json={"eventType": "a", "entityId": "2", "topic": "events.elsewhere"},
            headers={"Authorization": "Bearer test-admin-token"},
        ) as response:
            assert response.status == 503
            assert response.headers["Retry-After"].isdigit()
            assert (await response.json())["error"]["code"] == "unavailable"
    finally:
        await server.stop()
        await broker.stop()


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """``python -m hookstream …`` as a child process (never blocking the loop
    that serves the in-process API)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookstream",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
    return {**env, "HOOKSTREAM_DATA_DIR": str(tmp_path), **extra}


async def test_cli_send_event_publishes_and_prints_the_answer(
    api: ApiClient, kafka: str, unique: str, tmp_path: Path
) -> None:
    (tmp_path / "entity.json").write_text(orjson.dumps({"id": 77, "name": unique}).decode())
    code, out, err = await run_cli(
        "send-event",
        f"cli.sent.{unique}",
        "--data",
        f"@{tmp_path / 'entity.json'}",
        "--topic",
        EVENTS_TOPIC,
        "--api-url",
        api.base_url,
        env=cli_env(tmp_path, HOOKSTREAM_TOKEN=PUBLISHER_TOKEN),
    )
    assert code == 0, err
    answer = orjson.loads(out)
    assert answer["topic"] == EVENTS_TOPIC
    record = await record_at(kafka, answer)
    assert record.key == b"77"
    event = parse_event(record.value, 0)
    assert event.event_type == f"cli.sent.{unique}" and event.entity == {"id": 77, "name": unique}


async def test_cli_uses_the_token_file_make_run_wrote(
    api: ApiClient, unique: str, tmp_path: Path
) -> None:
    (tmp_path / "admin.token").write_text(ADMIN_TOKEN + "\n")
    code, out, err = await run_cli(
        "send-event",
        f"cli.file.{unique}",
        "--entity-id",
        "5",
        "--data",
        '{"ok": true}',
        env=cli_env(tmp_path, HOOKSTREAM_API_URL=api.base_url),
    )
    assert code == 0, err
    assert orjson.loads(out)["topic"] == "events.api"


async def test_cli_fails_with_the_api_error_message(api: ApiClient, tmp_path: Path) -> None:
    env = cli_env(tmp_path, HOOKSTREAM_TOKEN=VIEWER_TOKEN)
    code, out, err = await run_cli("send-event", "x.y", "--api-url", api.base_url, env=env)
    assert code != 0 and out == ""
    assert "HTTP 403" in err and "viewer" in err

    env = cli_env(tmp_path, HOOKSTREAM_TOKEN=ADMIN_TOKEN)
    code, _, err = await run_cli("send-event", "bad type", "--api-url", api.base_url, env=env)
    assert code != 0 and "HTTP 422" in err and "eventType" in err
    code, _, err = await run_cli("send-event", "x.y", "--data", "{nope", env=env)
    assert code != 0 and "--data is not valid JSON" in err
    code, _, err = await run_cli("send-event", "x.y", env=cli_env(tmp_path))
    assert code != 0 and "HOOKSTREAM_TOKEN" in err
