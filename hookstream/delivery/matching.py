"""Which webhooks receive an event (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.webhooks import Webhook


def matching_webhooks(webhooks: Iterable[Webhook], event_type: str) -> list[Webhook]:
    """Enabled webhooks subscribed to ``event_type`` (or to all events)."""
    return [wh for wh in webhooks if wh.enabled and wh.subscribes_to(event_type)]
