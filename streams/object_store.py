"""The local S3-compatible object store under the embedded broker's durable
storage: hookstream's own (streams/s3_server.py over streams/object_log.py),
one process on 127.0.0.1 started and stopped with the broker.

Why its own: Tansu's ``s3://`` engine turns each produce into a conditional
write of the partition's watermark plus one object per batch, and each fetch
into a listing of the partition's batches plus a read of each, so the store's
cost per request is the broker's cost per request. Measured side by side
(docs/performance.md, "the durable store"), alocals3 0.3.0 spent ~4 ms and
SeaweedFS ~1 ms of CPU per request, which put a ceiling on `make run` far
below the memory broker; appending to a segment file and answering from an
index in memory costs a fraction of that."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from streams.child_process import PidFile, spawn, terminate
from streams.topics import QUEUE_PATTERN

log = logging.getLogger(__name__)

BUCKET = "tansu"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
PID_FILE = "object-store.pid"
STORE_DIR = "object-log"
# What earlier versions kept in the data dir (alocals3; SeaweedFS in
# "store"): not read any more.
LEGACY_STORE_FILES = ("meta.db", "objects", "store")


class ObjectStoreError(RuntimeError):
    pass


def store_pid_file(data_dir: Path) -> PidFile:
    return PidFile(data_dir / PID_FILE, "object store")


class ObjectStore:
    """The store process on ``data_dir/object-log``; ``port`` is its S3 endpoint."""

    def __init__(self, data_dir: Path, port: int, log_file: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self.pid_file = store_pid_file(data_dir)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._process

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def root(self) -> Path:
        return self.data_dir / STORE_DIR

    def broker_env(self) -> dict[str, str]:
        """What Tansu needs to use this store. Credentials must be present (any
        value): without them the AWS SDK goes looking for a cloud metadata address.
        The store has no identities configured, so it accepts any."""
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": "hookstream",
            "AWS_SECRET_ACCESS_KEY": "hookstream-local",
            "AWS_DEFAULT_REGION": "local",
            "AWS_ALLOW_HTTP": "true",
        }

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streams.s3_server",
            f"--dir={self.root.resolve()}",
            f"--port={self.port}",
            f"--queues={QUEUE_PATTERN}",
        ]

    def _warn_about_legacy_data(self) -> None:
        if any((self.data_dir / name).exists() for name in LEGACY_STORE_FILES):
            log.warning(
                "data dir %s also holds data of an object store hookstream used before "
                "(alocals3's meta.db and objects/, SeaweedFS's store/); it is no longer read. "
                "`make reset` erases it.",
                self.data_dir,
            )

    async def start(self) -> None:
        """Start the store. Call only under the data dir lock: a store an earlier
        run left running on this data dir is stopped first."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._warn_about_legacy_data()
        try:
            await self.pid_file.stop_leftover(STOP_TIMEOUT)
        except OSError as exc:
            raise ObjectStoreError(f"could not stop a leftover object store: {exc}") from None
        argv = self.command()
        if self._log_file is None:
            self._process = spawn(argv, output=subprocess.DEVNULL)
        else:
            with self._log_file.open("ab") as out:
                self._process = spawn(argv, output=out)
        self.pid_file.record(self._process, argv)
        try:
            await self._create_bucket()
        except ObjectStoreError:
            await self.stop()
            raise

    async def _create_bucket(self) -> None:
        """Tansu reports ready without a bucket, then fails every metadata
        write; the S3 gateway answers only once its filer is up."""
        deadline = time.monotonic() + READY_TIMEOUT
        last: object = None
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise ObjectStoreError(f"object store exited with {self._process.returncode}")
                try:
                    async with session.put(f"{self.endpoint}/{BUCKET}") as response:
                        if response.status in (200, 409):  # 409: exists already
                            return
                        last = f"HTTP {response.status}"
                except aiohttp.ClientError as exc:
                    last = exc
                await asyncio.sleep(0.2)
        raise ObjectStoreError(f"object store on port {self.port} not ready: {last}")

    async def stop(self) -> None:
        await terminate(self._process, timeout=STOP_TIMEOUT)
        if self._process is not None:
            self.pid_file.clear()

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
