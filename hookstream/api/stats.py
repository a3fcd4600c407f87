"""Dashboard numbers over the last 5 and 60 minutes (pure).

Fed with the records the API already tails from Kafka (every attempt on
``hookstream.delivery-log``, every record on ``hookstream.dead-letters``), so
any API process, fresh or restarted, computes the same numbers. Records are
bucketed per minute by their own timestamp (``at`` / ``deadAt``), not by when
this process read them; buckets older than the horizon are dropped.

What is counted:

* ``eventsIn``: events routed to at least one webhook, i.e. distinct event ids
  among first attempts (attempt 1) per minute. Events that match no webhook are
  not counted; ``webhook.ping`` tests are not counted; a redelivery (which
  starts again at attempt 1) in a later minute counts again.
* ``deliveries``: attempts by outcome (``success``, ``http_error``, ``timeout``,
  ``connection_error``, ``refused``) and their ``total``.
* ``retries``: attempts after the first (attempt > 1).
* ``deadLetters``: deliveries dead-lettered.
* per webhook: attempts, successes and their ratio (null without attempts),
  and the newest attempt's time and outcome.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.timestamps import iso_utc

OUTCOMES = ("success", "http_error", "timeout", "connection_error", "refused")
WINDOWS = (5, 60)
PING_EVENT = "webhook.ping"
# Distinct event ids remembered per minute; past this, first attempts are
# counted without deduplication (a fan-out then counts once per webhook).
MAX_IDS_PER_MINUTE = 100_000


def minute_of(timestamp: Any) -> int | None:
    """Epoch minute of an ISO 8601 timestamp, or None if it is not one."""
    if not isinstance(timestamp, str):
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 60)


@dataclass
class Minute:
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    dead_letters: int = 0
    event_ids: set[str] = field(default_factory=set)
    undeduplicated_events: int = 0
    # webhook id → [attempts, successes]
    webhooks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def events_in(self) -> int:
        return len(self.event_ids) + self.undeduplicated_events


@dataclass(frozen=True)
class LastDelivery:
    at: str
    outcome: str


class StatsAggregator:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        horizon_minutes: int = max(WINDOWS),
        max_ids_per_minute: int = MAX_IDS_PER_MINUTE,
    ) -> None:
        self._clock = clock
        self._horizon = horizon_minutes
        self._max_ids = max_ids_per_minute
        self._minutes: dict[int, Minute] = {}
        self._last: dict[str, LastDelivery] = {}

    def _now_minute(self) -> int:
        return int(self._clock() // 60)

    def _bucket(self, timestamp: Any) -> Minute | None:
        minute = minute_of(timestamp)
        if minute is None:
            return None
        now = self._now_minute()
        if minute <= now - self._horizon:
            return None  # too old to matter (e.g. replayed at start-up)
        self._prune(now)
        return self._minutes.setdefault(min(minute, now), Minute())

    def _prune(self, now: int) -> None:
        for minute in [m for m in self._minutes if m <= now - self._horizon]:
            del self._minutes[minute]

    def add_attempt(self, record: dict[str, Any]) -> None:
        """One delivery-log record."""
        webhook_id = record.get("webhookId")
        outcome = record.get("outcome")
        at = record.get("at")
        if not isinstance(webhook_id, str) or not isinstance(outcome, str):
            return
        if isinstance(at, str):
            previous = self._last.get(webhook_id)
            if previous is None or at >= previous.at:
                self._last[webhook_id] = LastDelivery(at, outcome)
        bucket = self._bucket(at)
        if bucket is None:
            return
        bucket.outcomes[outcome] += 1
        counts = bucket.webhooks.setdefault(webhook_id, [0, 0])
        counts[0] += 1
        counts[1] += outcome == "success"
        attempt = record.get("attempt")
        if isinstance(attempt, int) and attempt > 1:
            bucket.retries += 1
        elif attempt == 1 and record.get("eventType") != PING_EVENT:
            event_id = str(record.get("eventId"))
            if event_id in bucket.event_ids:
                return
            if len(bucket.event_ids) < self._max_ids:
                bucket.event_ids.add(event_id)
            else:
                bucket.undeduplicated_events += 1

    def add_dead_letter(self, record: dict[str, Any]) -> None:
        """One dead-letters record."""
        bucket = self._bucket(record.get("deadAt"))
        if bucket is not None:
            bucket.dead_letters += 1

    def _window(self, minutes: int) -> list[Minute]:
        now = self._now_minute()
        return [b for m, b in self._minutes.items() if m > now - minutes]

    @staticmethod
    def _totals(buckets: Iterable[Minute]) -> dict[str, Any]:
        outcomes: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
        events = retries = dead = 0
        for bucket in buckets:
            outcomes.update(bucket.outcomes)
            events += bucket.events_in
            retries += bucket.retries
            dead += bucket.dead_letters
        return {
            "eventsIn": events,
            "deliveries": {**outcomes, "total": sum(outcomes.values())},
            "retries": retries,
            "deadLetters": dead,
        }

    def _webhook_window(self, webhook_id: str, minutes: int) -> dict[str, Any]:
        attempts = successes = 0
        for bucket in self._window(minutes):
            counts = bucket.webhooks.get(webhook_id)
            if counts:
                attempts += counts[0]
                successes += counts[1]
        return {
            "attempts": attempts,
            "successes": successes,
            "successRatio": round(successes / attempts, 4) if attempts else None,
        }

    def snapshot(self, webhooks: Iterable[tuple[str, str, bool]] = ()) -> dict[str, Any]:
        """The numbers; ``webhooks`` are (id, name, enabled) of the webhooks to
        report on (deleted webhooks' history is left out)."""
        now = self._now_minute()
        self._prune(now)
        series = []
        for minute in range(now - self._horizon + 1, now + 1):
            bucket = self._minutes.get(minute) or Minute()
            start = iso_utc(datetime.fromtimestamp(minute * 60, UTC))
            series.append({"minute": start, **self._totals([bucket])})
        per_webhook = []
        for webhook_id, name, enabled in webhooks:
            last = self._last.get(webhook_id)
            per_webhook.append(
                {
                    "webhookId": webhook_id,
                    "name": name,
                    "enabled": enabled,
                    **{f"last{m}m": self._webhook_window(webhook_id, m) for m in WINDOWS},
                    "lastDeliveryAt": last.at if last else None,
                    "lastOutcome": last.outcome if last else None,
                }
            )
        return {
            "generatedAt": iso_utc(datetime.fromtimestamp(self._clock(), UTC)),
            "windows": {f"{m}m": self._totals(self._window(m)) for m in WINDOWS},
            "series": series,
            "webhooks": per_webhook,
        }
