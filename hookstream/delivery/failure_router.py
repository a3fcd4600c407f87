"""After a failed attempt: schedule the next one on a delay tier, dead-letter
the delivery, or disable a webhook whose endpoint answered 410 Gone.

Every write here is awaited before the failed record's offset may be
committed, so a failure is never forgotten."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import orjson

from hookstream.config_writes import disable_webhook
from hookstream.delivery.retry_policy import Decision, decide
from hookstream.delivery.sender import AttemptResult
from hookstream.metrics import Metrics
from hookstream.secret_box import SecretBox
from schemas.deliveries import Delivery
from schemas.timestamps import utc_now_iso
from schemas.webhooks import Webhook
from streams.publisher import Publisher
from streams.table import CompactedTable
from streams.topics import DEAD_LETTERS, retry_topic

log = logging.getLogger(__name__)


def attempt_summary(delivery: Delivery, result: AttemptResult) -> dict[str, Any]:
    return {
        "attempt": delivery.attempt,
        "at": utc_now_iso(),
        "outcome": result.outcome,
        "status": result.status,
        "error": result.error,
        "durationMs": round(result.duration * 1000, 2),
    }


def dead_letter_record(delivery: Delivery, reason: str) -> bytes:
    return orjson.dumps(
        {
            "deliveryId": delivery.delivery_id,
            "webhookId": delivery.webhook_id,
            "reason": reason,
            "deadAt": utc_now_iso(),
            "attempts": list(delivery.history),
            "event": delivery.event.to_dict(),
        }
    )


class FailureRouter:
    def __init__(
        self,
        *,
        producer: Publisher,
        webhooks: CompactedTable[Webhook],
        box: SecretBox,
        schedule: tuple[float, ...],
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._producer = producer
        self._webhooks = webhooks
        self._box = box
        self._schedule = schedule
        self._metrics = metrics
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def plan(self, delivery: Delivery, result: AttemptResult) -> Decision:
        """What follows this failed attempt (no I/O): the attempter asks
        before logging the attempt, so the log can say when the next is due."""
        return decide(
            attempt=delivery.attempt,
            result=result,
            schedule=self._schedule,
            now=self._clock(),
            rng=self._rng,
        )

    async def __call__(
        self,
        webhook: Webhook,
        delivery: Delivery,
        result: AttemptResult,
        decision: Decision | None = None,
    ) -> None:
        """Carry out ``decision`` (the plan made when the attempt was logged;
        planned now when not given)."""
        if decision is None:
            decision = self.plan(delivery, result)
        now = self._clock()
        summary = attempt_summary(delivery, result)
        if decision.action == "retry":
            assert decision.tier is not None
            retry = delivery.next_attempt(summary, decision.not_before)
            await self._producer.send_and_wait(
                retry_topic(decision.tier), key=delivery.delivery_id.encode(), value=retry.to_json()
            )
            self._metrics.retries_scheduled.inc()
            log.info(
                "retry scheduled delivery=%s attempt=%d tier=%s in=%.1fs",
                delivery.delivery_id,
                retry.attempt,
                decision.tier,
                decision.not_before - now,
            )
            return
        if decision.action == "disable":
            await disable_webhook(
                self._producer, self._webhooks, self._box, webhook.id, decision.reason
            )
            log.warning("webhook disabled webhook=%s reason=%s", webhook.id, decision.reason)
        final = delivery.next_attempt(summary, 0.0)
        await self._dead_letter(final, decision.reason, logging.WARNING)

    async def not_sent(self, delivery: Delivery, reason: str) -> None:
        """Dead-letter a delivery that was not attempted (its webhook is
        disabled); its earlier attempts, if any, travel with it."""
        await self._dead_letter(delivery, reason, logging.INFO)

    async def _dead_letter(self, delivery: Delivery, reason: str, level: int) -> None:
        await self._producer.send_and_wait(
            DEAD_LETTERS,
            key=delivery.delivery_id.encode(),
            value=dead_letter_record(delivery, reason),
        )
        self._metrics.dead_letters.inc()
        log.log(
            level,
            "dead-lettered delivery=%s webhook=%s reason=%s",
            delivery.delivery_id,
            delivery.webhook_id,
            reason,
        )
