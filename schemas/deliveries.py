"""A delivery: one event on its way to one webhook (value on
``hookstream.deliveries.<webhookId>``, ``hookstream.retries.*`` and
``hookstream.dead-letters``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from schemas.events import DomainEvent
from schemas.trace_context import TraceContext, parse_traceparent

# Why a delivery was made: routed from its event topic, or asked for by a
# person or a program. Shown beside each attempt in the delivery log, since a
# redelivery keeps the delivery id and starts again at attempt 1.
TRIGGERS = ("event", "redelivery", "recovery", "replay", "ping")


def delivery_id_for(webhook_id: str, event_id: str, source: str | None = None) -> str:
    """Stable id of delivering ``event_id`` to ``webhook_id``: the same on every
    retry, redelivery and replay, so receivers can deduplicate on it. A
    CloudEvent is identified by ``source`` and ``id`` together (two sources
    may use the same id), so its source is part of the id; an event without
    one keeps the id it always had."""
    name = (
        f"{webhook_id}\x00{event_id}"
        if source is None
        else f"{webhook_id}\x00{source}\x00{event_id}"
    )
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"dlv_{digest[:32]}"


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    webhook_id: str
    event: DomainEvent
    attempt: int = 1
    # Outcomes of earlier attempts, carried along so a dead letter tells its story.
    history: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # Epoch seconds before which the next attempt must not start (retries).
    not_before: float = 0.0
    # Epoch seconds at which the event's record reached its events.* topic (the
    # Kafka record timestamp): the start of hookstream_delivery_end_to_end_seconds.
    # 0 when unknown (deliveries queued by an older version, redeliveries).
    enqueued_at: float = 0.0
    # The span every attempt of this delivery is a child of (the router's,
    # or the producer's when nothing is exported); None: the event had none.
    trace: TraceContext | None = None
    # One of TRIGGERS; kept by every retry of the delivery.
    trigger: str = "event"

    @classmethod
    def for_event(
        cls,
        webhook_id: str,
        event: DomainEvent,
        *,
        enqueued_at: float = 0.0,
        trace: TraceContext | None = None,
        trigger: str = "event",
    ) -> Delivery:
        return cls(
            delivery_id_for(webhook_id, event.event_id, event.source),
            webhook_id,
            event,
            enqueued_at=enqueued_at,
            trace=trace,
            trigger=trigger,
        )

    def next_attempt(self, outcome: dict[str, Any], not_before: float) -> Delivery:
        return replace(
            self,
            attempt=self.attempt + 1,
            history=(*self.history, outcome),
            not_before=not_before,
        )

    def to_json(self) -> bytes:
        out = {
            "deliveryId": self.delivery_id,
            "webhookId": self.webhook_id,
            "event": self.event.to_dict(),
            "attempt": self.attempt,
            "history": list(self.history),
            "notBefore": self.not_before,
            "enqueuedAt": self.enqueued_at,
        }
        if self.trace is not None:
            out["traceparent"] = self.trace.traceparent
            if self.trace.state:
                out["tracestate"] = self.trace.state
        if self.trigger != "event":
            out["trigger"] = self.trigger
        return orjson.dumps(out)

    @classmethod
    def from_json(cls, raw: bytes) -> Delivery:
        data = orjson.loads(raw)
        return cls(
            delivery_id=data["deliveryId"],
            webhook_id=data["webhookId"],
            event=DomainEvent.from_dict(data["event"]),
            attempt=int(data.get("attempt", 1)),
            history=tuple(data.get("history", ())),
            not_before=float(data.get("notBefore", 0.0)),
            enqueued_at=float(data.get("enqueuedAt", 0.0)),
            trace=parse_traceparent(data.get("traceparent"), data.get("tracestate")),
            trigger=_trigger(data.get("trigger")),
        )


def _trigger(value: Any) -> str:
    """A record's trigger; absent (written before triggers were recorded) or
    unknown (a newer writer) reads as a routed event."""
    return str(value) if value in TRIGGERS else "event"
