"""How every hookstream process stops: in order when asked, within a deadline
whatever Kafka's state, and at once when asked twice.

The first SIGTERM or SIGINT starts the process's orderly stop: finish the
work in flight, commit offsets, close the clients. With Kafka gone those
steps wait for answers that never come (aiokafka retries a commit until it
finds the group coordinator, a producer's stop waits for its queued batches),
so:

* the orderly stop gets STOP_BUDGET seconds (:func:`stop_within`); then the
  rest is left undone and the process exits by itself, non-zero;
* STOP_DEADLINE seconds after the first signal, a timer thread (which works
  even if the event loop is stuck) logs why, flushes the logs and ends the
  process with ``os._exit(EXIT_UNCLEAN)``;
* a second SIGTERM or SIGINT does the same at once.

A process also exits non-zero when Kafka is unreachable as it stops: what it
had not got acknowledged or committed could not be, and is done again by the
next process (at-least-once; receivers dedupe on the stable delivery id).

25 s keeps every process under the 30 s that ``hookstream run`` and
Kubernetes (``terminationGracePeriodSeconds``) give it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from streams.kafka import broker_reachable
from streams.kafka_outage import REACHABILITY

log = logging.getLogger(__name__)

STOP_DEADLINE = 25.0
# The orderly stop's share: the framework's own shutdown (faust's takes about
# 2 s) comes after it, and all of it before STOP_DEADLINE.
STOP_BUDGET = 18.0
# How long an HTTP request in flight may still take once the server stops.
REQUEST_GRACE = 10.0
EXIT_UNCLEAN = 1
PROBE_TIMEOUT = 1.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Timer(Protocol):
    daemon: bool

    def start(self) -> None: ...

    def cancel(self) -> None: ...


def flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except (OSError, ValueError):  # a closed stream: nothing more to do
            continue
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            continue


class StopDeadline:
    """The rules above for one process. ``before_exit`` runs just before a
    forced exit (the supervisor kills its children there)."""

    def __init__(
        self,
        seconds: float = STOP_DEADLINE,
        *,
        before_exit: Callable[[], None] = lambda: None,
        exit: Callable[[int], Any] = os._exit,  # noqa: A002 - the thing it replaces
        timer: Callable[[float, Callable[[], None]], Timer] = threading.Timer,
    ) -> None:
        self.seconds = seconds
        self.before_exit = before_exit
        self._exit = exit
        self._new_timer = timer
        self._timer: Timer | None = None

    @property
    def stopping(self) -> bool:
        return self._timer is not None

    def signalled(self, sig: int) -> bool:
        """Call on every stop signal. True on the first (stop in order; the
        deadline runs from now); on a later one the process exits at once."""
        name = signal.Signals(sig).name
        if self._timer is None:
            log.info(
                "received %s: stopping (at most %.0fs; a second signal exits at once)",
                name,
                self.seconds,
            )
            self._timer = self._new_timer(self.seconds, self._expired)
            self._timer.daemon = True
            self._timer.start()
            return True
        self.exit_now(f"received {name} again: exiting now")
        return False

    def _expired(self) -> None:
        self.exit_now(f"still not stopped {self.seconds:.0f}s after the signal: exiting now")

    def exit_now(self, why: str) -> None:
        log.error("%s; work done but not committed is done again after a restart", why)
        try:
            self.before_exit()
        except Exception:
            log.exception("could not clean up before exiting")
        flush_logs()
        self._exit(EXIT_UNCLEAN)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


async def kafka_unreachable_at_exit() -> bool:
    """Whether Kafka is unreachable as the process stops (logged if so): the
    last connection attempt failed and the address refuses connections now
    (it may have come back since, the clients waiting out their backoff)."""
    unreachable = [
        address
        for address in REACHABILITY.unreachable()
        if not await broker_reachable(address, timeout=PROBE_TIMEOUT)
    ]
    if unreachable:
        log.warning(
            "stopping while kafka is unreachable (broker=%s): what was not acknowledged or "
            "committed is done again by the next process",
            ",".join(unreachable),
        )
    return bool(unreachable)


async def stop_within(stop: Awaitable[bool], *, what: str, budget: float = STOP_BUDGET) -> bool:
    """Await ``stop`` (an orderly stop; True when it finished everything) for at
    most ``budget`` seconds. True only if it finished in time and said so, and
    Kafka is reachable."""
    try:
        async with asyncio.timeout(budget):
            finished = await stop
    except TimeoutError:
        log.error("%s: stopping took over %.0fs; leaving the rest undone", what, budget)  # noqa: TRY400
        finished = False
    return not await kafka_unreachable_at_exit() and finished


async def serve(app: web.Application, host: str, port: int, *, what: str) -> int:
    """Run an aiohttp app until SIGTERM or SIGINT, with the rules above (in
    place of ``web.run_app``, whose handler ignores a second signal and whose
    clean-up waits for Kafka without end). 0 when it stopped in order, else
    EXIT_UNCLEAN."""
    deadline = StopDeadline()
    stopping = asyncio.Event()
    main = asyncio.current_task()
    serving = False

    def on_signal(sig: int) -> None:
        if not deadline.signalled(sig):
            return
        stopping.set()
        if not serving and main is not None:
            main.cancel()  # still starting (waiting for Kafka, perhaps): stop that

    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    # aiohttp lets requests in flight finish for 60 s by default.
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=REQUEST_GRACE
    )
    code = EXIT_UNCLEAN
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        serving = True
        await stopping.wait()
    except asyncio.CancelledError:
        if not stopping.is_set() or main is None:
            raise
        main.uncancel()
        log.info("%s: stopped during start-up", what)
    finally:

        async def clean_up() -> bool:
            await runner.cleanup()
            return True

        code = 0 if await stop_within(clean_up(), what=what) else EXIT_UNCLEAN
    return code
