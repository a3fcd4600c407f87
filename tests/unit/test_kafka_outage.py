"""While a broker is unreachable: a few lines instead of aiokafka's hundreds a
second, and connection attempts that back off (streams/kafka_outage.py)."""

from __future__ import annotations

import logging
from typing import Any

import aiokafka.client
import pytest
from aiokafka.errors import KafkaConnectionError

from streams import kafka_outage
from streams.kafka_outage import (
    FIRST_BACKOFF,
    MAX_BACKOFF,
    STILL_EVERY,
    QuietWhileUnreachable,
    Reachability,
)

BROKER = "10.0.0.1:9092"
REFUSED = ConnectionRefusedError(111, "Connect call failed")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == kafka_outage.__name__]


def aiokafka_record(name: str = "aiokafka", *, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, "Unable to update", (), exc_info)


def test_an_outage_is_three_kinds_of_line_however_many_attempts_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, kafka_outage.__name__)
    clock = Clock()
    reach = Reachability(clock=clock, jitter=lambda: 1.0)
    for _ in range(100):  # 100 failed attempts over 50 s
        reach.failed(BROKER, REFUSED)
        clock.now += 0.5
    reach.connected(BROKER)

    lines = outage_lines(caplog)
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"kafka unreachable: broker={BROKER} error=")
    assert "Connect call failed" in lines[0]
    assert lines[1].startswith(f"kafka still unreachable: broker={BROKER} for 30s (61 attempts")
    assert lines[2].startswith(f"kafka reachable again: broker={BROKER} after 50s (100 attempts")
    assert reach.unreachable() == []


def test_the_still_unreachable_line_comes_every_period(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, kafka_outage.__name__)
    clock = Clock()
    reach = Reachability(clock=clock, jitter=lambda: 1.0)
    for _ in range(int(3 * STILL_EVERY) + 1):
        reach.failed(BROKER, REFUSED)
        clock.now += 1.0
    still = [line for line in outage_lines(caplog) if line.startswith("kafka still")]
    assert len(still) == 3


def test_attempts_back_off_from_a_tenth_of_a_second_to_a_second() -> None:
    clock = Clock()
    reach = Reachability(clock=clock, jitter=lambda: 1.0)
    assert reach.may_try(BROKER) == 0  # never failed: go ahead
    waits = []
    for _ in range(8):
        reach.failed(BROKER, REFUSED)
        waits.append(reach.may_try(BROKER))
        clock.now += waits[-1]
        assert reach.may_try(BROKER) == 0
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0])
    assert waits[0] == pytest.approx(FIRST_BACKOFF) and max(waits) == MAX_BACKOFF


def test_one_attempt_at_a_time_once_the_backoff_has_passed() -> None:
    clock = Clock()
    reach = Reachability(clock=clock, jitter=lambda: 1.0)
    reach.failed(BROKER, REFUSED)
    clock.now += 1.0
    assert reach.may_try(BROKER) == 0  # this caller tries
    assert reach.may_try(BROKER) > 0  # the others wait for its outcome


def test_a_success_resets_the_backoff() -> None:
    clock = Clock()
    reach = Reachability(clock=clock, jitter=lambda: 1.0)
    for _ in range(5):
        reach.failed(BROKER, REFUSED)
    reach.connected(BROKER)
    assert reach.may_try(BROKER) == 0
    reach.failed(BROKER, REFUSED)
    assert reach.may_try(BROKER) == pytest.approx(FIRST_BACKOFF)


def test_each_address_has_its_own_state(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, kafka_outage.__name__)
    reach = Reachability(clock=Clock(), jitter=lambda: 1.0)
    reach.failed("a:9092", REFUSED)
    reach.failed("b:9092", REFUSED)
    reach.connected("a:9092")
    assert reach.unreachable() == ["b:9092"]
    assert reach.may_try("a:9092") == 0
    assert len(outage_lines(caplog)) == 3


def test_aiokafka_records_are_held_back_and_counted_only_during_an_outage() -> None:
    reach = Reachability(clock=Clock())
    quiet = QuietWhileUnreachable(reach)
    assert quiet.filter(aiokafka_record())
    reach.failed(BROKER, REFUSED)
    assert not quiet.filter(aiokafka_record("aiokafka"))
    assert not quiet.filter(aiokafka_record("aiokafka.consumer.fetcher"))
    assert reach.held_back == 2
    # Our own records, and any traceback, always pass.
    assert quiet.filter(aiokafka_record("hookstream.worker"))
    assert quiet.filter(aiokafka_record("aiokafkaish"))
    assert quiet.filter(aiokafka_record("aiokafka", exc_info=(ValueError, ValueError(), None)))
    reach.connected(BROKER)
    assert quiet.filter(aiokafka_record())
    assert reach.held_back == 0


async def test_a_connection_during_the_backoff_fails_at_once_without_trying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tries: list[tuple[str, int]] = []

    async def refuse(host: str, port: int, **kwargs: Any) -> Any:
        tries.append((host, port))
        raise REFUSED

    reach = Reachability(clock=Clock(), jitter=lambda: 1.0)
    monkeypatch.setattr(kafka_outage, "REACHABILITY", reach)
    monkeypatch.setattr(kafka_outage, "_original_create_conn", refuse)

    with pytest.raises(ConnectionRefusedError):
        await kafka_outage._connect("10.0.0.1", 9092, client_id="x")
    with pytest.raises(KafkaConnectionError, match="backing off"):
        await kafka_outage._connect("10.0.0.1", 9092, client_id="x")
    assert tries == [("10.0.0.1", 9092)]
    assert reach.unreachable() == [BROKER]


def test_install_routes_every_aiokafka_connection_through_the_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Undone after the test: other tests of this session use plain aiokafka.
    original = aiokafka.client.create_conn
    monkeypatch.setattr(aiokafka.client, "create_conn", original)
    monkeypatch.setattr(kafka_outage, "_original_create_conn", None)

    kafka_outage.install()
    kafka_outage.install()  # idempotent
    assert aiokafka.client.create_conn is kafka_outage._connect
    assert kafka_outage._original_create_conn is original
