"""With an external Kafka that went away first (a cluster restart, any stop
order), every process still exits within 30 s of SIGTERM, non-zero because it
could not commit; a second SIGTERM exits at once; and the children of
``hookstream run`` never outlive it, even when it is killed. Before, the
worker retried for minutes, ignored further SIGTERMs, and orphaned by a
killed supervisor it kept its port (the next ``make run`` said
"ports already in use")."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.receiver import Receiver
from hookstream.testing.run_process import Proc, RunProcess
from streams.broker import EmbeddedBroker
from streams.ports import free_port, port_in_use

CONTRACT = 30.0  # seconds from SIGTERM to exit, every process, whatever Kafka's state
# "At once": well before the orderly stop's 18 s budget would run out.
AT_ONCE = 10.0


async def kafka_gone_with_work_in_flight(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> tuple[RunProcess, list[Proc]]:
    """``hookstream run`` on a broker of its own, deliveries under way to a slow
    endpoint, then the broker killed: the worker holds finished work it can
    no longer commit. Returns the run and its worker, api and ingress."""
    broker = EmbeddedBroker("127.0.0.1", free_port(), log_file=tmp_path / "broker.log")
    await broker.start()
    receiver = Receiver()
    receiver.delay = 3.0  # attempts finish after the broker is gone
    await receiver.start()
    run = RunProcess(
        {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}, tmp_path / "data", tmp_path / "run.log"
    )
    try:
        await run.start()
        children = run.remember_processes()
        assert len(children) == 3, children  # worker, api, ingress
        webhook = await ApiClient(run.api_url, http).create_webhook(
            name="slow", url=f"{receiver.url}/{unique}", events=[f"stop.{unique}"]
        )
        await eventually(lambda: run.worker_knows(webhook), timeout=60, interval=0.2)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        for i in range(20):
            event = {"eventId": f"{unique}-{i}", "eventType": f"stop.{unique}", "entityId": str(i)}
            await producer.send_and_wait(
                f"events.{unique}", key=str(i).encode(), value=orjson.dumps(event)
            )
        await producer.stop()
        await receiver.wait_for(f"/{unique}", count=1, timeout=60)

        broker.kill()

        async def all_unready() -> bool:
            return all(status == 503 for status in (await run.readiness()).values())

        await eventually(all_unready, timeout=30, message="every process sees Kafka gone")
        return run, children
    except BaseException:
        await run.stop()
        raise
    finally:
        await receiver.stop()


@pytest.fixture
async def gone(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> AsyncIterator[tuple[RunProcess, list[Proc]]]:
    run, children = await kafka_gone_with_work_in_flight(tmp_path, http, unique)
    try:
        yield run, children
    finally:
        await run.stop()


async def exit_time(procs: list[Proc], since: float, timeout: float = 2 * CONTRACT) -> float:
    """Seconds from ``since`` until none of ``procs`` is alive (checked by pid
    and start time)."""
    await eventually(
        lambda: not any(proc.alive() for proc in procs),
        timeout=timeout,
        interval=0.2,
        message=lambda: f"survivors: {[proc for proc in procs if proc.alive()]}",
    )
    return time.monotonic() - since


def ports_free(run: RunProcess) -> bool:
    return not any(
        port_in_use("127.0.0.1", port) for port in (run.api_port, run.ingress_port, run.worker_port)
    )


async def test_sigterm_stops_everything_within_30s_and_says_it_could_not_commit(
    gone: tuple[RunProcess, list[Proc]],
) -> None:
    run, children = gone
    supervisor = Proc.of(run.pid, "hookstream run")
    assert supervisor is not None

    run.send_signal(signal.SIGTERM)
    signalled = time.monotonic()

    code = await run.wait_exit(timeout=2 * CONTRACT)
    took = time.monotonic() - signalled
    assert took <= CONTRACT, f"hookstream run took {took:.1f}s to exit"
    assert code == 1, run.log_text()[-3000:]  # could not commit: not a clean stop
    assert not any(child.alive() for child in children), "a child outlived hookstream run"
    assert ports_free(run)
    log = run.log_text()
    assert "process=worker stopped with exit code 1" in log
    assert "stopping while kafka is unreachable" in log


async def test_a_second_sigterm_exits_at_once(gone: tuple[RunProcess, list[Proc]]) -> None:
    run, children = gone
    run.send_signal(signal.SIGTERM)
    # The worker's stop is under way (faust's own line).
    await eventually(lambda: "Signal received: 15" in run.log_text(), timeout=10, interval=0.1)

    run.send_signal(signal.SIGTERM)
    again = time.monotonic()

    assert await run.wait_exit(timeout=2 * CONTRACT) != 0
    took = time.monotonic() - again
    assert took <= AT_ONCE, f"hookstream run took {took:.1f}s after the second SIGTERM"
    assert not any(child.alive() for child in children), "a child outlived hookstream run"
    assert "received SIGTERM again: exiting now" in run.log_text()


async def test_the_children_of_a_killed_supervisor_exit_within_30s(
    gone: tuple[RunProcess, list[Proc]],
) -> None:
    """The kernel's death signal (SIGTERM with an external Kafka) reaches each
    child: worker, api and ingress each stop alone, with Kafka gone."""
    run, children = gone
    run.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    assert await run.wait_exit() == -signal.SIGKILL

    took = await exit_time(children, killed)
    assert took <= CONTRACT, f"the children took {took:.1f}s to exit"
    assert ports_free(run)
    log = run.log_text()
    for child in children:
        assert f"pid={child.pid} logger=hookstream.stopping received SIGTERM: stopping" in log
