"""Views of Kafka topics the API keeps in memory beyond the generic ones of
:mod:`streams.table`: each also hands every record to an observer (the stats
aggregator), so the numbers come from the same single read of the topic."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from streams.table import RecentRecords, ViewReader

log = logging.getLogger(__name__)

Observer = Callable[[dict[str, Any]], None]


def _decoded(topic: str, key: str, raw: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        log.warning("view=%s key=%s undecodable record skipped", topic, key)
        return None
    return value if isinstance(value, dict) else None


class ObservedRecords(RecentRecords):
    """:class:`RecentRecords` that also shows each record to ``observe``."""

    def __init__(
        self, reader: ViewReader | str, topic: str, *, keep: int, observe: Observer | None = None
    ) -> None:
        super().__init__(reader, topic, keep=keep)
        self._observe = observe

    def apply(self, key: str, raw: bytes | None) -> None:
        if raw is None:
            return
        value = _decoded(self.topic, key, raw)
        if value is None:
            return
        self.group(key, value, raw)
        if self._observe is not None:
            self._observe(value)

    def group(self, key: str, value: dict[str, Any], raw: bytes) -> None:
        super().apply(key, raw)


def _death_order(record: dict[str, Any]) -> tuple[str, str]:
    return str(record.get("deadAt", "")), str(record.get("deliveryId", ""))


class DeadLetterView(ObservedRecords):
    """``hookstream.dead-letters`` grouped by the record's ``webhookId``
    instead of the Kafka key (the delivery id)."""

    def group(self, key: str, value: dict[str, Any], raw: bytes) -> None:
        webhook_id = value.get("webhookId")
        if isinstance(webhook_id, str):
            super().group(webhook_id, value, raw)

    def newest_first(self, key: str) -> list[dict[str, Any]]:
        """By when they died (then delivery id: the paging cursor's order).
        Keyed by delivery id, one webhook's dead letters lie in several
        partitions, read in no set order across each other, so the read
        order is not the order they died in."""
        return sorted(super().newest_first(key), key=_death_order, reverse=True)


def _attempt_order(record: dict[str, Any]) -> str:
    return str(record.get("at", ""))


class DeliveryLogView(ObservedRecords):
    """``hookstream.delivery-log``: a webhook's attempts newest first by when
    they were made. Every writer keeps a webhook in one partition (the
    producer's partitioner), so this is the read order too, except across
    the upgrade that moved the log from crc32 to that partitioner: a
    webhook's older attempts can then sit in another partition, read in no
    set order relative to the new one. Equal times keep the read order.

    It also knows which webhooks' kept attempts name an event id or a
    delivery id, so finding a delivery across webhooks reads only those."""

    def __init__(
        self, reader: ViewReader | str, topic: str, *, keep: int, observe: Observer | None = None
    ) -> None:
        super().__init__(reader, topic, keep=keep, observe=observe)
        # Per webhook, the (event id, delivery id) of each kept attempt, in
        # step with the kept records: the oldest pair leaves with its record.
        self._kept_ids: dict[str, deque[tuple[str, str]]] = {}
        # id -> {webhook id: how many of its kept attempts name it}
        self._by_event: dict[str, dict[str, int]] = {}
        self._by_delivery: dict[str, dict[str, int]] = {}

    def group(self, key: str, value: dict[str, Any], raw: bytes) -> None:
        kept = self._kept_ids.setdefault(key, deque())
        if len(kept) >= self._keep:
            event_id, delivery_id = kept.popleft()
            _forget(self._by_event, event_id, key)
            _forget(self._by_delivery, delivery_id, key)
        event_id, delivery_id = str(value.get("eventId", "")), str(value.get("deliveryId", ""))
        kept.append((event_id, delivery_id))
        _remember(self._by_event, event_id, key)
        _remember(self._by_delivery, delivery_id, key)
        super().group(key, value, raw)

    def newest_first(self, key: str) -> list[dict[str, Any]]:
        return sorted(super().newest_first(key), key=_attempt_order, reverse=True)

    def webhooks_naming(self, *, event_id: str | None, delivery_id: str | None) -> set[str]:
        """The webhooks with a kept attempt of this event and/or delivery."""
        found: set[str] | None = None
        for index, wanted in ((self._by_event, event_id), (self._by_delivery, delivery_id)):
            if wanted is not None:
                webhooks = set(index.get(wanted, ()))
                found = webhooks if found is None else found & webhooks
        return found or set()


def _remember(index: dict[str, dict[str, int]], item: str, webhook_id: str) -> None:
    counts = index.setdefault(item, {})
    counts[webhook_id] = counts.get(webhook_id, 0) + 1


def _forget(index: dict[str, dict[str, int]], item: str, webhook_id: str) -> None:
    counts = index.get(item)
    if counts is None:
        return
    left = counts.get(webhook_id, 0) - 1
    if left > 0:
        counts[webhook_id] = left
    else:
        counts.pop(webhook_id, None)
        if not counts:
            del index[item]
