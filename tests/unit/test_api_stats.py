"""The stats aggregator: per-minute buckets from delivery-log and dead-letter records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hookstream.api.stats import StatsAggregator
from schemas.timestamps import iso_utc

NOW = datetime(2026, 11, 23, 10, 30, 30, tzinfo=UTC).timestamp()


def at(minutes_ago: float) -> str:
    return iso_utc(datetime.fromtimestamp(NOW - minutes_ago * 60, UTC))


def attempt(
    minutes_ago: float,
    *,
    webhook: str = "wh_a",
    outcome: str = "success",
    n: int = 1,
    event: str = "e1",
    event_type: str = "order.created",
) -> dict[str, Any]:
    return {
        "webhookId": webhook,
        "outcome": outcome,
        "attempt": n,
        "eventId": event,
        "eventType": event_type,
        "at": at(minutes_ago),
    }


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_windows_count_outcomes_retries_dead_letters_and_events() -> None:
    stats = StatsAggregator(clock=Clock())
    stats.add_attempt(attempt(1, event="e1"))
    stats.add_attempt(attempt(1, event="e1", webhook="wh_b", outcome="http_error"))  # fan-out
    stats.add_attempt(attempt(2, event="e1", webhook="wh_b", outcome="timeout", n=2))
    stats.add_attempt(attempt(10, event="e2"))
    stats.add_attempt(attempt(10, event="p", event_type="webhook.ping"))
    stats.add_attempt(attempt(61, event="ancient"))  # beyond the horizon
    stats.add_dead_letter({"deadAt": at(3), "webhookId": "wh_b"})
    stats.add_dead_letter({"deadAt": at(30), "webhookId": "wh_b"})

    windows = stats.snapshot()["windows"]
    five, hour = windows["5m"], windows["60m"]
    assert five["eventsIn"] == 1 and hour["eventsIn"] == 2
    assert five["deliveries"] == {
        "success": 1,
        "http_error": 1,
        "timeout": 1,
        "connection_error": 0,
        "refused": 0,
        "total": 3,
    }
    assert hour["deliveries"]["success"] == 3 and hour["deliveries"]["total"] == 5
    assert (five["retries"], hour["retries"]) == (1, 1)
    assert (five["deadLetters"], hour["deadLetters"]) == (1, 2)


def test_per_webhook_ratio_and_last_delivery() -> None:
    stats = StatsAggregator(clock=Clock())
    stats.add_attempt(attempt(1, outcome="success"))
    stats.add_attempt(attempt(2, outcome="http_error"))
    stats.add_attempt(attempt(3, outcome="http_error"))
    stats.add_attempt(attempt(20, outcome="success"))
    stats.add_attempt(attempt(90, webhook="wh_old", outcome="timeout"))
    report = {
        w["webhookId"]: w
        for w in stats.snapshot(
            [("wh_a", "a", True), ("wh_old", "old", False), ("wh_new", "n", True)]
        )["webhooks"]
    }
    assert report["wh_a"]["last5m"] == {"attempts": 3, "successes": 1, "successRatio": 0.3333}
    assert report["wh_a"]["last60m"] == {"attempts": 4, "successes": 2, "successRatio": 0.5}
    assert report["wh_a"]["lastDeliveryAt"] == at(1) and report["wh_a"]["lastOutcome"] == "success"
    # Outside both windows, but its last delivery is still known.
    assert report["wh_old"]["last60m"]["successRatio"] is None
    assert report["wh_old"]["lastOutcome"] == "timeout"
    assert report["wh_new"]["lastDeliveryAt"] is None


def test_series_has_one_entry_per_minute_oldest_first_and_time_moves_on() -> None:
    clock = Clock()
    stats = StatsAggregator(clock=clock)
    stats.add_attempt(attempt(0))
    stats.add_attempt(attempt(4, outcome="refused"))
    series = stats.snapshot()["series"]
    assert len(series) == 60
    assert series[-1]["minute"] == "2026-11-23T10:30:00.000Z"
    assert series[-1]["deliveries"]["success"] == 1
    assert series[-5]["deliveries"]["refused"] == 1
    clock.now += 2 * 60  # two minutes later the refused attempt leaves the 5-minute window
    windows = stats.snapshot()["windows"]
    assert windows["5m"]["deliveries"]["refused"] == 0
    assert windows["60m"]["deliveries"]["refused"] == 1
    clock.now += 60 * 60
    assert stats.snapshot()["windows"]["60m"]["deliveries"]["total"] == 0


def test_records_are_bucketed_by_their_own_time_in_any_order() -> None:
    stats = StatsAggregator(clock=Clock())
    stats.add_attempt(attempt(30, event="late"))
    stats.add_attempt(attempt(1, event="e"))
    stats.add_attempt(attempt(-5, event="future"))  # clock skew: counted as now
    assert stats.snapshot()["windows"]["5m"]["eventsIn"] == 2
    assert stats.snapshot()["windows"]["60m"]["eventsIn"] == 3


def test_malformed_records_are_ignored() -> None:
    stats = StatsAggregator(clock=Clock())
    stats.add_attempt({"webhookId": "wh_a"})
    stats.add_attempt({"webhookId": 5, "outcome": "success", "at": at(1)})
    stats.add_attempt({"webhookId": "wh_a", "outcome": "success", "at": "yesterday"})
    stats.add_dead_letter({"deadAt": None})
    assert stats.snapshot()["windows"]["60m"]["deliveries"]["total"] == 0


def test_event_dedupe_is_bounded() -> None:
    stats = StatsAggregator(clock=Clock(), max_ids_per_minute=2)
    for event in ("a", "a", "b", "c", "d"):
        stats.add_attempt(attempt(1, event=event))
    assert stats.snapshot()["windows"]["5m"]["eventsIn"] == 4
