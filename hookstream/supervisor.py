"""``hookstream run`` (behind ``make run``): the embedded broker unless
``KAFKA_BOOTSTRAP_SERVERS`` is set, topics, then the worker, api and ingress
as child processes.

Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop the children first and
the broker last, within SUPERVISOR_DEADLINE whatever Kafka's state; a second
signal kills everything and exits at once (hookstream/stopping.py). Every
child runs in its own session (a terminal's signals reach only this process)
and gets a signal from the kernel if this process dies in any other way
(SIGKILL, OOM killer), so nothing is orphaned: SIGTERM, which it obeys
within its own deadline, or SIGKILL; see :func:`death_signal` and
streams/child_process.py. An embedded broker that dies is started again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping

from hookstream.secret_box import load_or_create_key
from hookstream.settings import Settings, local_url
from hookstream.stopping import STOP_DEADLINE, StopDeadline
from streams.broker import BrokerError, EmbeddedBroker, disk_usage, wait_until_serving
from streams.child_process import spawn as spawn_child
from streams.child_process import terminate
from streams.kafka import ensure_core_topics
from streams.ports import port_in_use

log = logging.getLogger("hookstream.run")

# Each child exits by itself within STOP_DEADLINE of its SIGTERM; one that
# has not a second later is killed. The embedded broker stops after them, and
# whatever still runs SUPERVISOR_DEADLINE after the signal is killed.
CHILD_STOP_TIMEOUT = STOP_DEADLINE + 1
SUPERVISOR_DEADLINE = STOP_DEADLINE + 3
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 - a file name, not a token
PROCESSES = ("worker", "api", "ingress")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def embedded_broker(settings: Settings) -> EmbeddedBroker:
    """The broker ``make run`` embeds when KAFKA_BOOTSTRAP_SERVERS is unset."""
    host, _, port = settings.bootstrap_servers.partition(":")
    return EmbeddedBroker(
        host,
        int(port),
        storage=settings.embedded_storage,
        data_dir=settings.data_dir,
        log_file=settings.data_dir / "broker.log" if settings.embedded_storage == "disk" else None,
        retention=settings.retention_ms,
    )


def spawn(
    command: str, env: Mapping[str, str], death_signal: int = signal.SIGTERM
) -> subprocess.Popen[bytes]:
    """``hookstream <command>``; its output stays on our terminal."""
    return spawn_child(
        [sys.executable, "-m", "hookstream", command], env=env, death_signal=death_signal
    )


def death_signal(embedded: bool) -> int:
    """What a child gets from the kernel if this process dies without stopping
    it. With the embedded broker, the broker and its store get SIGTERM at that
    same moment, so a graceful stop would talk to a broker that is going away
    (and only wait out its deadline): SIGKILL, which loses nothing (offsets
    are committed only after the work is done). With an external Kafka,
    SIGTERM lets each child finish and commit, within its STOP_DEADLINE."""
    return signal.SIGKILL if embedded else signal.SIGTERM


async def stop_children(children: dict[str, subprocess.Popen[bytes]]) -> bool:
    """All at once: each finishes its in-flight work and commits its offsets.
    True if every one did (exit code 0)."""
    await asyncio.gather(
        *(terminate(child, timeout=CHILD_STOP_TIMEOUT) for child in children.values())
    )
    unclean = {name: child.returncode for name, child in children.items() if child.returncode}
    for name, code in unclean.items():
        log.warning("process=%s stopped with exit code %s", name, code)
    return not unclean


def embedded_note(settings: Settings) -> str:
    if not settings.uses_embedded_broker:
        return ""
    if settings.embedded_storage == "memory":
        return "  (embedded, in memory: forgotten on stop)"
    size = disk_usage(settings.data_dir) / 1e6
    return f"  (embedded, {size:,.1f} MB in {settings.data_dir}; `make reset` erases it)"


def banner(settings: Settings, token: str, bootstrap: str, generated: bool) -> str:
    api = settings.api_url.rstrip("/")
    worker = local_url(settings.bind_host, settings.worker_port)
    lines = [
        "",
        "hookstream is running",
        f"  console     {api}/ui/",
        f"  admin API   {api}/api/v1",
        f"  OpenAPI     {api}/api/v1/openapi.json",
        f"  ingress     {settings.public_url.rstrip('/')}/hooks/<listenerId>",
        f"  metrics     {api}/metrics  worker: {worker}/metrics",
        f"  kafka       {bootstrap}{embedded_note(settings)}",
    ]
    if generated:
        lines.append(f"  admin token {token}")
        lines.append(f"  try: curl -H 'Authorization: Bearer {token}' {api}/api/v1/webhooks")
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


class StopRequest:
    """Ctrl-C, SIGTERM and SIGHUP all mean "stop everything, in order". During
    start-up the signal cancels the start so the same clean-up runs at once.
    A second signal, or SUPERVISOR_DEADLINE passing, runs ``kill_everything``
    and exits (hookstream/stopping.py)."""

    def __init__(self, kill_everything: Callable[[], None]) -> None:
        self.event = asyncio.Event()
        self.deadline = StopDeadline(SUPERVISOR_DEADLINE, before_exit=kill_everything)
        self._task = asyncio.current_task()
        self._starting = True
        self._loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            self._loop.add_signal_handler(sig, self._on_signal, sig)

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def _on_signal(self, sig: int) -> None:
        if not self.deadline.signalled(sig):
            return
        self.event.set()
        if self._starting and self._task is not None:
            self._task.cancel()

    def started(self) -> None:
        """From here on a signal only sets the event (clean-up is never cut short)."""
        self._starting = False

    def close(self) -> None:
        self.deadline.cancel()
        for sig in STOP_SIGNALS:
            self._loop.remove_signal_handler(sig)


async def run_all(settings: Settings) -> int:
    taken = busy_ports(settings)
    if taken:
        log.error(
            "ports already in use: %s. Is hookstream already running? Stop it or set other ports.",
            ", ".join(taken),
        )
        return 1
    broker: EmbeddedBroker | None = None
    children: dict[str, subprocess.Popen[bytes]] = {}

    def kill_everything() -> None:
        for child in children.values():
            if child.poll() is None:
                child.kill()
        if broker is not None:
            broker.kill()

    stop = StopRequest(kill_everything)
    env = dict(os.environ)
    code = 1
    try:
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
        await wait_until_serving(bootstrap)
        await ensure_core_topics(bootstrap, settings.replication_factor, settings.retry_tiers)
        generated = settings.api_tokens is None
        # Kept in the data dir, so scripts using it survive a restart.
        token = load_or_create_key(settings.data_dir, ADMIN_TOKEN_FILE)
        if generated:
            env["HOOKSTREAM_API_TOKENS"] = f"{token}:admin"
        for name in PROCESSES:
            children[name] = spawn(name, env, death_signal(broker is not None))
        print(banner(settings, token, bootstrap, generated), flush=True)  # noqa: T201
        stop.started()
        code = await _supervise(children, broker, stop, settings)
    except asyncio.CancelledError:
        if not stop.requested:
            raise
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        log.info("stopped during start-up")
        code = 0
    finally:
        stop.started()
        children_stopped = await stop_children(children)
        if broker is not None:
            await broker.stop()
        stop.close()
    # Non-zero when a child could not finish its work and commit (Kafka gone).
    return code if children_stopped else 1


async def _supervise(
    children: dict[str, subprocess.Popen[bytes]],
    broker: EmbeddedBroker | None,
    stop: StopRequest,
    settings: Settings,
) -> int:
    """Until a stop signal (0), or a child exits on its own (1). An embedded
    broker on disk that dies is started again on the same port and data; the
    children reconnect by themselves. In memory it took every topic with it,
    so everything stops."""
    while not stop.requested:
        for name, child in children.items():
            code = child.poll()
            if code is not None:
                log.error("process=%s exited with code %s; stopping everything", name, code)
                return 1
        code = broker.exited() if broker is not None else None
        if broker is not None and code is not None:
            if settings.embedded_storage == "memory":
                log.error(
                    "embedded broker (in memory) exited with code %s; stopping everything", code
                )
                return 1
            log.error("embedded broker exited with code %s; starting it again", code)
            try:
                await broker.restart()
            except BrokerError as exc:
                log.error("embedded broker did not come back: %s; stopping everything", exc)  # noqa: TRY400
                return 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.event.wait(), timeout=0.5)
    log.info("stopping")
    return 0
