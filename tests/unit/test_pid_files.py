"""Pid files recognise only the process they recorded: a recycled pid or a
different program is never signalled."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookstream.testing.eventually import eventually
from streams.child_process import PidFile, Recorded, runs_command, spawn

SLEEP = ["sleep", "300"]


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = spawn(SLEEP, output=subprocess.DEVNULL)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_recorded_process_is_recognised(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pid_file = PidFile(tmp_path / "x.pid", "sleeper")
    pid_file.record(sleeper, SLEEP)
    recorded = pid_file.read()
    assert recorded is not None and recorded.pid == sleeper.pid
    assert recorded.is_alive_and_ours()


async def test_a_leftover_is_stopped_and_its_pid_file_removed(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pid_file = PidFile(tmp_path / "x.pid", "sleeper")
    pid_file.record(sleeper, SLEEP)
    assert await pid_file.stop_leftover(timeout=10)
    await eventually(lambda: sleeper.poll() is not None, timeout=10)
    assert sleeper.returncode == -signal.SIGTERM
    assert not pid_file.path.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"startTime": 1},  # the pid was recycled by a later process
        {"argv": ["sleep", "301"]},  # same pid, another command line
        {"argv": ["tansu", "broker"]},
    ],
)
async def test_another_process_with_the_recorded_pid_is_left_alone(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], change: dict[str, object]
) -> None:
    pid_file = PidFile(tmp_path / "x.pid", "sleeper")
    pid_file.record(sleeper, SLEEP)
    data = json.loads(pid_file.path.read_text()) | change
    pid_file.path.write_text(json.dumps(data))

    assert not await pid_file.stop_leftover(timeout=10)
    assert sleeper.poll() is None
    assert not pid_file.path.exists()  # stale record: dropped


async def test_a_dead_process_or_garbage_is_no_leftover(tmp_path: Path) -> None:
    done = spawn(["true"], output=subprocess.DEVNULL)
    done.wait()
    pid_file = PidFile(tmp_path / "x.pid", "gone")
    pid_file.record(done, ["true"])  # already exited: nothing recorded
    assert pid_file.read() is None
    pid_file.path.write_text("not json")
    assert not await pid_file.stop_leftover(timeout=1)
    assert not Recorded(done.pid, 0, ("true",)).is_alive_and_ours()


def test_a_script_started_through_its_interpreter_matches() -> None:
    argv = ["/venv/bin/some-server", "--port", "1"]
    assert runs_command(["/venv/bin/python3.11", "/venv/bin/some-server", "--port", "1"], argv)
    assert not runs_command(["/venv/bin/python3.11", "/venv/bin/some-server"], argv)
    assert not runs_command(["/usr/bin/other", "--port", "1"], argv)
    assert not runs_command([], argv)
