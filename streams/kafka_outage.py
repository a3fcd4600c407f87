"""Kafka outages, told in a few lines, and retried with a backoff that grows.

aiokafka (0.14) has no ``reconnect_backoff_ms``: each loop of each client
(fetcher, group coordinator, metadata, sender) tries a broker that refuses
connections again every ``retry_backoff_ms`` (100 ms) and logs every failure
at ERROR. With the broker gone for 30 s, ``make run``'s three processes wrote
11 679 lines (1.8 MB, ~390 a second), which buried everything else.

:func:`install`, called once per process by the command line, puts three
things in place:

* every connection aiokafka opens goes through :func:`_connect` (it replaces
  ``aiokafka.client.create_conn``, which bootstrap and every later connection
  use). After a failed connection to ``host:port``, further attempts to that
  address fail at once ("backing off") until a backoff has passed; the
  backoff doubles from FIRST_BACKOFF to MAX_BACKOFF with ±20 % jitter, as the
  Java client's ``reconnect.backoff.ms`` / ``reconnect.backoff.max.ms`` do.
  It is shared by every client of the process, only one attempt at a time
  goes out, and the first success resets it;
* :class:`Reachability` logs one line when an address becomes unreachable,
  one every STILL_EVERY seconds while it stays so ("still unreachable for N s
  (M attempts)"), and one when a connection succeeds again;
* :class:`QuietWhileUnreachable`, a filter on the process's log handler
  (``hookstream/logs.py``), holds back aiokafka's own warnings and errors
  while an address is unreachable; the periodic and the final line say how
  many. A record with a traceback is never held back.

Nothing is lost by either: clients keep retrying what they retried before
(sends wait or fail as they did, consumers resume from their positions), only
less often, and readiness still follows the broker (``/readyz`` probes it).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiokafka.client
from aiokafka.errors import KafkaConnectionError, KafkaError

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 1.0
JITTER = 0.2
# While an address stays unreachable, one line this often.
STILL_EVERY = 30.0


def _jitter() -> float:
    return random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - spreading retries, not security


@dataclass
class _Down:
    """One unreachable address."""

    since: float
    error: str
    attempts: int = 1
    backoff: float = FIRST_BACKOFF
    next_attempt: float = 0.0
    reported: float = 0.0


class Reachability:
    """Which broker addresses this process cannot connect to, since when, how
    often it tried; and when it may try each again."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = _jitter,
        every: float = STILL_EVERY,
    ) -> None:
        self._clock = clock
        self._jitter = jitter
        self._every = every
        self._down: dict[str, _Down] = {}
        # aiokafka log records not written while something is unreachable.
        self.held_back = 0

    def unreachable(self) -> list[str]:
        """The addresses unreachable now."""
        return sorted(self._down)

    @property
    def outage(self) -> bool:
        """Whether some address is unreachable now."""
        return bool(self._down)

    def may_try(self, address: str) -> float:
        """0 if a connection to ``address`` may be tried now (and then no other
        until this one has failed or succeeded), else the seconds to wait."""
        down = self._down.get(address)
        if down is None:
            return 0.0
        now = self._clock()
        if now < down.next_attempt:
            return down.next_attempt - now
        down.next_attempt = now + down.backoff  # the attempt under way holds the slot
        return 0.0

    def failed(self, address: str, error: BaseException) -> None:
        now = self._clock()
        down = self._down.get(address)
        if down is None:
            down = self._down[address] = _Down(since=now, reported=now, error=_describe(error))
            log.warning(
                "kafka unreachable: broker=%s error=%s; retrying every %.1f-%.0fs, "
                "client errors held back until it is back",
                address,
                down.error,
                FIRST_BACKOFF,
                MAX_BACKOFF,
            )
        else:
            down.attempts += 1
            down.error = _describe(error)
            down.backoff = min(down.backoff * 2, MAX_BACKOFF)
            if now - down.reported >= self._every:
                down.reported = now
                log.warning(
                    "kafka still unreachable: broker=%s for %.0fs (%d attempts, "
                    "%d client log lines held back) error=%s",
                    address,
                    now - down.since,
                    down.attempts,
                    self.held_back,
                    down.error,
                )
        down.next_attempt = now + down.backoff * self._jitter()

    def connected(self, address: str) -> None:
        down = self._down.pop(address, None)
        if down is None:
            return
        log.info(
            "kafka reachable again: broker=%s after %.0fs (%d attempts, %d client log lines "
            "held back)",
            address,
            self._clock() - down.since,
            down.attempts,
            self.held_back,
        )
        if not self._down:
            self.held_back = 0


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


class QuietWhileUnreachable(logging.Filter):
    """Holds back aiokafka's warnings and errors (not tracebacks) while a
    broker address is unreachable; counts them in ``reachability``."""

    def __init__(self, reachability: Reachability) -> None:
        super().__init__()
        self._reachability = reachability

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._reachability.outage or record.exc_info:
            return True
        if record.name != "aiokafka" and not record.name.startswith("aiokafka."):
            return True
        self._reachability.held_back += 1
        return False


REACHABILITY = Reachability()
_original_create_conn: Callable[..., Any] | None = None


async def _connect(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
    """``aiokafka.client.create_conn`` with the backoff and the reachability log."""
    assert _original_create_conn is not None
    address = f"{host}:{port}"
    wait = REACHABILITY.may_try(address)
    if wait > 0:
        raise KafkaConnectionError(f"{address} unreachable; backing off for {wait:.1f}s")
    try:
        conn = await _original_create_conn(host, port, *args, **kwargs)
    except (TimeoutError, OSError, KafkaError) as exc:  # what aiokafka's callers catch
        REACHABILITY.failed(address, exc)
        raise
    REACHABILITY.connected(address)
    return conn


def install() -> None:
    """Route aiokafka's connections through :func:`_connect` (idempotent)."""
    global _original_create_conn  # noqa: PLW0603 - one patch per process
    if _original_create_conn is None:
        _original_create_conn = aiokafka.client.create_conn
        aiokafka.client.create_conn = _connect


def log_filter() -> QuietWhileUnreachable:
    """The handler filter, for ``logging.config.dictConfig`` (``"()"``)."""
    return QuietWhileUnreachable(REACHABILITY)
