"""Child processes that never outlive their parent, pid files that recognise a
process left over from an earlier run, and stopping: ask, wait, insist.

Every long-running child (the embedded broker, its object store, the worker,
api and ingress under ``hookstream run``) is started with :func:`spawn`:

* in its own session, so a terminal's Ctrl-C or hang-up reaches only the
  supervisor, which then stops the children in order;
* with ``PR_SET_PDEATHSIG``, so the kernel signals the child when its parent
  dies in any way (SIGKILL, OOM killer) and nothing is orphaned.

A pid file records (pid, start time, argv). A recorded process is "ours" only
if a process with that pid is alive, started at that same moment and runs
that same command line, so a recycled pid is never signalled by mistake.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved once in the parent: after fork only the call is
    made (no library loading in a child of a possibly multi-threaded process)."""
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] | None = getattr(libc, "prctl", None)
    return prctl


_PRCTL = _load_prctl()


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets ``sig`` when its parent dies.

    The kernel fires PDEATHSIG when the parent *thread* that forked the child
    exits, not the whole parent process. hookstream spawns every child from its
    main (event loop) thread, which lives as long as the process, so that is
    the same thing here; never spawn from a short-lived worker thread.

    If the parent died between fork and prctl, the signal would never come:
    the child checks that its parent is still the one that forked it and
    signals itself otherwise. Linux only; elsewhere a no-op.
    """
    parent = os.getpid()
    prctl = _PRCTL

    def preexec() -> None:  # pragma: no cover - runs in the child before exec
        if prctl is None:
            return
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return preexec


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    output: IO[Any] | int | None = None,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, ending with its parent (see module doc).
    ``output`` takes stdout and stderr; None leaves them on ours."""
    return subprocess.Popen(  # noqa: S603 - callers pass fixed, trusted argv
        list(argv),
        env=dict(env) if env is not None else None,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        start_new_session=True,  # Ctrl-C and SIGHUP from the terminal go to the parent only
        preexec_fn=die_with_parent(death_signal),  # noqa: PLW1509 - only sets the death signal
    )


async def terminate(
    process: subprocess.Popen[Any] | None, *, timeout: float, sig: int = signal.SIGTERM
) -> None:
    """Send ``sig``, wait up to ``timeout`` seconds for exit, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if process.poll() is None:
        process.kill()
        process.wait()


def process_start_time(pid: int) -> int | None:
    """Clock ticks after boot at which ``pid`` started, or None if it is gone
    (or a zombie: exited, only waiting for its parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 of proc(5), counted after "state"


def process_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def runs_command(actual: Sequence[str], argv: Sequence[str]) -> bool:
    """Whether a process's command line is ``argv``. A script started through
    its ``#!`` line shows as ``interpreter script args…``, so the program may
    appear as any entry, compared by file name; the arguments must match."""
    if not argv or not actual:
        return False
    program = Path(argv[0]).name
    args = list(argv[1:])
    for i, part in enumerate(actual):
        if Path(part).name == program and list(actual[i + 1 :]) == args:
            return True
    return False


@dataclass(frozen=True)
class Recorded:
    pid: int
    start_time: int
    argv: tuple[str, ...]

    def is_alive_and_ours(self) -> bool:
        if process_start_time(self.pid) != self.start_time:
            return False  # gone, or the pid now belongs to a later process
        actual = process_cmdline(self.pid)
        return actual is not None and runs_command(actual, self.argv)


class PidFile:
    """``DATA_DIR/<name>.pid``: which process serves this data dir right now.

    Only read and written under the data dir lock, so a recorded process that
    is still alive at start-up was left behind by an earlier run."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what  # for log lines: "embedded broker", "object store"

    def record(self, process: subprocess.Popen[Any], argv: Sequence[str]) -> None:
        start = process_start_time(process.pid)
        if start is None:
            return  # already gone: nothing to recognise later
        data = {"pid": process.pid, "startTime": start, "argv": list(argv)}
        tmp = self.path.with_suffix(".pid.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def read(self) -> Recorded | None:
        try:
            data = json.loads(self.path.read_text())
            return Recorded(int(data["pid"]), int(data["startTime"]), tuple(data["argv"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable pid file %s: %r", self.path, exc)
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    async def stop_leftover(self, timeout: float) -> bool:
        """Stop the recorded process if an earlier run left it running (SIGTERM,
        up to ``timeout`` seconds, then SIGKILL). True if one was found."""
        recorded = self.read()
        if recorded is None:
            return False
        if not recorded.is_alive_and_ours():
            self.clear()
            return False
        log.warning(
            "stopping the %s (pid %d) left running by an earlier run on %s",
            self.what,
            recorded.pid,
            self.path.parent,
        )
        await _stop_foreign(recorded, timeout)
        self.clear()
        log.warning("stopped the leftover %s (pid %d)", self.what, recorded.pid)
        return True


async def _stop_foreign(recorded: Recorded, timeout: float) -> None:
    """Stop a process that is not our child (we cannot wait() for it)."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.kill(recorded.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process_start_time(recorded.pid) != recorded.start_time:
                return
            await asyncio.sleep(0.1)
    raise OSError(f"pid {recorded.pid} survived SIGKILL")
