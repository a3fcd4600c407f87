"""Regression (issue 13): on a fresh ``hookstream run`` (disk storage, as
``make run``), a webhook and events on a topic nobody has used yet are
delivered exactly once each — no routing batch replayed, nothing delivered
twice, and the catalogue (event types) written beside the deliveries."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.receiver import Receiver
from hookstream.testing.run_process import RunProcess

EVENTS = 3


async def worker_metric(http: aiohttp.ClientSession, run: RunProcess, name: str) -> float:
    async with http.get(f"{run.worker_url}/metrics") as response:
        text = await response.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def test_fresh_run_new_topic_every_event_once(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> None:
    receiver = Receiver()
    await receiver.start()
    run = RunProcess({}, tmp_path / "data", tmp_path / "run.log")
    try:
        await run.start()
        api = ApiClient(run.api_url, http)
        path = f"/orders-{unique}"
        webhook = await api.create_webhook(
            name="orders", url=receiver.url + path, events=["order.created"]
        )
        await eventually(lambda: run.worker_knows(webhook), timeout=60, interval=0.2)
        producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
        await producer.start()
        try:
            # One event, wait for it, then the rest: the second event on a new
            # topic is where the stall and the replayed batch showed up.
            for n in range(EVENTS):
                event = {
                    "eventId": f"{unique}-{n}",
                    "eventType": "order.created",
                    "entityId": "42",
                    "entity": {"n": n},
                }
                await producer.send_and_wait(
                    f"events.orders{unique}", key=b"42", value=orjson.dumps(event)
                )
                await receiver.wait_for(path, count=n + 1, timeout=90)
        finally:
            await producer.stop()

        # Same entity, one partition: in order, and each exactly once.
        received = receiver.on_path(path)
        assert [orjson.loads(r.body)["eventId"] for r in received] == [
            f"{unique}-{n}" for n in range(EVENTS)
        ]
        assert await worker_metric(http, run, "hookstream_deliveries_routed_total") == EVENTS
        assert "replaying" not in run.log_text()
        assert "NotLeaderForPartition" not in run.log_text()

        async def event_type_recorded() -> bool:
            status, body = await api.call("GET", "/api/v1/event-types")
            return status == 200 and any(t["eventType"] == "order.created" for t in body["data"])

        await eventually(event_type_recorded, timeout=30)
    finally:
        await run.stop()
        await receiver.stop()
