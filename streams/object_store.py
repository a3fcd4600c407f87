"""The local S3-compatible object store (``alocals3``) under the embedded
broker's durable storage: objects on local disk with fsync, a SQLite index,
and the conditional writes Tansu relies on for concurrent producers."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from streams.child_process import PidFile, spawn, terminate

log = logging.getLogger(__name__)

BUCKET = "tansu"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PID_FILE = "object-store.pid"


class ObjectStoreError(RuntimeError):
    pass


def store_pid_file(data_dir: Path) -> PidFile:
    return PidFile(data_dir / PID_FILE, "object store")


def _tool(name: str) -> str:
    """A console script installed beside this interpreter."""
    return str(Path(sys.executable).parent / name)


class ObjectStore:
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
        return f"http://127.0.0.1:{self.port}/s3"

    @property
    def _objects(self) -> Path:
        return self.data_dir / "objects"

    @property
    def _database_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'meta.db').resolve()}"

    def broker_env(self) -> dict[str, str]:
        """What Tansu needs to use this store. Credentials must be present (any
        value): without them the AWS SDK goes looking for a cloud metadata address."""
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": "hookstream",
            "AWS_SECRET_ACCESS_KEY": "hookstream-local",
            "AWS_DEFAULT_REGION": "local",
            "AWS_ALLOW_HTTP": "true",
        }

    def collect_garbage(self) -> None:
        """Delete object versions nothing points to any more (store stopped)."""
        if not (self.data_dir / "meta.db").exists():
            return
        env = os.environ | {
            "ALOCALS3_DATABASE_URL": self._database_url,
            "ALOCALS3_STORAGE_ROOT": str(self._objects.resolve()),
        }
        result = subprocess.run(  # noqa: S603 - our own installed tool
            [_tool("alocals3-gc"), "--apply"],
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            log.warning("object store gc failed: %s", result.stderr.decode(errors="replace")[-500:])

    async def start(self) -> None:
        """Start the store. Call only under the data dir lock: a store an earlier
        run left running on this data dir is stopped first."""
        self._objects.mkdir(parents=True, exist_ok=True)
        try:
            await self.pid_file.stop_leftover(STOP_TIMEOUT)
        except OSError as exc:
            raise ObjectStoreError(f"could not stop a leftover object store: {exc}") from None
        await asyncio.to_thread(self.collect_garbage)
        argv = [
            _tool("alocals3-server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-root",
            str(self._objects.resolve()),
            "--database-url",
            self._database_url,
            "--log-level",
            "WARNING",
        ]
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
        """Tansu reports ready without a bucket, then fails every metadata write."""
        deadline = time.monotonic() + READY_TIMEOUT
        last: object = None
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise ObjectStoreError(f"object store exited with {self._process.returncode}")
                try:
                    async with session.put(f"{self.endpoint}/{BUCKET}") as response:
                        if response.status in (200, 201, 409):  # 409: exists already
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
