"""FailureRouter without Kafka: what it writes after a failed attempt, into a
MemoryPublisher, with a fixed clock and random source."""

from __future__ import annotations

import random
from dataclasses import replace

import orjson
import pytest

from hookstream.delivery.failure_router import FailureRouter
from hookstream.delivery.sender import AttemptResult
from hookstream.metrics import Metrics
from hookstream.secret_box import SecretBox
from schemas.deliveries import Delivery
from schemas.webhooks import Webhook
from streams.publisher import MemoryPublisher
from streams.table import CompactedTable
from streams.topics import DEAD_LETTERS, WEBHOOKS, retry_topic
from tests.unit.factories import make_delivery, make_webhook

NOW = 1_800_000_000.0
SCHEDULE = (5.0, 60.0)
BOX = SecretBox("unit-test-key")


def failure(status: int = 500, **extra: object) -> AttemptResult:
    return AttemptResult(outcome="http_error", duration=0.01, status=status, **extra)  # type: ignore[arg-type]


@pytest.fixture
def webhook() -> Webhook:
    return make_webhook()


@pytest.fixture
async def table(webhook: Webhook) -> CompactedTable[Webhook]:
    # Never started: only its in-memory view is used.
    view: CompactedTable[Webhook] = CompactedTable(
        "127.0.0.1:1", WEBHOOKS, lambda raw: Webhook.from_json(raw, BOX)
    )
    view.apply(webhook.id, webhook.to_json(BOX))
    return view


def router(publisher: MemoryPublisher, table: CompactedTable[Webhook]) -> FailureRouter:
    return FailureRouter(
        producer=publisher,
        webhooks=table,
        box=BOX,
        schedule=SCHEDULE,
        metrics=Metrics(),
        clock=lambda: NOW,
        rng=random.Random(7),
    )


async def test_a_first_failure_is_scheduled_on_the_first_tier(
    webhook: Webhook, table: CompactedTable[Webhook]
) -> None:
    publisher = MemoryPublisher()
    delivery = make_delivery(webhook)
    await router(publisher, table)(webhook, delivery, failure())
    (record,) = publisher.records
    assert record.topic == retry_topic("5s")
    assert record.key == delivery.delivery_id.encode()
    assert record.value is not None
    retry = Delivery.from_json(record.value)
    assert retry.delivery_id == delivery.delivery_id  # the same id on every attempt
    assert retry.attempt == 2
    assert 4.0 <= retry.not_before - NOW <= 6.0  # 5 s, jittered by at most ±20 %
    assert [h["status"] for h in retry.history] == [500]


async def test_the_last_failure_is_dead_lettered_with_every_attempt(
    webhook: Webhook, table: CompactedTable[Webhook]
) -> None:
    publisher = MemoryPublisher()
    last = make_delivery(webhook)
    for _ in SCHEDULE:
        last = last.next_attempt({"attempt": last.attempt, "status": 500}, 0.0)
    await router(publisher, table)(webhook, last, failure(503))
    (record,) = publisher.records
    assert record.topic == DEAD_LETTERS
    assert record.value is not None
    dead = orjson.loads(record.value)
    assert dead["deliveryId"] == last.delivery_id
    assert [a["attempt"] for a in dead["attempts"]] == [1, 2, 3]
    assert dead["event"]["eventId"] == last.event.event_id


async def test_a_delivery_not_sent_is_dead_lettered_as_it_stood(
    webhook: Webhook, table: CompactedTable[Webhook]
) -> None:
    publisher = MemoryPublisher()
    waiting = make_delivery(webhook).next_attempt({"attempt": 1, "status": 500}, NOW + 5)
    await router(publisher, table).not_sent(waiting, "webhook disabled")
    (record,) = publisher.records
    assert record.topic == DEAD_LETTERS and record.key == waiting.delivery_id.encode()
    assert record.value is not None
    dead = orjson.loads(record.value)
    assert dead["reason"] == "webhook disabled"
    assert [a["attempt"] for a in dead["attempts"]] == [1]  # nothing added: not attempted
    assert dead["event"]["eventId"] == waiting.event.event_id


async def test_gone_disables_the_webhook_then_dead_letters(
    webhook: Webhook, table: CompactedTable[Webhook]
) -> None:
    publisher = MemoryPublisher()
    await router(publisher, table)(webhook, make_delivery(webhook), failure(410))
    assert [r.topic for r in publisher.records] == [WEBHOOKS, DEAD_LETTERS]
    stored = publisher.on(WEBHOOKS)[0]
    assert stored.value is not None
    disabled = Webhook.from_json(stored.value, BOX)
    assert not disabled.enabled
    assert disabled.disabled_reason is not None
    assert "410" in disabled.disabled_reason
    current = table.get(webhook.id)
    assert current is not None
    assert not current.enabled  # the writer reads its own write at once


async def test_a_write_that_fails_fails_the_call(
    webhook: Webhook, table: CompactedTable[Webhook]
) -> None:
    # The lane retries the record; nothing is committed past a failure.
    publisher = MemoryPublisher(fail_with=ConnectionError("broker away"))
    with pytest.raises(ConnectionError):
        await router(publisher, table)(webhook, make_delivery(webhook), failure())


async def test_the_planned_decision_is_the_one_carried_out_and_the_trigger_stays(
    webhook: Webhook, table: CompactedTable[Webhook]
) -> None:
    # The attempter logs the plan ("next attempt at …"): the retry is due then.
    publisher = MemoryPublisher()
    routing = router(publisher, table)
    delivery = replace(make_delivery(webhook), trigger="redelivery")
    planned = routing.plan(delivery, failure())
    assert planned.action == "retry"
    await routing(webhook, delivery, failure(), planned)
    (record,) = publisher.records
    assert record.value is not None
    retry = Delivery.from_json(record.value)
    assert retry.not_before == planned.not_before
    assert retry.trigger == "redelivery"  # still marked on its next attempt


def test_a_delivery_without_a_known_trigger_reads_as_a_routed_event() -> None:
    delivery = make_delivery(make_webhook())
    assert Delivery.from_json(delivery.to_json()).trigger == "event"
    assert b"trigger" not in delivery.to_json()  # records of routed events are unchanged
    raw = orjson.loads(replace(delivery, trigger="recovery").to_json())
    assert Delivery.from_json(orjson.dumps(raw)).trigger == "recovery"
    raw["trigger"] = "from the future"
    assert Delivery.from_json(orjson.dumps(raw)).trigger == "event"
