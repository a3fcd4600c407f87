"""Writing attempts to ``hookstream.delivery-log`` off the delivery path.

The log is for people ("View events"): a delivery must never wait for it, and
a log write that fails must never fail (and so re-send) a delivered request.
The worker's writer is a :class:`streams.queued_writer.QueuedWriter`: it
takes records without awaiting anything and counts what it has to drop.
"""

from __future__ import annotations

from typing import Any, Protocol

from hookstream.metrics import Metrics
from streams.kafka import TrackingProducer
from streams.queued_writer import QueuedWriter
from streams.topics import DELIVERY_LOG


class DeliveryLog(Protocol):
    def write(self, key: str, record: dict[str, Any]) -> None: ...


class MemoryDeliveryLog:
    """In-memory :class:`DeliveryLog` for unit tests."""

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def write(self, key: str, record: dict[str, Any]) -> None:
        self.records.append((key, record))


def queued_delivery_log(producer: TrackingProducer, metrics: Metrics) -> QueuedWriter:
    """Keyed by webhook id: the API keeps each webhook's last 100 attempts."""
    return QueuedWriter(producer, DELIVERY_LOG, metrics.delivery_log_dropped.inc)
