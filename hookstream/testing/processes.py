"""hookstream processes started the way operators start them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from hookstream.testing.eventually import eventually
from streams.child_process import terminate
from streams.topics import SLOT_COUNT

# Short delays so retry tests finish quickly: 1 attempt + 3 retries.
RETRY_SCHEDULE = "1s,1s,2s"
SECRET_KEY = "test-secret-key"
# Small, so a test can see a tenant's hanging endpoints reach the cap and stop there.
TENANT_MAX_IN_FLIGHT = 8


class WorkerProcess:
    """``python -m hookstream worker`` as a real child process."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = env | {"HOOKSTREAM_WORKER_PORT": str(port)}
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 90.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hookstream", "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        """Until ``/readyz`` answers 200; fails at once if the process exits."""
        async with aiohttp.ClientSession() as session:

            async def ready() -> bool:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"worker exited early; see {self.log_path}")
                async with session.get(f"{self.url}/readyz") as response:
                    return response.status == 200

            await eventually(
                ready,
                timeout=timeout,
                interval=0.3,
                ignoring=(aiohttp.ClientError,),
                message=f"worker not ready; see {self.log_path}",
            )

    async def status(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/internal/status") as r,
        ):
            return await r.json()  # type: ignore[no-any-return]

    async def wait_knows(
        self, item: dict[str, Any], timeout: float = 30.0, table: str = "webhooks"
    ) -> None:
        """Until the worker's table (``webhooks`` or ``flows``) holds this
        version of the item."""

        async def knows() -> bool:
            known = (await self.status()).get(table, {})
            return bool(known.get(item["id"]) == item["updatedAt"])

        await eventually(
            knows,
            timeout=timeout,
            interval=0.1,
            message=f"worker never saw {table} {item['id']} at {item['updatedAt']}",
        )

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as session, session.get(f"{self.url}/metrics") as r:
            return await r.text()

    async def metric(self, sample: str, **labels: str) -> float:
        """Sum of the ``sample`` series (e.g. ``hookstream_deliveries_total``)
        whose labels include ``labels``; 0.0 when there is none yet."""
        total = 0.0
        for family in text_string_to_metric_families(await self.metrics()):
            for s in family.samples:
                if s.name == sample and labels.items() <= s.labels.items():
                    total += s.value
        return total

    async def stop(self) -> None:
        await terminate(self.process, timeout=30.0)

    async def kill(self) -> None:
        await terminate(self.process, timeout=10.0, sig=signal.SIGKILL)


def base_env(bootstrap: str, tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "HOOKSTREAM_API_TOKENS": tokens,
            "HOOKSTREAM_ALLOW_PRIVATE_TARGETS": "true",
            "HOOKSTREAM_DELIVERY_TIMEOUT": "3",
            "HOOKSTREAM_RETRY_SCHEDULE": RETRY_SCHEDULE,
            "HOOKSTREAM_SECRET_KEY": SECRET_KEY,
            "HOOKSTREAM_TENANT_MAX_IN_FLIGHT": str(TENANT_MAX_IN_FLIGHT),
            "HOOKSTREAM_TOPIC_REFRESH_SECONDS": "2",
            "HOOKSTREAM_EMBEDDED_STORAGE": "memory",
        }
    )
    return env


async def wait_slots_split(
    workers: list[WorkerProcess], timeout: float = 90.0
) -> list[dict[str, Any]]:
    """Until, for every role, the workers running it hold disjoint, non-empty
    shares of all the slots (membership rebalances are over); returns each
    worker's status."""

    async def split() -> list[dict[str, Any]] | None:
        statuses = [await worker.status() for worker in workers]
        roles = {role for status in statuses for role in status["slots"]}
        for role in roles:
            shares = [set(status["slots"][role]) for status in statuses if role in status["slots"]]
            held = sum(len(share) for share in shares)
            if not all(shares) or held != SLOT_COUNT or len(set().union(*shares)) != SLOT_COUNT:
                return None
        return statuses

    return await eventually(split, timeout=timeout, message="the workers never split the slots")


async def wait_all_slots(worker: WorkerProcess, timeout: float = 120.0) -> None:
    """Until ``worker`` holds every slot of each of its roles again (the
    others have left and the membership rebalances are over)."""

    async def all_back() -> bool:
        slots = (await worker.status())["slots"]
        return all(len(share) == SLOT_COUNT for share in slots.values())

    await eventually(all_back, timeout=timeout, message="the slots never came back")


def delivery_partitions(status: dict[str, Any], webhook_ids: list[str]) -> set[str]:
    """The delivery partitions of these webhooks a worker's status says it consumes."""
    return {
        tp
        for tp in status["partitions"].get("deliver_webhooks", ())
        if any(f".{webhook_id}[" in tp for webhook_id in webhook_ids)
    }
