"""run_flows: every accepted inbound webhook (``hookstream.flow-triggers``)
runs the flows of its listener. A flow's output goes to its destination
topic, and a ``flow.executed`` or ``flow.failed`` domain event goes to
``events.flows``, where outbound webhooks can subscribe to it.

:class:`RunFlows` consumes the fixed topic as an ordinary consumer group, a
fetched batch at a time: it first catches up with the flows table (a flow
created before a trigger was accepted runs on it), runs every trigger's
flows with sends that are not awaited one by one, waits for all of their
acknowledgements, then commits the batch. A failed write fails the batch:
the loop restarts from the last commit and runs those triggers again, with
the same execution ids (at-least-once).

It was a faust agent until faust's per-message path (an event object, a
channel hop and an acknowledgement per record) measured 40-75 us of the
worker's CPU per inbound webhook, on the same cores as the ingress it
follows; a batch costs a few microseconds per trigger (docs/performance.md).
On first start after an upgrade it continues from the offsets the faust
agent committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from hookstream.invalid_records import unreadable_record
from hookstream.metrics import Metrics
from hookstream.tracing import Span, Tracing
from hookstream.transforms import FlowOutcome, execution_id, run_flow
from schemas.flows import Flow
from schemas.timestamps import utc_now_iso
from schemas.trace_context import from_kafka_headers
from streams.broker_compat import FetchWait
from streams.commits import ThrottledCommits
from streams.kafka import TopicAdmin, stop_quietly
from streams.poison import fetch_isolating
from streams.service import SupervisedLoop, no_restart_hook
from streams.table import CompactedTable
from streams.topics import FLOW_EVENTS, FLOW_TRIGGERS, INVALID_EVENTS, TopicSpec

log = logging.getLogger(__name__)

DESTINATION_PARTITIONS = 4
MAX_BATCH = 500
POLL_MS = 100
CONFIG_CATCH_UP = 2.0
# Offsets of finished batches are committed at most this often, when the
# topic goes quiet and when partitions are given up (a commit per batch was
# as many broker requests as fetches). A crash runs at most this much again,
# with the same execution ids.
COMMIT_EVERY = 0.5


def flow_event(flow: Flow, trigger: dict[str, Any], outcome: FlowOutcome) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "flowId": flow.id,
        "flowName": flow.name,
        "listenerId": flow.listener_id,
        "triggerDeliveryId": trigger.get("deliveryId"),
        "destinationTopic": flow.destination_topic,
    }
    if outcome.error is not None:
        entity["error"] = outcome.error
    return {
        "eventId": execution_id(flow.id, str(trigger.get("deliveryId") or "")),
        "eventType": f"flow.{outcome.status}",
        "entityId": flow.id,
        "entity": entity,
        "timestamp": utc_now_iso(),
    }


class FlowRunner:
    def __init__(
        self,
        *,
        flows: CompactedTable[Flow],
        producer: AIOKafkaProducer,
        topics: TopicAdmin,
        metrics: Metrics,
        tracing: Tracing | None = None,
    ) -> None:
        self._flows = flows
        self._tracing = tracing or Tracing("hookstream")
        self._producer = producer
        self._topics = topics
        self._metrics = metrics

    async def handle(self, raw: bytes | None) -> None:
        """Run one trigger's flows and wait until their writes are stored."""
        await asyncio.gather(*await self.start(raw))

    async def start(self, raw: bytes | None, headers: Any = None) -> list[asyncio.Future[Any]]:
        """Run one trigger's flows; returns the acknowledgements of their
        writes (queued, not awaited: a batch waits for all at once)."""
        try:
            trigger = orjson.loads(raw or b"")
        except orjson.JSONDecodeError:
            log.exception("undecodable flow trigger skipped")
            return []
        if not isinstance(trigger, dict):
            log.error("flow trigger is not an object; skipped")
            return []
        listener_id = trigger.get("listenerId")
        acks: list[asyncio.Future[Any]] = []
        for flow in self._flows.values():
            if flow.enabled and flow.listener_id == listener_id:
                acks += await self._run(flow, trigger, headers)
        return acks

    async def _run(
        self, flow: Flow, trigger: dict[str, Any], headers: Any = None
    ) -> list[asyncio.Future[Any]]:
        # The ingress's span is the parent; what the flow writes carries this
        # span on, so the webhooks of flow.* events continue the same trace.
        span = self._tracing.start(
            "flow run",
            from_kafka_headers(headers),
            kind="consumer",
            attributes={"hookstream.flow.id": flow.id, "hookstream.listener.id": flow.listener_id},
        )
        try:
            return await self._run_traced(flow, trigger, span)
        finally:
            span.end()

    async def _run_traced(
        self, flow: Flow, trigger: dict[str, Any], span: Span
    ) -> list[asyncio.Future[Any]]:
        outcome = run_flow(flow, trigger)
        if outcome.status == "executed":
            try:
                await self._topics.ensure(
                    [TopicSpec(flow.destination_topic, DESTINATION_PARTITIONS)]
                )
            except KafkaError as exc:
                # Refused (a name or policy the cluster does not allow): the
                # flow failed; raising would run the batch again forever.
                outcome = FlowOutcome(
                    "failed", error=f"destination topic {flow.destination_topic}: {exc!r}"
                )
        self._metrics.flow_runs.labels(flow.id, outcome.status).inc()
        if outcome.status == "skipped":
            return []
        span.set("hookstream.flow.outcome", outcome.status)
        if outcome.error is not None:
            span.fail(outcome.error)
        acks = []
        key = str(trigger.get("deliveryId") or "").encode() or None
        out_headers = span.context.kafka_headers() if span.context is not None else None
        if outcome.status == "executed":
            value = orjson.dumps(outcome.output)
            acks.append(
                await self._producer.send(
                    flow.destination_topic, key=key, value=value, headers=out_headers
                )
            )
        else:
            log.info("flow failed flow=%s reason=%s", flow.id, outcome.error)
        event = orjson.dumps(flow_event(flow, trigger, outcome))
        acks.append(
            await self._producer.send(
                FLOW_EVENTS, key=flow.id.encode(), value=event, headers=out_headers
            )
        )
        return acks


class RunFlows(SupervisedLoop, ConsumerRebalanceListener):  # type: ignore[misc]
    """The consumer of ``hookstream.flow-triggers`` (see the module docstring)."""

    name = "run_flows"
    beats = True

    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        runner: FlowRunner,
        flows: CompactedTable[Flow],
        producer: AIOKafkaProducer,
        metrics: Metrics,
        legacy: AIOKafkaConsumer | None = None,
        on_restart: Any = no_restart_hook,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self._consumer = consumer
        # A client of the old agent's group, only to read its offsets (never joins it).
        self._legacy = legacy
        self._legacy_started = False
        self._runner = runner
        self._flows = flows
        self._producer = producer
        self._metrics = metrics
        # Busy, fetches gather a batch (or the fetch wait, 20 ms): a fetch per
        # few triggers made the broker's share of an inbound webhook grow by
        # a third.
        self.fetch_wait = FetchWait(consumer, batch_from=1)
        # Finished batches, committed at most every COMMIT_EVERY: a crash runs
        # their triggers again, with the same execution ids.
        self._commits = ThrottledCommits(consumer, every=COMMIT_EVERY, name="run_flows")

    async def setup(self) -> None:
        self._consumer.subscribe(topics=[FLOW_TRIGGERS], listener=self)
        await self._consumer.start()

    async def teardown(self) -> None:
        await stop_quietly(self._consumer, self.name)
        if self._legacy is not None and self._legacy_started:
            await stop_quietly(self._legacy, f"{self.name}:legacy")

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Batches finish before the next fetch, and a rebalance happens in a
        # fetch: what is done here is everything this worker ran.
        await self._commits.commit()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("%s assigned %d partitions", self.name, len(assigned))
        if self._legacy is None:
            return
        for tp in assigned:
            if await self._consumer.committed(tp) is None:
                # First start after the upgrade: continue where faust's agent stopped.
                offset = await self._legacy_offset(tp)
                if offset is not None:
                    self._consumer.seek(tp, offset)

    async def _legacy_offset(self, tp: TopicPartition) -> int | None:
        assert self._legacy is not None
        try:
            if not self._legacy_started:
                await self._legacy.start()
                self._legacy_started = True
            return await self._legacy.committed(tp)  # type: ignore[no-any-return]
        except KafkaError as exc:
            log.warning("no offset of the old run_flows group for %s (%r)", tp, exc)
            return None

    async def recover(self) -> None:
        """Run again from the last commit: the failed batch is not lost."""
        self._commits.forget()
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    async def run(self) -> None:
        while True:
            batches = await fetch_isolating(
                self._consumer,
                timeout_ms=POLL_MS,
                max_records=MAX_BATCH,
                on_unreadable=self._unreadable,
            )
            if batches:
                await self._run_batch(batches)
            if self._commits and (not batches or self._commits.due()):
                await self._commits.commit()
            self.fetch_wait.after_fetch(bool(batches))
            self.progressed()

    async def _run_batch(self, batches: dict[TopicPartition, list[Any]]) -> None:
        if not await self._flows.catch_up(timeout=CONFIG_CATCH_UP):
            log.warning("flows table did not catch up in %.0fs; running anyway", CONFIG_CATCH_UP)
        acks: list[asyncio.Future[Any]] = []
        for records in batches.values():
            for record in records:
                acks += await self._runner.start(record.value, record.headers)
        await asyncio.gather(*acks)  # a failed write raises: restart from the commit
        self._commits.finished({tp: records[-1].offset + 1 for tp, records in batches.items()})

    async def _unreadable(self, tp: TopicPartition, offset: int, exc: Exception) -> None:
        log.error("unreadable flow trigger %s@%d skipped: %r", tp, offset, exc)
        self._metrics.invalid_events.labels(topic=tp.topic).inc()
        value = unreadable_record(tp.topic, tp.partition, offset, exc)
        await self._producer.send_and_wait(INVALID_EVENTS, value=value)
