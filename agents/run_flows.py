"""run_flows: every accepted inbound webhook (``hookstream.flow-triggers``)
runs the flows of its listener. A flow's output goes to its destination
topic, and a ``flow.executed`` or ``flow.failed`` domain event goes to
``events.flows``, where outbound webhooks can subscribe to it.

``hookstream.flow-triggers`` is one fixed topic, so this is a real faust
agent (:func:`define_run_flows`); :class:`FlowRunner` is what it calls for
each message. Writes are awaited before the agent moves on, so faust commits
the trigger only after its results are stored (at-least-once; execution ids
are stable).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaProducer

from hookstream.metrics import Metrics
from hookstream.transforms import FlowOutcome, execution_id, run_flow
from schemas.flows import Flow
from schemas.timestamps import utc_now_iso
from streams.kafka import TopicAdmin
from streams.table import CompactedTable
from streams.topics import FLOW_EVENTS, FLOW_TRIGGERS, TopicSpec

log = logging.getLogger(__name__)

DESTINATION_PARTITIONS = 4


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
    ) -> None:
        self._flows = flows
        self._producer = producer
        self._topics = topics
        self._metrics = metrics

    async def handle(self, raw: bytes | None) -> None:
        try:
            trigger = orjson.loads(raw or b"")
        except orjson.JSONDecodeError:
            log.exception("undecodable flow trigger skipped")
            return
        if not isinstance(trigger, dict):
            log.error("flow trigger is not an object; skipped")
            return
        listener_id = trigger.get("listenerId")
        acks: list[asyncio.Future[Any]] = []
        for flow in self._flows.values():
            if flow.enabled and flow.listener_id == listener_id:
                acks += await self._run(flow, trigger)
        await asyncio.gather(*acks)

    async def _run(self, flow: Flow, trigger: dict[str, Any]) -> list[asyncio.Future[Any]]:
        outcome = run_flow(flow, trigger)
        self._metrics.flow_runs.labels(flow.id, outcome.status).inc()
        if outcome.status == "skipped":
            return []
        acks = []
        key = str(trigger.get("deliveryId") or "").encode() or None
        if outcome.status == "executed":
            await self._topics.ensure([TopicSpec(flow.destination_topic, DESTINATION_PARTITIONS)])
            value = orjson.dumps(outcome.output)
            acks.append(await self._producer.send(flow.destination_topic, key=key, value=value))
        else:
            log.info("flow failed flow=%s reason=%s", flow.id, outcome.error)
        event = orjson.dumps(flow_event(flow, trigger, outcome))
        acks.append(await self._producer.send(FLOW_EVENTS, key=flow.id.encode(), value=event))
        return acks


TriggerHandler = Callable[[bytes | None], Awaitable[None]]


def define_run_flows(app: faust.App, handle: TriggerHandler) -> Any:
    """The faust agent on ``hookstream.flow-triggers``; faust commits each
    trigger's offset after ``handle`` returns."""
    flow_triggers = app.topic(FLOW_TRIGGERS, key_serializer="raw", value_serializer="raw")

    async def run_flows(stream: Any) -> None:
        async for value in stream:
            await handle(value)

    return app.agent(flow_triggers, name="run_flows")(run_flows)
