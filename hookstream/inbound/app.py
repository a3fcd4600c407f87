"""The public ingress application (``hookstream ingress``)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from hookstream.http_common import (
    METRICS_KEY,
    READY_KEY,
    Handler,
    add_operational_routes,
    answer_errors,
)
from hookstream.inbound.examine import MAX_BODY
from hookstream.inbound.receive import INGRESS_KEY, STORE_TIMEOUT, Ingress, receive
from hookstream.metrics import Metrics
from hookstream.secret_box import box_from
from hookstream.settings import Settings
from hookstream.tracing import Tracing
from schemas.listeners import Listener
from streams.kafka import broker_reachable, ensure_core_topics, new_producer, stop_quietly
from streams.queued_writer import AcknowledgedWriter, QueuedWriter
from streams.table import CompactedTable, SeenKeys, ViewReader
from streams.topics import FLOW_TRIGGERS, INBOUND_LOG, INBOUND_SEEN, LISTENERS

log = logging.getLogger("hookstream.inbound.access")

# HOOKSTREAM_ACCESS_LOG: which requests get an access-log line. A line per
# request costs about a tenth of the ingress's CPU at full load.
ACCESS_LOG_KEY = web.AppKey("access_log", str)

# Fail fast when Kafka is unreachable, so the sender gets its 503 promptly.
PRODUCER_TIMEOUT_MS = 5000


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer errors as JSON, then count and log every request by listener
    id: never the path (a secret-URL token lives there), never headers or
    bodies."""
    started = time.perf_counter()
    response = await answer_errors(request, handler)
    ingress = request.app.get(INGRESS_KEY)
    listener_id = request.match_info.get("listener_id")
    if listener_id is not None and ingress is not None:
        label = listener_id if ingress.listeners.get(listener_id) is not None else "unknown"
        request.app[METRICS_KEY].ingress_requests.labels(label, str(response.status)).inc()
        mode = request.app[ACCESS_LOG_KEY]
        if mode == "all" or (mode == "errors" and response.status >= 400):
            log.info(
                "ingress listener=%s status=%d bytes=%s ms=%.1f",
                label,
                response.status,
                request.content_length,
                (time.perf_counter() - started) * 1000,
            )
    return response


def create_ingress(settings: Settings, metrics: Metrics | None = None) -> web.Application:
    app = web.Application(middlewares=[access_middleware], client_max_size=MAX_BODY)
    app[METRICS_KEY] = metrics or Metrics()
    app[ACCESS_LOG_KEY] = settings.access_log
    add_operational_routes(app)
    app.router.add_post("/hooks/{listener_id}", receive)
    app.router.add_post("/hooks/{listener_id}/{token}", receive)
    app.cleanup_ctx.append(_kafka(settings))
    return app


def _kafka(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def resources(app: web.Application) -> AsyncIterator[None]:
        bootstrap = settings.bootstrap_servers
        await ensure_core_topics(bootstrap, settings.replication_factor)
        box = box_from(settings.configured_secret_key, settings.data_dir)
        producer = new_producer(bootstrap, request_timeout_ms=PRODUCER_TIMEOUT_MS)
        await producer.start()
        inbound_log = QueuedWriter(producer, INBOUND_LOG, app[METRICS_KEY].inbound_log_dropped.inc)
        triggers = AcknowledgedWriter(producer, FLOW_TRIGGERS, STORE_TIMEOUT)
        for writer in (inbound_log, triggers):
            await writer.start()
        reader = ViewReader(bootstrap, name="ingress-views")
        tracing = Tracing("hookstream-ingress", settings.otlp_traces_endpoint)
        ingress = Ingress(
            listeners=CompactedTable(reader, LISTENERS, lambda raw: Listener.from_json(raw, box)),
            seen=SeenKeys(reader, INBOUND_SEEN),
            producer=producer,
            triggers=triggers,
            inbound_log=inbound_log,
            metrics=app[METRICS_KEY],
            tracing=tracing,
        )
        for view in (ingress.listeners, ingress.seen):
            await view.start()
            await view.wait_ready(timeout=120)
        app[INGRESS_KEY] = ingress

        async def ready() -> bool:
            return ingress.ready and await broker_reachable(bootstrap)

        app[READY_KEY] = ready
        try:
            yield
        finally:
            await reader.stop()
            await triggers.stop()
            await inbound_log.stop()
            await stop_quietly(producer, "ingress-producer")
            await tracing.close()

    return resources
