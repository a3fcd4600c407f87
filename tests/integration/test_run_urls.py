"""``HOOKSTREAM_API_PORT=… HOOKSTREAM_INGRESS_PORT=… make run`` without
HOOKSTREAM_API_URL or HOOKSTREAM_PUBLIC_URL: the banner, the listener URLs and
every delivery's entityUrl name the ports in use (they said 8000 and 8080),
and the banner shows the console."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.receiver import Receiver
from hookstream.testing.run_process import RunProcess


async def test_the_default_urls_follow_the_ports(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> None:
    receiver = Receiver()
    await receiver.start()
    run = RunProcess(
        {"HOOKSTREAM_EMBEDDED_STORAGE": "memory"}, tmp_path / "data", tmp_path / "run.log"
    )
    for name in ("HOOKSTREAM_API_URL", "HOOKSTREAM_PUBLIC_URL"):
        run.env.pop(name, None)  # only the ports are set, as an operator would
    api_base = f"http://127.0.0.1:{run.api_port}"
    ingress_base = f"http://127.0.0.1:{run.ingress_port}"
    try:
        await run.start()
        await eventually(lambda: "Ctrl-C stops everything." in run.log_text(), timeout=10)
        banner = run.log_text()
        assert f"  console     {api_base}/ui/\n" in banner
        assert f"  admin API   {api_base}/api/v1\n" in banner
        assert f"  ingress     {ingress_base}/hooks/<listenerId>\n" in banner
        assert f"worker: http://127.0.0.1:{run.worker_port}/metrics" in banner
        async with http.get(f"{api_base}/ui/") as console:
            assert console.status == 200

        api = ApiClient(run.api_url, http)
        status, listener = await api.call("POST", "/api/v1/listeners", json={"name": unique})
        assert status == 201, listener
        assert listener["url"] == f"{ingress_base}/hooks/{listener['id']}"

        path = f"/hook-{unique}"
        webhook = await api.create_webhook(
            name="urls", url=receiver.url + path, events=[f"order.{unique}"]
        )
        await eventually(lambda: run.worker_knows(webhook), timeout=60, interval=0.2)
        producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
        await producer.start()
        try:
            event = {"eventId": f"{unique}-1", "eventType": f"order.{unique}", "entityId": "42"}
            await producer.send_and_wait(f"events.{unique}", key=b"42", value=orjson.dumps(event))
        finally:
            await producer.stop()
        delivered = (await receiver.wait_for(path, count=1, timeout=60))[0]
        assert orjson.loads(delivered.body)["entityUrl"] == f"{api_base}/api/v1/entities/order/42"
    finally:
        await run.stop()
        await receiver.stop()
