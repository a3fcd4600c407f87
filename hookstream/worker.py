"""The worker process: a faust App hosting every agent, and the resources
they share, opened and closed in one place.

faust hosts the worker process: lifecycle, signal handling, logging, and the
web server for /metrics, /healthz and /readyz. The agents are supervised
aiokafka consumers started and stopped with the app: route_events,
deliver_webhooks and retry_deliveries consume topic *patterns* or pause
partitions until records are due, which faust's Kafka driver cannot do (see
streams/broker_compat.py), and run_flows handles a batch at a time, which
costs a fraction of faust's per-message path (agents/run_flows.py). So the
app starts none of faust's own Kafka clients (:class:`WebOnlyBoot`)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.app.base import BootStrategy

from agents.deliver_webhooks import DeliverWebhooks
from agents.delivery_consumer import DeliveryConsumer
from agents.replay_webhooks import ReplayWebhooks
from agents.retry_deliveries import RetryDeliveries
from agents.route_events import RouteEvents
from agents.run_flows import FlowRunner, RunFlows
from hookstream.catalogue import CatalogueWriter
from hookstream.delivery.attempts import Attempter
from hookstream.delivery.delivery_log import queued_delivery_log
from hookstream.delivery.failure_router import FailureRouter
from hookstream.delivery.sender import Sender
from hookstream.metrics import CONTENT_TYPE_LATEST, Metrics
from hookstream.secret_box import box_from
from hookstream.settings import Settings
from hookstream.stopping import StopDeadline, stop_within
from hookstream.tenants.fairness import TenantSlots
from hookstream.tracing import Tracing
from schemas.flows import Flow
from schemas.replays import ReplayRecord, decode_replay_record
from schemas.webhooks import Webhook
from streams.broker_compat import faust_broker_options
from streams.collector import freeze_loaded_state
from streams.kafka import (
    EndOffsets,
    TopicAdmin,
    broker_reachable,
    broker_urls,
    new_group_consumer,
    new_manual_consumer,
    new_producer,
)
from streams.membership import SlotMembership
from streams.service import StallWatch, SupervisedLoop
from streams.table import CompactedTable, ViewReader
from streams.topics import (
    DELIVER_GROUP,
    FLOWS,
    FLOWS_GROUP,
    LEGACY_FLOWS_GROUP,
    REPLAYS,
    RETRY_GROUP,
    ROUTE_GROUP,
    WEBHOOKS,
    WORKER_APP_ID,
    core_topics,
    membership_group,
    retry_topic,
)

log = logging.getLogger(__name__)


class WorkerRuntime:
    """What one worker process runs, by role (HOOKSTREAM_WORKER_ROLES):
    ``route`` (events → delivery topics), ``deliver`` (delivery topics and
    retry tiers → HTTP), or both; every worker runs the flows. Each role has
    its own membership group, so routers and deliverers scale out separately."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.roles = settings.worker_roles
        self._built = False
        self.started = asyncio.Event()
        self.route: RouteEvents | None = None
        self.replay: ReplayWebhooks | None = None
        self.deliver: DeliverWebhooks | None = None
        self.retry: RetryDeliveries | None = None
        self.memberships: dict[str, SlotMembership] = {}
        self.stall_watch = StallWatch(lambda: self.loops)
        self._watch_task: asyncio.Task[None] | None = None
        # False once a stop left work unfinished or uncommitted (exit code 1).
        self.stopped_cleanly = True

    def _count_restart(self, agent: str) -> None:
        self.metrics.agent_restarts.labels(agent=agent).inc()

    def _build(self) -> None:
        """Create the clients; aiokafka requires a running event loop for this."""
        settings, metrics = self.settings, self.metrics
        self._box = box_from(settings.configured_secret_key, settings.data_dir)
        bootstrap = settings.bootstrap_servers
        self.tracing = Tracing("hookstream-worker", settings.otlp_traces_endpoint)
        self._supervised: dict[str, Any] = {"on_restart": self._count_restart}
        self.topics = TopicAdmin(bootstrap, settings.replication_factor)
        self.producer = new_producer(bootstrap)
        self.views = ViewReader(bootstrap, **self._supervised)
        self.webhooks: CompactedTable[Webhook] = CompactedTable(
            self.views, WEBHOOKS, lambda raw: Webhook.from_json(raw, self._box)
        )
        self.flows: CompactedTable[Flow] = CompactedTable(self.views, FLOWS, Flow.from_json)
        self.flow_runner = FlowRunner(
            flows=self.flows,
            producer=self.producer,
            topics=self.topics,
            metrics=metrics,
            tracing=self.tracing,
        )
        self.run_flows = RunFlows(
            consumer=new_group_consumer(bootstrap, FLOWS_GROUP, max_poll_records=500),
            legacy=new_manual_consumer(bootstrap, LEGACY_FLOWS_GROUP),
            runner=self.flow_runner,
            flows=self.flows,
            producer=self.producer,
            metrics=metrics,
            **self._supervised,
        )
        for role in sorted(self.roles):
            self.memberships[role] = SlotMembership(
                bootstrap, membership_group(role), name=f"membership:{role}", **self._supervised
            )
        self.catalogue: CatalogueWriter | None = None
        if "route" in self.roles:
            self._build_routing(bootstrap)
        if "deliver" in self.roles:
            self._build_delivery(bootstrap)

    def _build_routing(self, bootstrap: str) -> None:
        settings = self.settings
        self.catalogue = CatalogueWriter(self.producer)
        self.route = RouteEvents(
            consumer=new_manual_consumer(bootstrap, ROUTE_GROUP, max_poll_records=2000),
            membership=self.memberships["route"],
            event_topics=settings.event_topics,
            refresh_seconds=settings.topic_refresh_seconds,
            delivery_partitions=settings.delivery_partitions,
            table=self.webhooks,
            producer=self.producer,
            catalogue=self.catalogue,
            topics=self.topics,
            metrics=self.metrics,
            tracing=self.tracing,
            api_url=settings.api_url,
            **self._supervised,
        )
        replays: CompactedTable[ReplayRecord] = CompactedTable(
            self.views, REPLAYS, decode_replay_record
        )
        self.replay = ReplayWebhooks(
            bootstrap=bootstrap,
            replays=replays,
            webhooks=self.webhooks,
            membership=self.memberships["route"],
            producer=self.producer,
            event_topics=settings.event_topics,
            rate=settings.replay_rate,
            metrics=self.metrics,
            api_url=settings.api_url,
            **self._supervised,
        )

    def _build_delivery(self, bootstrap: str) -> None:
        settings, metrics = self.settings, self.metrics
        # Its own producer with big batches: log records never queue behind
        # (or hold back) the deliveries and retries the main producer carries.
        self.log_producer = new_producer(bootstrap, linger_ms=20, max_batch_size=1024 * 1024)
        self.delivery_log = queued_delivery_log(self.log_producer, metrics)
        self.sender = Sender(
            timeout=settings.delivery_timeout,
            allow_private_targets=settings.allow_private_targets,
        )
        self.attempter = Attempter(
            sender=self.sender,
            producer=self.producer,
            metrics=metrics,
            api_url=settings.api_url,
            delivery_log=self.delivery_log,
            tracing=self.tracing,
        )
        failures = FailureRouter(
            box=self._box,
            producer=self.producer,
            webhooks=self.webhooks,
            schedule=settings.retry_schedule,
            metrics=metrics,
        )
        shared: dict[str, Any] = {
            "producer": self.producer,
            "concurrency": settings.delivery_concurrency,
            "table": self.webhooks,
            "attempter": self.attempter,
            "metrics": metrics,
            "on_failure": failures,
            **self._supervised,
        }
        self.deliver = DeliverWebhooks(
            consumer=new_manual_consumer(bootstrap, DELIVER_GROUP, max_poll_records=500),
            membership=self.memberships["deliver"],
            end_offsets=EndOffsets(bootstrap),
            tenant_limit=TenantSlots(settings.tenant_max_in_flight),
            **shared,
        )
        if settings.retry_tiers:
            self.retry = RetryDeliveries(
                topics=[retry_topic(label) for label in settings.retry_tiers],
                consumer=new_group_consumer(bootstrap, RETRY_GROUP, max_poll_records=500),
                **shared,
            )

    @property
    def agents(self) -> list[RouteEvents | DeliveryConsumer]:
        """The consumers of this worker's roles."""
        return [loop for loop in (self.route, self.deliver, self.retry) if loop is not None]

    @property
    def loops(self) -> list[SupervisedLoop]:
        """Every supervised loop, in start order; all must run for /readyz."""
        return [
            self.views,
            *self.agents,
            self.run_flows,
            *([self.replay] if self.replay is not None else []),
            *self.memberships.values(),
        ]

    async def start(self) -> None:
        self._build()
        self._built = True
        await self.topics.start()
        await self.topics.ensure(core_topics(self.settings.retry_tiers))
        await self.producer.start()
        if self.deliver is not None:
            await self.log_producer.start()
            await self.sender.start()
            await self.delivery_log.start()
        if self.catalogue is not None:
            await self.catalogue.start()
        for view in (self.webhooks, self.flows):
            await view.start()
            await view.wait_ready()
        for manual in (self.route, self.deliver):
            if manual is not None:
                await manual.start()
        if self.replay is not None:
            await self.replay.start()
        # Group joins take about half the session timeout on Tansu: join the
        # retry group and the membership groups at the same time.
        groups = [self.retry, self.run_flows, *self.memberships.values()]
        await asyncio.gather(*(loop.start() for loop in groups if loop is not None))
        self._watch_task = asyncio.create_task(self.stall_watch.run(), name="stall-watch")
        freeze_loaded_state()  # streams/collector.py
        self.started.set()
        log.info(
            "worker pipeline started roles=%s webhooks=%d",
            ",".join(sorted(self.roles)),
            len(self.webhooks),
        )

    async def stop(self) -> None:
        """In order, within STOP_BUDGET (hookstream/stopping.py); afterwards
        ``stopped_cleanly`` says whether everything was finished and committed."""
        if not self._built:
            return
        if self._watch_task is not None:
            self._watch_task.cancel()
        self.stopped_cleanly = await stop_within(self._stop_in_order(), what="worker")

    async def _stop_in_order(self) -> bool:
        # Memberships first, together (their release drains and commits what
        # this process owns), then the consumers, then what they write with.
        finished = True
        memberships = list(self.memberships.values())
        for membership, failure in zip(
            memberships,
            await asyncio.gather(*(m.stop() for m in memberships), return_exceptions=True),
            strict=True,
        ):
            if isinstance(failure, BaseException):
                log.error("error while stopping %s", membership.name, exc_info=failure)
            finished = finished and failure is None and membership.left_cleanly
        steps: list[Callable[[], Awaitable[None]]] = [
            *(agent.stop for agent in self.agents),
            *([self.replay.stop] if self.replay is not None else []),
            self.run_flows.stop,
            self.views.stop,
        ]
        if self.catalogue is not None:
            steps.append(self.catalogue.stop)
        if self.deliver is not None:
            steps += [self.delivery_log.stop, self.sender.close, self.log_producer.stop]
        steps += [self.producer.stop, self.topics.close, self.tracing.close]
        for close in steps:
            try:
                await close()
            except Exception:
                log.exception("error while stopping %s", close)
                finished = False
        return finished

    @property
    def ready(self) -> bool:
        """Tables loaded and every loop running (not down, backing off or stalled)."""
        if not self._built or not self.started.is_set():
            return False
        tables = self.webhooks.ready and self.flows.ready
        running = all(loop.running for loop in self.loops)
        return tables and running and not self.stall_watch.stalled()

    def status(self) -> dict[str, Any]:
        if not self._built:
            return {"ready": False, "webhooks": {}}
        return {
            "ready": self.ready,
            "roles": sorted(self.roles),
            "webhooks": {wh.id: wh.updated_at for wh in self.webhooks.values()},
            "flows": {flow.id: flow.updated_at for flow in self.flows.values()},
            # What this process owns right now, per role (scale-out and debugging).
            "slots": {role: sorted(m.slots) for role, m in self.memberships.items()},
            "partitions": {
                loop.name: sorted(f"{tp.topic}[{tp.partition}]" for tp in loop.assignment())
                for loop in self.agents
            },
            # The fetch wait each consumer uses now (streams/broker_compat.FetchWait).
            "fetch_wait_ms": {loop.name: loop.fetch_wait.ms for loop in self.agents},
            # Delivery partitions not fetched now because they have been quiet.
            "dormant": {
                loop.name: sorted(f"{tp.topic}[{tp.partition}]" for tp in loop.dormant())
                for loop in self.agents
                if isinstance(loop, DeliveryConsumer)
            },
            # Delivery loops: records unfinished, in flight, partitions paused.
            "load": {
                loop.name: loop.load() for loop in self.agents if isinstance(loop, DeliveryConsumer)
            },
        }


class WebOnlyBoot(BootStrategy):
    """faust starts its web server and tasks, but no Kafka client of its own:
    every agent is a consumer of ours, so faust's consumer would only join a
    group of its own (half a session timeout at start) and poll nothing."""

    enable_kafka = False
    enable_web = True


class WorkerApp(faust.App):
    BootStrategy = WebOnlyBoot


class StoppingWorker(faust.Worker):
    """faust's worker with hookstream's stop rules (hookstream/stopping.py):
    the first SIGTERM or SIGINT starts the orderly stop under a deadline, a
    second one exits at once (faust's own handler ignores every signal after
    the first, so a stop stuck on an unreachable Kafka never ended)."""

    def __init__(self, *args: Any, deadline: StopDeadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _schedule_shutdown(self, sig: signal.Signals) -> None:
        if self._deadline.signalled(sig):
            super()._schedule_shutdown(sig)


def create_worker_app(settings: Settings, metrics: Metrics) -> tuple[faust.App, WorkerRuntime]:
    app = WorkerApp(
        WORKER_APP_ID,
        broker=broker_urls(settings.bootstrap_servers),
        web_port=settings.worker_port,
        web_bind=settings.bind_host,  # /metrics and /internal/status
        topic_partitions=4,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        **faust_broker_options(),
    )
    runtime = WorkerRuntime(settings, metrics)

    async def start_pipeline() -> None:
        await runtime.start()

    async def stop_pipeline(sender: Any, *args: Any, **kwargs: Any) -> None:
        await runtime.stop()

    app.task(start_pipeline)
    app.on_before_shutdown.connect(stop_pipeline)  # type: ignore[arg-type]

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready = runtime.ready and await broker_reachable(settings.bootstrap_servers)
        return web.json({"ready": ready}, status=200 if ready else 503)

    @app.page("/internal/status")
    async def internal_status(web: Any, request: Any) -> Any:
        return web.json(runtime.status())

    return app, runtime
