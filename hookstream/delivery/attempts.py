"""One delivery attempt end to end: build the request, send it, measure it,
and record it on ``hookstream.delivery-log``. Shared by the delivery agent
and the API's ping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hookstream.delivery.delivery_log import DeliveryLog
from hookstream.delivery.payloads import OutboundRequest, build_request, redact_headers
from hookstream.delivery.retry_policy import Decision
from hookstream.delivery.sender import MAX_LOGGED_BODY, AttemptResult
from hookstream.metrics import Metrics
from hookstream.tracing import Tracing
from schemas.deliveries import Delivery
from schemas.timestamps import iso_utc, utc_now_iso
from schemas.webhooks import Webhook
from streams.topics import DELIVERY_LOG

log = logging.getLogger(__name__)


class SendsRequests(Protocol):
    """What an attempt needs of :class:`hookstream.delivery.sender.Sender`."""

    async def send(self, request: OutboundRequest) -> AttemptResult: ...


# What happens after a failed attempt (the worker's FailureRouter.plan),
# decided before the attempt is logged so that its record can say it.
Plan = Callable[[Delivery, AttemptResult], Decision]


def next_step(decision: Decision | None) -> dict[str, Any]:
    """The delivery-log fields saying what follows an attempt: when the next
    attempt is due, or why there is none (dead-lettered, the webhook
    disabled). Both None after a success, or when nothing was decided (a ping)."""
    if decision is None:
        return {"nextAttemptAt": None, "deadLetterReason": None}
    if decision.action == "retry":
        due = datetime.fromtimestamp(decision.not_before, UTC)
        return {"nextAttemptAt": iso_utc(due), "deadLetterReason": None}
    return {"nextAttemptAt": None, "deadLetterReason": decision.reason}


def log_record(
    webhook: Webhook,
    delivery: Delivery,
    request: OutboundRequest,
    result: AttemptResult,
    decision: Decision | None = None,
) -> dict[str, Any]:
    body = (request.body or b"")[:MAX_LOGGED_BODY].decode("utf-8", "replace")
    return {
        "deliveryId": delivery.delivery_id,
        "webhookId": webhook.id,
        "eventId": delivery.event.event_id,
        "eventType": delivery.event.event_type,
        "attempt": delivery.attempt,
        # A redelivery, recovery or replay starts again at attempt 1: this says which it was.
        "trigger": delivery.trigger,
        "outcome": result.outcome,
        "at": utc_now_iso(),
        "durationMs": round(result.duration * 1000, 2),
        "error": result.error,
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": redact_headers(request.headers),
            "body": body,
        },
        "response": (
            None
            if result.status is None
            else {"status": result.status, "headers": result.headers, "body": result.body}
        ),
        **next_step(decision),
        # Kept so redelivery can rebuild the delivery without the original event topic.
        "event": delivery.event.to_dict(),
    }


def seconds_since(iso_timestamp: str, now: float) -> float | None:
    try:
        moment = datetime.fromisoformat(iso_timestamp)
    except ValueError:
        return None
    return now - moment.timestamp()


class Attempter:
    """``delivery_log`` takes the delivery-log record without waiting (the worker's
    queued_delivery_log); without one, the record is sent on ``producer`` and its
    acknowledgement awaited (the API's ping shows what it wrote)."""

    def __init__(
        self,
        *,
        sender: SendsRequests,
        producer: AIOKafkaProducer,
        metrics: Metrics,
        api_url: str,
        delivery_log: DeliveryLog | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._sender = sender
        self._tracing = tracing or Tracing("hookstream")
        self._producer = producer
        self._metrics = metrics
        self._api_url = api_url
        self._log = delivery_log

    async def attempt(
        self, webhook: Webhook, delivery: Delivery
    ) -> tuple[AttemptResult, dict[str, Any]]:
        """One attempt, logged without saying what follows it (the API's ping)."""
        result, record, _ = await self.attempt_and_plan(webhook, delivery, None)
        return result, record

    async def attempt_and_plan(
        self, webhook: Webhook, delivery: Delivery, plan: Plan | None
    ) -> tuple[AttemptResult, dict[str, Any], Decision | None]:
        """One attempt; when it failed, ``plan`` decides what follows before
        the attempt is logged (the record then says when the next attempt is
        due), and the decision is returned for the caller to carry out."""
        # A child of the delivery's span: same trace, a new span id, which the
        # request's traceparent names (exported or not).
        span = self._tracing.start(
            "attempt",
            delivery.trace,
            kind="client",
            attributes={
                "hookstream.webhook.id": webhook.id,
                "hookstream.delivery.id": delivery.delivery_id,
                "hookstream.attempt": delivery.attempt,
            },
        )
        request = build_request(
            webhook, delivery, api_url=self._api_url, now=int(time.time()), trace=span.context
        )
        try:
            result = await self._sender.send(request)
        except BaseException:
            span.fail("attempt interrupted")  # cancelled: the worker is stopping
            span.end()
            raise
        span.set("http.response.status_code", result.status)
        span.set("hookstream.outcome", result.outcome)
        if not result.ok:
            span.fail(result.error or result.outcome)
        span.end()
        self._metrics.deliveries.labels(webhook.id, result.outcome).inc()
        self._metrics.delivery_duration.observe(result.duration)
        if result.ok:
            now = time.time()
            if delivery.enqueued_at > 0:
                self._metrics.delivery_end_to_end.observe(max(now - delivery.enqueued_at, 0.0))
            age = seconds_since(delivery.event.timestamp, now)
            if age is not None and age >= 0:
                self._metrics.event_age.observe(age)
        decision = None if result.ok or plan is None else plan(delivery, result)
        record = log_record(webhook, delivery, request, result, decision)
        if self._log is not None:
            self._log.write(webhook.id, record)
        else:
            await self._write_log(webhook, delivery, record)
        # Successes at DEBUG: thousands a second would drown the log, and the
        # delivery log topic records every attempt anyway.
        if not result.ok or log.isEnabledFor(logging.DEBUG):
            log.log(
                logging.DEBUG if result.ok else logging.INFO,
                "delivery webhook=%s delivery=%s attempt=%d outcome=%s status=%s ms=%.1f",
                webhook.id,
                delivery.delivery_id,
                delivery.attempt,
                result.outcome,
                result.status,
                result.duration * 1000,
            )
        return result, record, decision

    async def _write_log(
        self, webhook: Webhook, delivery: Delivery, record: dict[str, Any]
    ) -> None:
        # A failure here never fails the attempt: the log is for people, and
        # failing would re-send a delivered request.
        try:
            await self._producer.send_and_wait(
                DELIVERY_LOG, key=webhook.id.encode(), value=orjson.dumps(record)
            )
        except (KafkaError, TypeError, ValueError):
            log.exception("delivery-log write failed delivery=%s", delivery.delivery_id)
