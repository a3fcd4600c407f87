"""retry_deliveries: later attempts, from the delay-tier topics
``hookstream.retries.<delay>``.

Each tier holds deliveries that all wait about the same time, so every tier
partition is in due-time order: the consumer attempts records that are due
and pauses the partition at the first one that is not, until it is. Nothing
sleeps inside a handler and the consumer keeps polling, so the group never
times out however long the delay.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from agents.delivery_consumer import DeliveryConsumer

log = logging.getLogger(__name__)


class RetryDeliveries(DeliveryConsumer):
    name = "retry_deliveries"

    def __init__(self, *, topics: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._topics = topics

    def subscribe(self) -> None:
        self._consumer.subscribe(topics=self._topics, listener=self)

    def hold_until(self, record: Any) -> float:
        try:
            return float(orjson.loads(record.value).get("notBefore", 0.0))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            return 0.0  # malformed: let the handler report it
