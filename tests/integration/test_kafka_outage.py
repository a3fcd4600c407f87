"""Kafka goes away for a while under ``hookstream run`` (an external broker,
killed): each process says so in a few lines instead of aiokafka's hundreds a
second (11 679 lines in 30 s before), tries to reconnect with a backoff that
grows to a second, says when Kafka is back, and is ready again."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

from hookstream.testing.eventually import eventually
from hookstream.testing.run_process import RunProcess
from streams.broker import EmbeddedBroker
from streams.kafka_outage import STILL_EVERY
from streams.ports import free_port

# Held open past the first "still unreachable" line.
OUTAGE = STILL_EVERY + 5
# The contract: about a line a second per process while Kafka is away.
LINES_PER_SECOND = 1.0
SLACK = 10  # lines around the moment it goes (stops in flight, readiness)

PID = re.compile(r"\bpid=(\d+) ")
ATTEMPTS = re.compile(r"kafka still unreachable: broker=\S+ for (\d+)s \((\d+) attempts")


def lines_by_pid(lines: list[str]) -> Counter[int]:
    """Log lines per process; a line without a pid (a traceback's) counts for
    the line above it."""
    counts: Counter[int] = Counter()
    last = 0
    for line in lines:
        found = PID.search(line)
        if found:
            last = int(found.group(1))
        counts[last] += 1
    return counts


def of(pid: int, lines: list[str], text: str) -> list[str]:
    return [line for line in lines if f"pid={pid} " in line and text in line]


async def test_an_outage_costs_each_process_about_a_line_a_second(tmp_path: Path) -> None:
    broker = EmbeddedBroker(
        "127.0.0.1",
        free_port(),
        storage="disk",  # comes back with its topics
        data_dir=tmp_path / "broker",
        log_file=tmp_path / "broker.log",
    )
    await broker.start()
    run = RunProcess(
        {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}, tmp_path / "data", tmp_path / "run.log"
    )
    try:
        await run.start()
        children = [proc.pid for proc in run.remember_processes()]
        assert len(children) == 3  # worker, api, ingress
        processes = [run.pid, *children]
        before = len(run.log_text().splitlines())

        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGKILL)
        went = time.monotonic()
        await eventually(lambda: broker.exited() is not None, timeout=10)

        async def all_unready() -> bool:
            return all(status == 503 for status in (await run.readiness()).values())

        await eventually(all_unready, timeout=30, message="readyz follows the broker down")
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - went)))  # the outage itself
        window = time.monotonic() - went
        during = run.log_text().splitlines()[before:]

        await broker.restart()
        await eventually(run.all_ready, timeout=90, interval=0.5, message="ready again")

        counts = lines_by_pid(during)
        bound = window * LINES_PER_SECOND + SLACK
        assert all(counts[pid] <= bound for pid in processes), (
            f"{dict(counts)} lines in {window:.0f}s (at most {bound:.0f} each): {during[-30:]}"
        )
        for pid in children:
            assert len(of(pid, during, "kafka unreachable: broker=")) == 1, during
            still = of(pid, during, "kafka still unreachable: broker=")
            assert still, during
            # The backoff: attempts grow to one a second, not ten a second per loop.
            for line in still:
                found = ATTEMPTS.search(line)
                assert found, line
                seconds, attempts = map(int, found.groups())
                assert attempts <= 2 * seconds + 10, line

        def back() -> bool:
            text = run.log_text().splitlines()[before:]
            return all(of(pid, text, "kafka reachable again: broker=") for pid in children)

        await eventually(back, timeout=30, message="each process says Kafka is back")
    finally:
        await run.stop()
        await broker.stop()
