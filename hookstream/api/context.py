"""Everything the admin API's handlers use, opened and closed in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

from hookstream.api.auth import PORTAL_CHECK_KEY, Caller, PortalCheck
from hookstream.api.flow_store import FlowStore
from hookstream.api.lag import LagProbe
from hookstream.api.listener_store import ListenerStore
from hookstream.api.replay_store import ReplayStore
from hookstream.api.stats import StatsAggregator
from hookstream.api.views import DeadLetterView, DeliveryLogView
from hookstream.api.webhook_store import WebhookStore
from hookstream.delivery.attempts import Attempter
from hookstream.delivery.sender import Sender
from hookstream.delivery.targets import GuardedResolver
from hookstream.http_common import METRICS_KEY, READY_KEY
from hookstream.secret_box import box_from, load_or_create_key
from hookstream.settings import Settings
from hookstream.tenants.store import TenantStore
from hookstream.tenants.tokens import PortalTokens, admitted, signing_key
from schemas.flows import Flow
from schemas.listeners import Listener
from schemas.replays import decode_replay_record
from schemas.tenants import Tenant
from schemas.webhooks import Webhook
from streams.kafka import TopicAdmin, broker_reachable, new_producer, stop_quietly
from streams.table import CompactedTable, RecentRecords, TopicView, ViewReader
from streams.topics import (
    DEAD_LETTERS,
    DELIVERY_LOG,
    ENTITIES,
    EVENT_TYPES,
    FLOW_EVENTS,
    FLOWS,
    INBOUND_LOG,
    LISTENERS,
    REPLAYS,
    TENANTS,
    WEBHOOKS,
    core_topics,
)

RECOVERY_TIMEOUT = 120.0
DELIVERY_LOG_SIZE = 100
# Dead letters kept per webhook (GET /webhooks/{id}/dead-letters, recover).
DEAD_LETTERS_KEPT = 1000
# Inbound requests kept per listener (GET /listeners/{id}/requests).
INBOUND_LOG_SIZE = 100


def _json_object(raw: bytes) -> dict[str, Any]:
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise TypeError("expected a JSON object")
    return value


@dataclass
class ApiContext:
    settings: Settings
    producer: AIOKafkaProducer
    topics: TopicAdmin
    webhooks: WebhookStore
    listeners: ListenerStore
    flows: FlowStore
    flow_executions: RecentRecords
    delivery_log: DeliveryLogView
    dead_letters: DeadLetterView
    stats: StatsAggregator
    lag: LagProbe
    inbound_log: RecentRecords
    event_types: CompactedTable[dict[str, Any]]
    entities: CompactedTable[dict[str, Any]]
    attempter: Attempter
    tenants: TenantStore
    portal: PortalTokens
    replays: ReplayStore

    @property
    def views(self) -> list[TopicView]:
        return [
            self.webhooks.table,
            self.tenants.table,
            self.listeners.table,
            self.flows.table,
            self.flow_executions,
            self.delivery_log,
            self.dead_letters,
            self.inbound_log,
            self.event_types,
            self.entities,
            self.replays.table,
        ]

    @property
    def ready(self) -> bool:
        return all(view.ready for view in self.views)


CONTEXT_KEY = web.AppKey("api_context", ApiContext)


def portal_check(tokens: PortalTokens, tenants: TenantStore) -> PortalCheck:
    """A portal token's caller: signed by this key, unexpired, and its tenant
    not deleted nor its portal revoked since the token was issued."""

    def check(presented: str) -> Caller | None:
        claims = tokens.verify(presented)
        if claims is None or not admitted(claims, tenants.find(claims.tenant_id)):
            return None
        return Caller("tenant", claims.tenant_id, claims.read_only)

    return check


def kafka_resources(
    settings: Settings,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def resources(app: web.Application) -> AsyncIterator[None]:
        bootstrap = settings.bootstrap_servers
        topics = TopicAdmin(bootstrap, settings.replication_factor)
        await topics.start()
        await topics.ensure(core_topics(settings.retry_tiers))
        producer = new_producer(bootstrap)
        await producer.start()
        resolver = None if settings.allow_private_targets else GuardedResolver()
        box = box_from(settings.configured_secret_key, settings.data_dir)
        sender = Sender(
            timeout=settings.delivery_timeout, allow_private_targets=settings.allow_private_targets
        )
        await sender.start()
        reader = ViewReader(bootstrap, name="api-views")  # one consumer for every view below
        listeners = ListenerStore(
            table=CompactedTable(reader, LISTENERS, lambda raw: Listener.from_json(raw, box)),
            producer=producer,
            box=box,
        )
        # Fed by the delivery-log and dead-letter views as they read their topics.
        stats = StatsAggregator()
        lag = LagProbe(bootstrap, settings.event_topics)
        await lag.start()
        ctx = ApiContext(
            settings=settings,
            producer=producer,
            topics=topics,
            webhooks=WebhookStore(
                table=CompactedTable(reader, WEBHOOKS, lambda raw: Webhook.from_json(raw, box)),
                box=box,
                producer=producer,
                topics=topics,
                resolver=resolver,
                delivery_partitions=settings.delivery_partitions,
            ),
            listeners=listeners,
            flows=FlowStore(
                table=CompactedTable(reader, FLOWS, Flow.from_json),
                producer=producer,
                listeners=listeners.table,
            ),
            flow_executions=RecentRecords(reader, FLOW_EVENTS, keep=DELIVERY_LOG_SIZE),
            delivery_log=DeliveryLogView(
                reader, DELIVERY_LOG, keep=DELIVERY_LOG_SIZE, observe=stats.add_attempt
            ),
            dead_letters=DeadLetterView(
                reader, DEAD_LETTERS, keep=DEAD_LETTERS_KEPT, observe=stats.add_dead_letter
            ),
            stats=stats,
            lag=lag,
            inbound_log=RecentRecords(reader, INBOUND_LOG, keep=INBOUND_LOG_SIZE),
            event_types=CompactedTable(reader, EVENT_TYPES, _json_object),
            entities=CompactedTable(reader, ENTITIES, _json_object),
            attempter=Attempter(
                sender=sender, producer=producer, metrics=app[METRICS_KEY], api_url=settings.api_url
            ),
            tenants=TenantStore(
                table=CompactedTable(reader, TENANTS, Tenant.from_json), producer=producer
            ),
            replays=ReplayStore(
                table=CompactedTable(reader, REPLAYS, decode_replay_record), producer=producer
            ),
            # Keyed from the same secret key as the box (its own derived key).
            portal=PortalTokens(
                signing_key(settings.configured_secret_key or load_or_create_key(settings.data_dir))
            ),
        )
        for view in ctx.views:
            await view.start()
        # Serve nothing before the state is loaded: an early 404 would be a lie.
        for view in ctx.views:
            await view.wait_ready(timeout=RECOVERY_TIMEOUT)
        app[CONTEXT_KEY] = ctx
        app[PORTAL_CHECK_KEY] = portal_check(ctx.portal, ctx.tenants)

        async def ready() -> bool:
            return ctx.ready and await broker_reachable(bootstrap)

        app[READY_KEY] = ready
        try:
            yield
        finally:
            await reader.stop()  # every view at once, not a reassignment per view
            await sender.close()
            await lag.close()
            await stop_quietly(producer, "api-producer")
            await topics.close()
            if resolver is not None:
                await resolver.close()

    return resources
