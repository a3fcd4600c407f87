"""Attempter without Kafka or HTTP: a fake sender answers, the delivery-log
record goes to a MemoryDeliveryLog, metrics come from a private registry."""

from __future__ import annotations

import time
from dataclasses import replace

from prometheus_client import CollectorRegistry

from hookstream.delivery.attempts import Attempter
from hookstream.delivery.delivery_log import MemoryDeliveryLog
from hookstream.delivery.payloads import OutboundRequest
from hookstream.delivery.retry_policy import Decision
from hookstream.delivery.sender import AttemptResult
from hookstream.metrics import Metrics
from schemas.deliveries import Delivery
from tests.unit.factories import make_delivery, make_webhook


class FakeSender:
    def __init__(self, result: AttemptResult) -> None:
        self.result = result
        self.requests: list[OutboundRequest] = []

    async def send(self, request: OutboundRequest) -> AttemptResult:
        self.requests.append(request)
        return self.result


def attempter(
    sender: FakeSender, registry: CollectorRegistry
) -> tuple[Attempter, MemoryDeliveryLog]:
    delivery_log = MemoryDeliveryLog()
    return (
        Attempter(
            sender=sender,
            producer=None,  # type: ignore[arg-type] - never used with a delivery log
            metrics=Metrics(registry),
            api_url="https://hookstream.example",
            delivery_log=delivery_log,
        ),
        delivery_log,
    )


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_success_is_counted_logged_with_secrets_redacted_and_timed() -> None:
    registry = CollectorRegistry()
    sender = FakeSender(AttemptResult(outcome="success", duration=0.02, status=204))
    run, delivery_log = attempter(sender, registry)
    webhook = make_webhook(secret="s3cret", basicAuth={"username": "u", "password": "p"})
    delivery = replace(make_delivery(webhook), enqueued_at=time.time() - 2.0)

    result, record = await run.attempt(webhook, delivery)

    assert result.ok
    (request,) = sender.requests
    assert request.headers["X-Etl-Webhook-Event-Id"] == delivery.delivery_id
    assert delivery_log.records == [(webhook.id, record)]
    logged = record["request"]["headers"]
    assert logged["Authorization"] == "[redacted]"
    assert logged["X-Etl-Webhook-Signature"] == "[redacted]"
    assert "s3cret" not in str(record)
    assert record["response"]["status"] == 204
    labels = {"webhook": webhook.id, "outcome": "success"}
    assert sample(registry, "hookstream_deliveries_total", **labels) == 1.0
    # Time on the topic: the record's enqueue time, not the event's own stamp.
    e2e = sample(registry, "hookstream_delivery_end_to_end_seconds_sum")
    assert 2.0 <= e2e < 60.0
    assert sample(registry, "hookstream_event_age_seconds_count") == 1.0


async def test_a_failure_is_counted_by_outcome_and_not_timed_end_to_end() -> None:
    registry = CollectorRegistry()
    sender = FakeSender(AttemptResult(outcome="timeout", duration=3.0, error="timed out"))
    run, delivery_log = attempter(sender, registry)
    webhook = make_webhook()

    result, record = await run.attempt(webhook, make_delivery(webhook))

    assert not result.ok
    assert record["outcome"] == "timeout"
    assert record["response"] is None
    assert len(delivery_log.records) == 1
    labels = {"webhook": webhook.id, "outcome": "timeout"}
    assert sample(registry, "hookstream_deliveries_total", **labels) == 1.0
    assert sample(registry, "hookstream_delivery_end_to_end_seconds_count") == 0.0


async def test_a_failed_attempt_is_logged_with_when_the_next_one_is_due() -> None:
    sender = FakeSender(AttemptResult(outcome="http_error", duration=0.01, status=500))
    run, _ = attempter(sender, CollectorRegistry())
    webhook = make_webhook()
    delivery = replace(make_delivery(webhook), trigger="redelivery")
    retry = Decision("retry", "http_error (HTTP 500)", tier="5s", not_before=1_800_000_005.25)

    _, record, decision = await run.attempt_and_plan(
        webhook, delivery, lambda _delivery, _result: retry
    )

    assert decision is retry
    assert record["trigger"] == "redelivery"
    assert record["nextAttemptAt"] == "2027-01-15T08:00:05.250Z"
    assert record["deadLetterReason"] is None


async def test_a_last_attempt_is_logged_with_why_it_is_the_last() -> None:
    sender = FakeSender(AttemptResult(outcome="http_error", duration=0.01, status=500))
    run, _ = attempter(sender, CollectorRegistry())
    webhook = make_webhook()
    last = Decision("dead_letter", "gave up after 8 attempts; last: http_error (HTTP 500)")

    _, record, _ = await run.attempt_and_plan(webhook, make_delivery(webhook), lambda *_: last)

    assert record["trigger"] == "event"
    assert record["nextAttemptAt"] is None
    assert record["deadLetterReason"] == last.reason


async def test_a_success_is_not_planned_and_a_ping_says_nothing_follows() -> None:
    planned: list[Delivery] = []

    def plan(delivery: Delivery, result: AttemptResult) -> Decision:
        planned.append(delivery)
        raise AssertionError("a success is never planned")

    webhook = make_webhook()
    ok = FakeSender(AttemptResult(outcome="success", duration=0.01, status=200))
    run, _ = attempter(ok, CollectorRegistry())
    _, record, decision = await run.attempt_and_plan(webhook, make_delivery(webhook), plan)
    assert decision is None and planned == []
    assert record["nextAttemptAt"] is None and record["deadLetterReason"] is None

    failing = FakeSender(AttemptResult(outcome="timeout", duration=3.0, error="timed out"))
    run, _ = attempter(failing, CollectorRegistry())
    _, record = await run.attempt(webhook, make_delivery(webhook))  # a ping: no plan
    assert record["nextAttemptAt"] is None and record["deadLetterReason"] is None
