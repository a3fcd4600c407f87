"""``hookstream run`` (behind ``make run``): the embedded broker unless
``KAFKA_BOOTSTRAP_SERVERS`` is set, topics, then the worker and API as child
processes. Ctrl-C stops the children first and the broker last; children are
also told to exit if this process dies (no orphans)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping

from hookstream.secret_box import load_or_create_key
from hookstream.settings import Settings
from streams.broker import BrokerError, EmbeddedBroker, port_in_use, wait_until_serving
from streams.child_process import terminate
from streams.kafka import ensure_core_topics

log = logging.getLogger("hookstream.run")

CHILD_STOP_TIMEOUT = 20.0
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 - a file name, not a token
PROCESSES = ("worker", "api", "ingress")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def embedded_broker(settings: Settings) -> EmbeddedBroker:
    """The broker ``make run`` embeds when KAFKA_BOOTSTRAP_SERVERS is unset."""
    host, _, port = settings.bootstrap_servers.partition(":")
    return EmbeddedBroker(
        host,
        int(port or 9092),
        storage=settings.embedded_storage,
        data_dir=settings.data_dir,
        log_file=settings.data_dir / "broker.log" if settings.embedded_storage == "disk" else None,
    )


def spawn(command: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "hookstream", command],
        env=dict(env),
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets the death signal
    )


async def stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """All at once: each finishes its in-flight work and commits its offsets."""
    await asyncio.gather(
        *(terminate(child, timeout=CHILD_STOP_TIMEOUT) for child in children.values())
    )


def embedded_note(settings: Settings) -> str:
    if not settings.uses_embedded_broker:
        return ""
    if settings.embedded_storage == "memory":
        return "  (embedded, in memory: forgotten on stop)"
    return f"  (embedded, data in {settings.data_dir}; `make reset` erases it)"


def banner(settings: Settings, token: str, bootstrap: str, generated: bool) -> str:
    lines = [
        "",
        "hookstream is running",
        f"  admin API   {settings.api_url}/api/v1",
        f"  OpenAPI     {settings.api_url}/api/v1/openapi.json",
        f"  ingress     {settings.public_url}/hooks/<listenerId>",
        f"  metrics     {settings.api_url}/metrics"
        f"  worker: http://127.0.0.1:{settings.worker_port}/metrics",
        f"  kafka       {bootstrap}{embedded_note(settings)}",
    ]
    if generated:
        lines.append(f"  admin token {token}")
        lines.append(
            f"  try: curl -H 'Authorization: Bearer {token}' {settings.api_url}/api/v1/webhooks"
        )
    else:
        lines.append("  tokens      from HOOKSTREAM_API_TOKENS")
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines)


def busy_ports(settings: Settings) -> list[str]:
    wanted = {
        "HOOKSTREAM_API_PORT": settings.api_port,
        "HOOKSTREAM_WORKER_PORT": settings.worker_port,
        "HOOKSTREAM_INGRESS_PORT": settings.ingress_port,
    }
    return [f"{name}={port}" for name, port in wanted.items() if port_in_use("127.0.0.1", port)]


async def run_all(settings: Settings) -> int:
    taken = busy_ports(settings)
    if taken:
        log.error(
            "ports already in use: %s. Is hookstream already running? Stop it or set other ports.",
            ", ".join(taken),
        )
        return 1
    broker: EmbeddedBroker | None = None
    env = dict(os.environ)
    if settings.uses_embedded_broker:
        broker = embedded_broker(settings)
        try:
            await broker.start()
        except BrokerError as exc:
            log.error("%s", exc)  # noqa: TRY400 - the message is the whole story
            return 1
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", settings.bootstrap_servers)
    if settings.secret_key is None:
        # Resolve the at-rest key once so every child uses the same one.
        env["HOOKSTREAM_SECRET_KEY"] = load_or_create_key(settings.data_dir)
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        await wait_until_serving(bootstrap)
        await ensure_core_topics(bootstrap, settings.replication_factor, settings.retry_tiers)
        generated = settings.api_tokens is None
        # Kept in the data dir, so scripts using it survive a restart.
        token = load_or_create_key(settings.data_dir, ADMIN_TOKEN_FILE)
        if generated:
            env["HOOKSTREAM_API_TOKENS"] = f"{token}:admin"
        for name in PROCESSES:
            children[name] = spawn(name, env)
        print(banner(settings, token, bootstrap, generated), flush=True)  # noqa: T201
        return await _wait_for_exit(children)
    finally:
        await stop_children(children)
        if broker is not None:
            await broker.stop()


async def _wait_for_exit(children: dict[str, subprocess.Popen[bytes]]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        for name, child in children.items():
            code = child.poll()
            if code is not None:
                log.error("process=%s exited with code %s; stopping everything", name, code)
                return 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
    log.info("stopping")
    return 0
