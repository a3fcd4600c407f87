"""``python -m hookstream run`` as a real child, the way ``make run`` starts it,
on its own data dir and free ports, and a look at the processes under it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from hookstream.testing.api import TOKENS
from hookstream.testing.eventually import eventually
from streams.child_process import PidFile, process_start_time
from streams.ports import free_port

START_TIMEOUT = 180.0


@dataclass(frozen=True)
class Proc:
    """A process seen at one moment: alive while its pid keeps that start time."""

    pid: int
    start_time: int
    name: str

    def alive(self) -> bool:
        return process_start_time(self.pid) == self.start_time

    @classmethod
    def of(cls, pid: int, name: str) -> Proc | None:
        start = process_start_time(pid)
        return None if start is None else cls(pid, start, name)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(pid: int) -> list[Proc]:
    """Every living process below ``pid`` (children, grandchildren…)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: list[Proc] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            name = Path(f"/proc/{child}/comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        proc = Proc.of(child, name)
        if proc is not None:
            found.append(proc)
        todo += children.get(child, [])
    return found


class RunProcess:
    """``hookstream run`` in its own process group, with the embedded broker
    unless ``env`` sets KAFKA_BOOTSTRAP_SERVERS. Ports are picked once, so a
    second start after a crash finds everything where it was."""

    def __init__(self, env: dict[str, str], data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.api_port = free_port()
        self.ingress_port = free_port()
        self.worker_port = free_port()
        self.broker_port = free_port()
        clean = {k: v for k, v in env.items() if not k.startswith("HOOKSTREAM_")}
        clean = {k: v for k, v in clean.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        self.env = (
            clean
            | {
                "HOOKSTREAM_DATA_DIR": str(data_dir),
                "HOOKSTREAM_API_TOKENS": TOKENS,
                "HOOKSTREAM_ALLOW_PRIVATE_TARGETS": "true",
                "HOOKSTREAM_TOPIC_REFRESH_SECONDS": "2",
                "HOOKSTREAM_DELIVERY_TIMEOUT": "3",
                "HOOKSTREAM_EMBEDDED_STORAGE": "disk",
            }
            | {k: v for k, v in env.items() if k.startswith("HOOKSTREAM_")}
            | {
                "HOOKSTREAM_API_PORT": str(self.api_port),
                "HOOKSTREAM_API_URL": f"http://127.0.0.1:{self.api_port}",
                "HOOKSTREAM_INGRESS_PORT": str(self.ingress_port),
                "HOOKSTREAM_PUBLIC_URL": f"http://127.0.0.1:{self.ingress_port}",
                "HOOKSTREAM_WORKER_PORT": str(self.worker_port),
                "HOOKSTREAM_EMBEDDED_PORT": str(self.broker_port),
            }
        )
        if "KAFKA_BOOTSTRAP_SERVERS" in env:
            self.env["KAFKA_BOOTSTRAP_SERVERS"] = env["KAFKA_BOOTSTRAP_SERVERS"]
        self.process: subprocess.Popen[bytes] | None = None
        self._seen: set[Proc] = set()

    def twin(self) -> RunProcess:
        """Another ``hookstream run`` with this one's data dir, ports and env
        (to start after this one died)."""
        twin = RunProcess({}, self.data_dir, self.log_path)
        for name in ("api_port", "ingress_port", "worker_port", "broker_port"):
            setattr(twin, name, getattr(self, name))
        twin.env = dict(self.env)
        return twin

    @property
    def bootstrap(self) -> str:
        return self.env.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{self.broker_port}")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.worker_port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        self.launch()
        await self.wait_ready(timeout)
        self.remember_processes()

    def launch(self) -> None:
        """Start it and return at once (``start`` also waits until it is ready)."""
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hookstream", "run"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                process_group=0,  # its own group, as a shell job would be
            )

    async def readiness(self) -> dict[str, int | None]:
        """/readyz status of api, ingress and worker (None: not answering)."""
        found: dict[str, int | None] = {}
        timeout = aiohttp.ClientTimeout(total=3)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for name, url in (
                ("api", self.api_url),
                ("ingress", self.ingress_url),
                ("worker", self.worker_url),
            ):
                try:
                    async with session.get(f"{url}/readyz") as response:
                        found[name] = response.status
                except (aiohttp.ClientError, TimeoutError):
                    found[name] = None
        return found

    async def all_ready(self) -> bool:
        return all(status == 200 for status in (await self.readiness()).values())

    async def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        async def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"hookstream run exited with {self.process.returncode}; see {self.log_path}"
                )
            return await self.all_ready()

        await eventually(
            ready, timeout=timeout, interval=0.5, message=f"hookstream run ready ({self.log_path})"
        )

    def remember_processes(self) -> list[Proc]:
        """The processes under the supervisor now (kept for clean-up)."""
        found = descendants(self.pid)
        self._seen.update(found)
        self._seen.update(self.embedded().values())
        return found

    def embedded(self) -> dict[str, Proc]:
        """The embedded broker and object store, as their pid files record them."""
        found: dict[str, Proc] = {}
        for name in ("broker", "object-store"):
            recorded = PidFile(self.data_dir / f"{name}.pid", name).read()
            if recorded is not None:
                proc = Proc.of(recorded.pid, name)
                if proc is not None and proc.start_time == recorded.start_time:
                    found[name] = proc
        return found

    async def worker_knows(self, webhook: dict[str, Any]) -> bool:
        timeout = aiohttp.ClientTimeout(total=3)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{self.worker_url}/internal/status") as response,
        ):
            status = await response.json()
        return bool(status.get("webhooks", {}).get(webhook["id"]) == webhook["updatedAt"])

    def send_signal(self, sig: int) -> None:
        """To the supervisor only, not its group."""
        os.kill(self.pid, sig)

    def signal_group(self, sig: int) -> None:
        """To its process group, as a terminal does for Ctrl-C or a hang-up."""
        os.killpg(self.pid, sig)

    async def wait_exit(self, timeout: float = 60.0) -> int:
        assert self.process is not None
        process = self.process
        await eventually(
            lambda: process.poll() is not None,
            timeout=timeout,
            interval=0.2,
            message="hookstream run to exit",
        )
        return process.returncode

    async def stop(self) -> None:
        """Clean-up after a test, whatever state it left: SIGTERM the supervisor,
        then SIGKILL anything seen under it that is still alive."""
        if self.process is not None and self.process.poll() is None:
            self.remember_processes()
            self.process.send_signal(signal.SIGTERM)
            try:
                await self.wait_exit(timeout=60)
            except AssertionError:
                self.process.kill()
                self.process.wait()
        for proc in self._seen:
            if proc.alive():
                os.kill(proc.pid, signal.SIGKILL)
