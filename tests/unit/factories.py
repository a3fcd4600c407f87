"""Builders for unit tests of pure logic."""

from __future__ import annotations

from typing import Any

from schemas.deliveries import Delivery
from schemas.events import DomainEvent
from schemas.webhooks import Webhook


def make_webhook(**overrides: Any) -> Webhook:
    fields: dict[str, Any] = {
        "id": "wh_1",
        "name": "crm",
        "url": "https://crm.example/hook",
        "createdAt": "2026-11-23T10:00:00.000Z",
        "updatedAt": "2026-11-23T10:00:00.000Z",
    }
    fields.update(overrides)
    return Webhook.model_validate(fields)


def make_event(**overrides: Any) -> DomainEvent:
    fields: dict[str, Any] = {
        "event_id": "e-1",
        "event_type": "order.created",
        "entity_id": "42",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "entity": {"id": 42},
    }
    fields.update(overrides)
    return DomainEvent(**fields)


def make_delivery(webhook: Webhook, **event_overrides: Any) -> Delivery:
    return Delivery.for_event(webhook.id, make_event(**event_overrides))
