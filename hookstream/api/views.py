"""Views of Kafka topics the API keeps in memory beyond the generic ones of
:mod:`streams.table`."""

from __future__ import annotations

import logging

import orjson

from streams.table import RecentRecords

log = logging.getLogger(__name__)


class DeadLetterView(RecentRecords):
    """:class:`RecentRecords` of ``hookstream.dead-letters`` grouped by the
    record's ``webhookId`` instead of the Kafka key (the delivery id)."""

    def apply(self, key: str, raw: bytes | None) -> None:
        if raw is None:
            return
        try:
            webhook_id = orjson.loads(raw).get("webhookId")
        except (orjson.JSONDecodeError, AttributeError):
            log.warning("view=%s key=%s undecodable dead letter skipped", self.topic, key)
            return
        if isinstance(webhook_id, str):
            super().apply(webhook_id, raw)
