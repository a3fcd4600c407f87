"""Which webhooks receive an event (pure).

The router asks this for every event, with thousands of webhooks (10 000
tenants with a webhook each), so an event's cost must follow the webhooks it
matches, not the webhooks that exist. :class:`RoutingIndex` files every
enabled webhook under ``(tenant, event type)``; a lookup reads at most four
buckets: untenanted webhooks for this type and for all types, and, when the
event has a tenant, that tenant's webhooks for this type and for all types.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.events import DomainEvent
from schemas.webhooks import ALL_EVENTS, Webhook

# (tenant or None, event type or ALL_EVENTS)
Key = tuple[str | None, str]


def receives(webhook: Webhook, event: DomainEvent) -> bool:
    """Whether ``webhook`` takes ``event`` by tenant and event type (the
    index's rule for one webhook; replay asks it of one webhook)."""
    if webhook.tenant_id is not None and webhook.tenant_id != event.tenant_id:
        return False
    return webhook.subscribes_to(event.event_type)


class RoutingIndex:
    """Enabled webhooks by ``(tenant, event type)``; built once per version
    of the webhook table (a build is one pass over the webhooks)."""

    def __init__(self, webhooks: Iterable[Webhook]) -> None:
        self._buckets: dict[Key, list[Webhook]] = {}
        for webhook in webhooks:
            if not webhook.enabled:
                continue
            for event_type in webhook.events:  # ["*"] files it under ALL_EVENTS
                self._buckets.setdefault((webhook.tenant_id, event_type), []).append(webhook)

    def lookup(self, event_type: str, tenant_id: str | None = None) -> list[Webhook]:
        """The webhooks an event of this type and tenant goes to, each once
        (a webhook's event types are distinct, and ``*`` stands alone)."""
        found: list[Webhook] = []
        keys: tuple[Key, ...] = ((None, event_type), (None, ALL_EVENTS))
        if tenant_id is not None:
            keys += ((tenant_id, event_type), (tenant_id, ALL_EVENTS))
        for key in keys:
            bucket = self._buckets.get(key)
            if bucket:
                found.extend(bucket)
        return found


def matching_webhooks(
    webhooks: Iterable[Webhook], event_type: str, tenant_id: str | None = None
) -> list[Webhook]:
    """Enabled webhooks subscribed to ``event_type`` (or to all events) of
    the event's tenant (or of every tenant)."""
    return RoutingIndex(webhooks).lookup(event_type, tenant_id)
