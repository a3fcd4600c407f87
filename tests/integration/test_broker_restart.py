"""The broker dies (SIGKILL) and comes back on the same port and data while
events flow: the worker, api and ingress reconnect by themselves, the ingress
says 503 (never 202) while nothing can be stored, and no event is lost."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import keyed, read_records, values
from hookstream.testing.receiver import Receiver
from hookstream.testing.run_process import RunProcess
from streams.broker import EmbeddedBroker
from streams.ports import free_port
from streams.topics import FLOW_TRIGGERS


@dataclass
class Traffic:
    """What the test's producer and webhook sender got back."""

    acked: list[str] = field(default_factory=list)  # event ids the broker acknowledged
    send_errors: int = 0
    answers: list[tuple[int, str | None, dict[str, Any]]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def accepted(self) -> list[str]:
        return [body["deliveryId"] for status, _, body in self.answers if status == 202]

    def refused(self) -> list[tuple[int, str | None, dict[str, Any]]]:
        return [answer for answer in self.answers if answer[0] != 202]


async def produce(bootstrap: str, topic: str, event_type: str, traffic: Traffic) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000)
    await producer.start()
    try:
        i = 0
        while not traffic.stop.is_set():
            event = {"eventId": f"{event_type}-{i}", "eventType": event_type, "entityId": str(i)}
            try:
                await producer.send_and_wait(topic, key=str(i).encode(), value=orjson.dumps(event))
                traffic.acked.append(event["eventId"])
            except KafkaError:
                traffic.send_errors += 1  # not stored as far as we know: not required
            i += 1
            await asyncio.sleep(0.1)  # a steady trickle, not a wait for anything
    finally:
        await producer.stop()


async def post_webhooks(url: str, traffic: Traffic) -> None:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while not traffic.stop.is_set():
            async with http.post(url, json={"n": len(traffic.answers)}) as response:
                body = await response.json(content_type=None)
                traffic.answers.append((response.status, response.headers.get("Retry-After"), body))
            await asyncio.sleep(0.1)


async def assert_every_event_delivered(receiver: Receiver, path: str, traffic: Traffic) -> None:
    """Every acknowledged event reaches the endpoint (duplicates allowed)."""

    def delivered() -> set[str]:
        return {orjson.loads(r.body)["eventId"] for r in receiver.on_path(path)}

    await eventually(
        lambda: set(traffic.acked) <= delivered(),
        timeout=90,
        interval=0.5,
        message=lambda: f"undelivered: {sorted(set(traffic.acked) - delivered())}",
    )
    delivery_ids = {receiver.header(r, "X-Etl-Webhook-Event-Id") for r in receiver.on_path(path)}
    assert len(delivery_ids) == len(delivered())  # one stable delivery id per event


async def assert_every_accepted_webhook_stored(
    bootstrap: str, listener_id: str, traffic: Traffic
) -> None:
    """A 202 only for what is on the topic; every refusal a 503 with Retry-After."""
    for status, retry_after, body in traffic.refused():
        assert status == 503, body
        assert retry_after is not None and body["error"]["code"] == "unavailable"
    accepted = traffic.accepted()
    stored = values(
        await read_records(
            bootstrap, FLOW_TRIGGERS, where=keyed(listener_id), count=len(accepted), timeout=60
        )
    )
    assert set(accepted) <= {trigger["deliveryId"] for trigger in stored}


async def test_everything_reconnects_after_the_broker_is_killed_and_restarted(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> None:
    broker = EmbeddedBroker(
        "127.0.0.1",
        free_port(),
        storage="disk",  # survives the kill; memory storage would lose everything
        data_dir=tmp_path / "broker",
        log_file=tmp_path / "broker.log",
    )
    await broker.start()
    receiver = Receiver()
    await receiver.start()
    run = RunProcess(
        {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}, tmp_path / "data", tmp_path / "run.log"
    )
    traffic = Traffic()
    tasks: list[asyncio.Task[None]] = []
    try:
        await run.start()
        api = ApiClient(run.api_url, http)
        path = f"/hook-{unique}"
        event_type = f"restart.{unique}"
        webhook = await api.create_webhook(
            name="restart", url=receiver.url + path, events=[event_type]
        )
        status, listener = await api.call("POST", "/api/v1/listeners", json={"name": unique})
        assert status == 201, listener
        await eventually(lambda: run.worker_knows(webhook), timeout=60, interval=0.2)
        hook_url = f"{run.ingress_url}/hooks/{listener['id']}"

        tasks = [
            asyncio.create_task(produce(broker.bootstrap, f"events.{unique}", event_type, traffic)),
            asyncio.create_task(post_webhooks(hook_url, traffic)),
        ]
        # Flowing end to end (a disk-backed broker on a busy machine can take a
        # while to start serving a brand-new topic: the bound is generous).
        await receiver.wait_for(path, count=3, timeout=120)
        await eventually(traffic.accepted, timeout=30, message="ingress accepts")

        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGKILL)
        await eventually(lambda: broker.exited() is not None, timeout=10)
        answered = len(traffic.answers)
        await eventually(
            lambda: any(status == 503 for status, _, _ in traffic.answers[answered:]),
            timeout=60,
            message="the ingress answers 503 while the broker is down",
        )

        async def all_unready() -> bool:
            return all(status == 503 for status in (await run.readiness()).values())

        await eventually(all_unready, timeout=30, message="readyz follows the broker down")

        await broker.restart()
        await eventually(run.all_ready, timeout=90, interval=0.5, message="readyz back to 200")
        acked_before = len(traffic.acked)
        accepted_before = len(traffic.accepted())
        await eventually(
            lambda: (
                len(traffic.acked) >= acked_before + 5
                and len(traffic.accepted()) >= accepted_before + 2
            ),
            timeout=60,
            message="events and webhooks accepted after the restart",
        )
        traffic.stop.set()
        await asyncio.gather(*tasks)

        await assert_every_event_delivered(receiver, path, traffic)
        await assert_every_accepted_webhook_stored(broker.bootstrap, listener["id"], traffic)
    finally:
        traffic.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await run.stop()
        await receiver.stop()
        await broker.stop()
