"""The stack ``make bench`` and ``make soak`` measure: an embedded broker
(memory, or disk as ``make run`` keeps it), worker and ingress as their own processes, the admin API in this
process, and the receiver (bench/receiver.py) in its own process."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from hookstream.api.app import create_api_from_settings
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import TOKENS, ApiClient, ApiServer
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import SECRET_KEY, WorkerProcess, base_env
from streams.broker import EmbeddedBroker
from streams.kafka import ensure_core_topics
from streams.ports import free_port

EVENTS_TOPIC = "events.bench"
Storage = Literal["memory", "disk"]


def note(text: str) -> None:
    """A progress line (the table comes at the end)."""
    print(f"bench: {text}", flush=True)


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Stack:
    workdir: Path
    broker: EmbeddedBroker
    env: dict[str, str]
    worker: WorkerProcess
    ingress: subprocess.Popen[bytes]
    ingress_url: str
    receiver: str
    session: aiohttp.ClientSession
    api: ApiClient

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def worker_pid(self) -> int:
        assert self.worker.process is not None
        return self.worker.process.pid

    async def received(self) -> int:
        async with self.session.get(f"{self.receiver}/count") as response:
            return int((await response.json())["count"])

    async def receiver_stats(self, prefix: str) -> dict[str, Any]:
        async with self.session.get(f"{self.receiver}/stats", params={"prefix": prefix}) as r:
            return await r.json()  # type: ignore[no-any-return]

    async def forget(self, prefix: str) -> None:
        async with self.session.post(f"{self.receiver}/forget", params={"prefix": prefix}) as r:
            r.raise_for_status()

    async def wait_received(self, target: int, timeout: float = 300) -> float:
        """Until the receiver has seen ``target`` requests; returns that moment."""
        await eventually(
            lambda: self._at_least(target),
            timeout=timeout,
            interval=0.02,
            message=lambda: f"receiver never reached {target} requests",
        )
        return time.monotonic()

    async def _at_least(self, target: int) -> bool:
        return await self.received() >= target

    async def webhook(self, **fields: Any) -> dict[str, Any]:
        webhook = await self.api.create_webhook(**fields)
        await self.worker.wait_knows(webhook, timeout=120)
        return webhook


async def wait_http(session: aiohttp.ClientSession, url: str, timeout: float = 60) -> None:
    async def up() -> bool:
        async with session.get(url) as response:
            return response.status == 200

    await eventually(up, timeout=timeout, interval=0.2, ignoring=(aiohttp.ClientError,))


@asynccontextmanager
async def stack(storage: Storage = "memory", **env_overrides: str) -> AsyncIterator[Stack]:
    """The stack on the embedded broker's ``storage``: memory, or disk (the
    store ``make run`` uses, in a fresh data dir under the work dir)."""
    workdir = Path(tempfile.mkdtemp(prefix="hookstream-bench-"))
    broker = EmbeddedBroker(
        "127.0.0.1",
        free_port(),
        storage=storage,
        data_dir=workdir / "data" if storage == "disk" else None,
        log_file=workdir / "broker.log",
    )
    await broker.start()
    await ensure_core_topics(broker.bootstrap)
    receiver_port = free_port()
    receiver_proc = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(receiver_port)])
    env = base_env(broker.bootstrap, TOKENS) | env_overrides
    worker = WorkerProcess(env, free_port(), workdir / "worker.log")
    ingress_port = free_port()
    ingress = subprocess.Popen(
        [sys.executable, "-m", "hookstream", "ingress"],
        env=env | {"HOOKSTREAM_INGRESS_PORT": str(ingress_port)},
        stdout=(workdir / "ingress.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    settings = Settings(
        kafka_bootstrap_servers=broker.bootstrap,
        api_tokens=TOKENS,
        allow_private_targets=True,
        secret_key=SECRET_KEY,
    )
    api_server = ApiServer(create_api_from_settings(settings, Metrics()))
    try:
        await worker.start(timeout=180)
        await api_server.start()
        connector = aiohttp.TCPConnector(limit=0)
        # No cookie jar, as hookstream's own client (hookstream/delivery/sender.py).
        jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
            receiver = f"http://127.0.0.1:{receiver_port}"
            await wait_http(session, f"{receiver}/count")
            ingress_url = f"http://127.0.0.1:{ingress_port}"
            await wait_http(session, f"{ingress_url}/readyz")
            yield Stack(
                workdir=workdir,
                broker=broker,
                env=env,
                worker=worker,
                ingress=ingress,
                ingress_url=ingress_url,
                receiver=receiver,
                session=session,
                api=ApiClient(api_server.url, session),
            )
    finally:
        await api_server.stop()
        await worker.stop()
        for proc in (ingress, receiver_proc):
            proc.terminate()
            proc.wait(timeout=15)
        await broker.stop()
        shutil.rmtree(workdir / "data", ignore_errors=True)  # a long run's disk data


# The load generator sends as soon as it is asked (linger 0, as hookstream's
# own producers and Java clients before Kafka 4.0): event→2xx is then
# hookstream's and the broker's time. A producer that lingers (librdkafka and
# Kafka 4.0 clients: 5 ms) adds up to its linger to every event's latency.
LOAD_LINGER_MS = 0


class EventProducer:
    """Domain events to ``events.bench`` (or ``topic``), each entity stamped
    with ``sentAt`` so the receiver can measure event→2xx (``stamp=False``:
    history whose later redelivery is not event→2xx, bench/replay.py)."""

    def __init__(
        self, bootstrap: str, entities: int = 997, *, topic: str = EVENTS_TOPIC, stamp: bool = True
    ) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=LOAD_LINGER_MS
        )
        self._topic = topic
        self._stamp = stamp
        # Deliveries of one entity are made one at a time (per-entity order), so
        # the load spreads over many entities, as real traffic does.
        self._entities = entities
        self._sent = 0

    async def __aenter__(self) -> EventProducer:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, event_type: str, count: int, prefix: str) -> list[asyncio.Future[Any]]:
        """Queue ``count`` events; returns their acknowledgements."""
        acks = []
        for i in range(count):
            self._sent += 1
            entity_id = str(self._sent % self._entities)
            entity: dict[str, Any] = {"n": i, "sentAt": time.time()} if self._stamp else {"n": i}
            event = {
                "eventId": f"{prefix}-{i}",
                "eventType": event_type,
                "entityId": entity_id,
                "entity": entity,
            }
            acks.append(
                await self._producer.send(
                    self._topic, key=entity_id.encode(), value=orjson.dumps(event)
                )
            )
        return acks

    async def send_and_wait(self, event_type: str, count: int, prefix: str) -> None:
        await asyncio.gather(*await self.send(event_type, count, prefix))
