"""The admin API application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from hookstream.api import webhooks
from hookstream.api.auth import OPENAPI_PATH, Role, auth_middleware, parse_tokens
from hookstream.api.openapi import openapi
from hookstream.api.store import WebhookStore
from hookstream.http_common import METRICS_KEY, READY_KEY, add_operational_routes, error_middleware
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.targets import GuardedResolver
from schemas.webhooks import Webhook
from streams.kafka import TopicAdmin, new_producer
from streams.table import CompactedTable
from streams.topics import WEBHOOKS, core_topics

MAX_BODY = 1024 * 1024
RECOVERY_TIMEOUT = 120.0


def create_api(*, tokens: Mapping[str, Role], metrics: Metrics) -> web.Application:
    """The bare application; resources are attached by :func:`create_api_from_settings`
    (or by tests) through ``cleanup_ctx``."""
    app = web.Application(
        middlewares=[error_middleware, auth_middleware(tokens)], client_max_size=MAX_BODY
    )
    app[METRICS_KEY] = metrics
    add_operational_routes(app)
    app.add_routes(webhooks.routes)
    app.router.add_get(OPENAPI_PATH, openapi)
    return app


def create_api_from_settings(settings: Settings, metrics: Metrics | None = None) -> web.Application:
    if settings.api_tokens is None:
        raise SystemExit("HOOKSTREAM_API_TOKENS is not set (make run generates one)")
    tokens = parse_tokens(settings.api_tokens.get_secret_value())
    app = create_api(tokens=tokens, metrics=metrics or Metrics())
    app.cleanup_ctx.append(_kafka_resources(settings))
    return app


def _kafka_resources(settings: Settings):  # type: ignore[no-untyped-def]
    async def resources(app: web.Application) -> AsyncIterator[None]:
        bootstrap = settings.bootstrap_servers
        topics = TopicAdmin(bootstrap, settings.replication_factor)
        await topics.start()
        await topics.ensure(core_topics())
        producer = new_producer(bootstrap)
        await producer.start()
        table: CompactedTable[Webhook] = CompactedTable(bootstrap, WEBHOOKS, Webhook.from_json)
        await table.start()
        # Serve nothing before the configuration is loaded: an early 404 would be a lie.
        await table.wait_ready(timeout=RECOVERY_TIMEOUT)
        resolver = None if settings.allow_private_targets else GuardedResolver()
        app[webhooks.STORE_KEY] = WebhookStore(
            table=table,
            producer=producer,
            topics=topics,
            resolver=resolver,
            delivery_partitions=settings.delivery_partitions,
        )
        app[READY_KEY] = lambda: table.ready
        try:
            yield
        finally:
            await table.stop()
            await producer.stop()
            await topics.close()
            if resolver is not None:
                await resolver.close()

    return resources
