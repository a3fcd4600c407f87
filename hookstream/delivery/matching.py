"""Which webhooks receive an event (pure).

The router asks this for every event, with thousands of webhooks (10 000
tenants with a webhook each), so an event's cost must follow the webhooks it
matches, not the webhooks that exist. :class:`RoutingIndex` files every
enabled webhook under ``(tenant, event type)``; a lookup reads at most four
buckets: untenanted webhooks for this type and for all types, and, when the
event has a tenant, that tenant's webhooks for this type and for all types.
Content filters (hookstream/filters) are then evaluated on those candidates
only, against the event as delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hookstream.delivery.payloads import entity_url
from hookstream.filters import Filter, FilterError, compile_filter
from schemas.events import DomainEvent
from schemas.webhooks import ALL_EVENTS, Webhook

log = logging.getLogger(__name__)

# (tenant or None, event type or ALL_EVENTS)
Key = tuple[str | None, str]


def event_document(event: DomainEvent, api_url: str) -> dict[str, Any]:
    """What a filter sees: the event as delivered. Always ``eventId``,
    ``eventType``, ``entityId``, ``timestamp`` and ``entityUrl`` (the
    producer's, else the one every delivery carries, built from
    ``api_url``: HOOKSTREAM_API_URL); ``entity``, ``tenantId`` and a
    CloudEvent's ``source`` when the event has them."""
    document = event.to_dict()
    document["entityUrl"] = entity_url(event, api_url)
    return document


def webhook_filter(webhook: Webhook) -> Filter | None:
    """The webhook's compiled filter. The API stores only filters that
    compile; one that does not (written to the topic by hand) lets nothing
    through rather than everything."""
    if webhook.content_filter is None:
        return None
    try:
        return compile_filter(webhook.content_filter)
    except FilterError as exc:
        log.warning("webhook=%s has an invalid filter (%s); it receives nothing", webhook.id, exc)
        return compile_filter({"$not": {}})  # matches nothing


def receives(webhook: Webhook, event: DomainEvent) -> bool:
    """Whether ``webhook`` takes ``event`` by tenant and event type (the
    index's rule for one webhook; replay asks it of one webhook)."""
    if webhook.tenant_id is not None and webhook.tenant_id != event.tenant_id:
        return False
    return webhook.subscribes_to(event.event_type)


@dataclass(frozen=True, slots=True)
class Subscription:
    webhook: Webhook
    filter: Filter | None

    @classmethod
    def of(cls, webhook: Webhook) -> Subscription:
        return cls(webhook, webhook_filter(webhook))

    def accepts(self, event: DomainEvent, api_url: str) -> bool:
        """Tenant, event type and filter, for one webhook (replay)."""
        if not receives(self.webhook, event):
            return False
        return self.filter is None or self.filter.matches(event_document(event, api_url))


@dataclass(slots=True)
class Routed:
    """Where an event goes: ``matched`` webhooks, and those of its tenant and
    type whose filter kept it from them (``filtered``, counted)."""

    matched: list[Webhook] = field(default_factory=list)
    filtered: list[Webhook] = field(default_factory=list)


class RoutingIndex:
    """Enabled webhooks by ``(tenant, event type)``; built once per version
    of the webhook table (a build is one pass over the webhooks; filters of
    webhooks unchanged since ``previous`` are not compiled again)."""

    def __init__(
        self,
        webhooks: Iterable[Webhook],
        previous: RoutingIndex | None = None,
        *,
        api_url: str,
    ) -> None:
        self.api_url = api_url  # of the entityUrl filters see (event_document)
        self._buckets: dict[Key, list[Subscription]] = {}
        self._by_id: dict[str, Subscription] = {}
        known = previous._by_id if previous is not None else {}
        for webhook in webhooks:
            if not webhook.enabled:
                continue
            old = known.get(webhook.id)
            if old is not None and old.webhook is webhook:  # the table keeps unchanged records
                subscription = old
            else:
                subscription = Subscription.of(webhook)
            self._by_id[webhook.id] = subscription
            for event_type in webhook.events:  # ["*"] files it under ALL_EVENTS
                self._buckets.setdefault((webhook.tenant_id, event_type), []).append(subscription)

    def candidates(self, event_type: str, tenant_id: str | None = None) -> list[Subscription]:
        """The subscriptions an event of this type and tenant may go to, each
        once (a webhook's event types are distinct, and ``*`` stands alone)."""
        found: list[Subscription] = []
        keys: tuple[Key, ...] = ((None, event_type), (None, ALL_EVENTS))
        if tenant_id is not None:
            keys += ((tenant_id, event_type), (tenant_id, ALL_EVENTS))
        for key in keys:
            bucket = self._buckets.get(key)
            if bucket:
                found.extend(bucket)
        return found

    def lookup(self, event_type: str, tenant_id: str | None = None) -> list[Webhook]:
        """Candidates by tenant and type alone (filters not applied)."""
        return [s.webhook for s in self.candidates(event_type, tenant_id)]

    def route(self, event: DomainEvent) -> Routed:
        """The webhooks ``event`` is delivered to, filters applied."""
        routed = Routed()
        document: dict[str, Any] | None = None  # built only if some candidate filters
        for subscription in self.candidates(event.event_type, event.tenant_id):
            if subscription.filter is not None:
                if document is None:
                    document = event_document(event, self.api_url)
                if not subscription.filter.matches(document):
                    routed.filtered.append(subscription.webhook)
                    continue
            routed.matched.append(subscription.webhook)
        return routed
