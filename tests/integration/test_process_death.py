"""``hookstream run`` leaves nothing behind however it dies, and a start after a
crash finds its webhooks and undelivered events, even when an earlier run left
its embedded broker and store running."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.receiver import Receiver
from hookstream.testing.run_process import Proc, RunProcess
from streams.broker import EmbeddedBroker, wait_until_serving
from streams.child_process import PidFile
from streams.object_store import BUCKET, ObjectStore
from streams.ports import free_port, port_in_use

# Long enough that nothing is dead-lettered while the endpoint fails.
PATIENT_SCHEDULE = "1s,2s,4s,8s,15s,30s,60s,60s"


def gone(procs: list[Proc]) -> bool:
    return not any(proc.alive() for proc in procs)


async def test_sigkill_of_the_supervisor_leaves_no_process_and_loses_nothing(
    tmp_path: Path, http: aiohttp.ClientSession, unique: str
) -> None:
    receiver = Receiver()
    receiver.status = 500  # the endpoint fails: the event stays undelivered
    await receiver.start()
    env = {"HOOKSTREAM_RETRY_SCHEDULE": PATIENT_SCHEDULE}
    run = RunProcess(env, tmp_path / "data", tmp_path / "run.log")
    again = run.twin()  # same ports, same data dir
    try:
        await run.start()
        processes = run.remember_processes()
        names = {proc.name for proc in processes}
        assert set(run.embedded()) == {"broker", "object-store"}, names
        assert len(processes) >= 5, names  # broker, store, worker, api, ingress

        api = ApiClient(run.api_url, http)
        path = f"/hook-{unique}"
        webhook = await api.create_webhook(
            name="survivor", url=receiver.url + path, events=[f"death.{unique}"]
        )
        await eventually(lambda: run.worker_knows(webhook), timeout=60, interval=0.2)
        producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
        await producer.start()
        event = {"eventId": f"{unique}-1", "eventType": f"death.{unique}", "entityId": "1"}
        await producer.send_and_wait(f"events.{unique}", key=b"1", value=orjson.dumps(event))
        await producer.stop()
        await receiver.wait_for(path, count=1, timeout=60)  # attempted and failed

        run.send_signal(signal.SIGKILL)  # the supervisor only, not its group
        assert await run.wait_exit() == -signal.SIGKILL
        await eventually(
            lambda: gone(processes),
            timeout=60,
            interval=0.2,
            message=lambda: f"orphans: {[p for p in processes if p.alive()]}",
        )
        assert not port_in_use("127.0.0.1", run.broker_port)

        failed_attempts = len(receiver.on_path(path))
        receiver.status = 200
        await again.start()
        status, stored = await ApiClient(again.api_url, http).call(
            "GET", f"/api/v1/webhooks/{webhook['id']}"
        )
        assert status == 200 and stored["name"] == "survivor"
        after = (await receiver.wait_for(path, count=failed_attempts + 1, timeout=120))[
            failed_attempts:
        ]
        assert {orjson.loads(r.body)["eventId"] for r in after} == {event["eventId"]}
    finally:
        await run.stop()
        await again.stop()
        await receiver.stop()


async def test_a_broker_and_store_left_running_by_an_earlier_run_are_stopped_at_start(
    tmp_path: Path,
) -> None:
    """As if an earlier supervisor died before this fix (no death signal): its
    store and broker still run on the data dir and the broker's port."""
    data_dir = tmp_path / "data"
    run = RunProcess({}, data_dir, tmp_path / "run.log")
    store = ObjectStore(data_dir, free_port())
    await store.start()
    argv = EmbeddedBroker("127.0.0.1", run.broker_port).command(f"s3://{BUCKET}/")
    with (tmp_path / "stale-broker.log").open("ab") as out:
        stale = subprocess.Popen(
            argv,
            env=os.environ | store.broker_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    PidFile(data_dir / "broker.pid", "embedded broker").record(stale, argv)
    store_process = store.process
    assert store_process is not None
    try:
        await wait_until_serving(f"127.0.0.1:{run.broker_port}")

        await run.start()

        assert stale.poll() is not None, "the leftover broker still runs"
        assert store_process.poll() is not None, "the leftover store still runs"
        log = run.log_text()
        assert f"embedded broker (pid {stale.pid}) left running by an earlier run" in log
        assert f"object store (pid {store_process.pid}) left running by an earlier run" in log
        embedded = run.embedded()
        assert embedded["broker"].pid != stale.pid
        assert embedded["object-store"].pid != store_process.pid
    finally:
        await run.stop()
        for process in (stale, store_process):
            if process.poll() is None:
                process.kill()
                process.wait()


async def test_a_dead_embedded_broker_is_restarted_and_sighup_stops_everything(
    tmp_path: Path,
) -> None:
    """The supervisor starts a broker that died again (same port, same data),
    and a closed terminal (SIGHUP) stops everything in order, as Ctrl-C does."""
    run = RunProcess({}, tmp_path / "data", tmp_path / "run.log")
    try:
        await run.start()
        first = run.embedded()["broker"]
        os.kill(first.pid, signal.SIGKILL)

        async def replaced() -> bool:
            broker = run.embedded().get("broker")
            return broker is not None and broker != first and await run.all_ready()

        await eventually(replaced, timeout=90, interval=0.5, message="a new broker, all ready")
        assert "embedded broker exited with code -9; starting it again" in run.log_text()
        processes = run.remember_processes()
        assert set(run.embedded()) == {"broker", "object-store"}

        run.signal_group(signal.SIGHUP)  # as a closed terminal does

        assert await run.wait_exit() == 0, run.log_text()[-2000:]
        assert gone(processes), [p for p in processes if p.alive()]
        assert "received SIGHUP: stopping" in run.log_text()
        assert not (run.data_dir / "broker.pid").exists()
        assert not (run.data_dir / "object-store.pid").exists()
    finally:
        await run.stop()


async def test_a_signal_during_start_up_stops_what_was_started(tmp_path: Path) -> None:
    run = RunProcess(
        {"HOOKSTREAM_EMBEDDED_STORAGE": "memory"}, tmp_path / "data", tmp_path / "run.log"
    )
    try:
        run.launch()
        await eventually(lambda: "broker" in run.embedded(), timeout=60, interval=0.1)
        processes = run.remember_processes()

        run.signal_group(signal.SIGINT)  # Ctrl-C before it is ready

        assert await run.wait_exit() == 0, run.log_text()[-2000:]
        assert processes and gone(processes), [p for p in processes if p.alive()]
        assert not (run.data_dir / "broker.pid").exists()
        assert "hookstream is running" not in run.log_text()
    finally:
        await run.stop()
