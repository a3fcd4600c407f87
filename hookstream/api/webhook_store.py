"""Webhook configuration: validated changes written to the compacted
``hookstream.webhooks`` topic, read back from a :class:`CompactedTable`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver
from aiokafka import AIOKafkaProducer

from hookstream.api.record_store import RecordStore
from hookstream.delivery.targets import TargetNotAllowedError, check_host
from hookstream.errors import ValidationFailedError
from hookstream.filters import FilterError, compile_filter
from hookstream.secret_box import SecretBox
from schemas.timestamps import utc_now_iso
from schemas.webhooks import REDACTED_VALUE, Webhook, WebhookSpec, is_sensitive_header
from streams.kafka import TopicAdmin
from streams.table import CompactedTable
from streams.topics import TopicSpec, delivery_topic

# Secrets are write-only: a GET → PUT round trip omits them, and must not
# silently remove them. Omitted keeps the stored value; explicit null clears.
WRITE_ONLY_FIELDS = ("secret", "basicAuth")


def _keep_password(current: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    """``basicAuth`` with a username and no password keeps the stored
    password (it is write-only: nobody can send it back unchanged)."""
    auth = body.get("basicAuth")
    if isinstance(auth, dict) and "password" not in auth and current.basic_auth is not None:
        return {**body, "basicAuth": {**auth, "password": current.basic_auth.password}}
    return body


def _keep_sensitive_headers(current: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    """A sensitive header sent back as the API showed it (``[redacted]``)
    keeps its stored value: a GET → PUT round trip, or the console's form,
    changes nothing it did not mean to."""
    headers = body.get("headers")
    if not isinstance(headers, dict):
        return body
    stored = {name.lower(): value for name, value in current.headers.items()}
    kept = dict(headers)
    for name, value in headers.items():
        if value == REDACTED_VALUE and isinstance(name, str) and is_sensitive_header(name):
            if name.lower() not in stored:
                raise ValidationFailedError(
                    f"headers: {name} is write-only; send its value",
                    details=[{"field": "headers", "message": f"{name} has no stored value"}],
                )
            kept[name] = stored[name.lower()]
    return {**body, "headers": kept}


def _keep_write_only(current: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    """Write-only values a PUT or PATCH leaves as the API shows them keep
    their stored values."""
    return _keep_sensitive_headers(current, _keep_password(current, body))


def check_filter(spec: WebhookSpec) -> None:
    """A filter is stored only if it compiles; else 422 naming its path."""
    if spec.content_filter is None:
        return
    try:
        compile_filter(spec.content_filter)
    except FilterError as exc:
        raise ValidationFailedError(
            str(exc), details=[{"field": exc.path, "message": exc.message}]
        ) from None


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(8)


class WebhookStore(RecordStore[Webhook]):
    kind = "webhook"

    def __init__(
        self,
        *,
        table: CompactedTable[Webhook],
        producer: AIOKafkaProducer,
        topics: TopicAdmin,
        resolver: AbstractResolver | None,
        delivery_partitions: int,
        box: SecretBox,
    ) -> None:
        self._box = box
        super().__init__(table=table, producer=producer)
        self._topics = topics
        self._resolver = resolver  # None: private targets allowed
        self._delivery_partitions = delivery_partitions

    async def create(self, body: dict[str, Any]) -> Webhook:
        spec = WebhookSpec.model_validate(body)
        check_filter(spec)
        await self._check_target(spec.url)
        now = utc_now_iso()
        webhook = Webhook(**spec.model_dump(), id=new_webhook_id(), created_at=now, updated_at=now)
        await self.delivery_topic(webhook)
        await self._store(webhook.id, webhook.to_json(self._box))
        return webhook

    async def delivery_topic(self, webhook: Webhook) -> str:
        """The topic deliveries to ``webhook`` go to, created if missing. The
        one place the API decides it (creation, redelivery, recovery)."""
        topic = delivery_topic(webhook.id)
        await self._topics.ensure([TopicSpec(topic, self._delivery_partitions)])
        return topic

    async def replace(self, webhook_id: str, body: dict[str, Any]) -> Webhook:
        current = self.get(webhook_id)
        stored = current.model_dump(by_alias=True, mode="json")
        for name in WRITE_ONLY_FIELDS:
            body.setdefault(name, stored.get(name))
        return await self._save(
            current, WebhookSpec.model_validate(_keep_write_only(current, body))
        )

    async def update(self, webhook_id: str, patch: dict[str, Any]) -> Webhook:
        current = self.get(webhook_id)
        merged = current.model_dump(by_alias=True, include=set(WebhookSpec.model_fields))
        merged.update(_keep_write_only(current, patch))
        return await self._save(current, WebhookSpec.model_validate(merged))

    async def _save(self, current: Webhook, spec: WebhookSpec) -> Webhook:
        check_filter(spec)
        if spec.url != current.url:
            await self._check_target(spec.url)
        reason = None if spec.enabled else current.disabled_reason
        updated = Webhook(
            **spec.model_dump(),
            id=current.id,
            created_at=current.created_at,
            updated_at=utc_now_iso(),
            disabled_reason=reason,
        )
        updated.previous_secrets = updated.rotated_from(current, datetime.now(UTC))
        await self._store(current.id, updated.to_json(self._box))
        return updated

    async def _check_target(self, url: str) -> None:
        if self._resolver is None:
            return
        try:
            await check_host(urlsplit(url).hostname or "", self._resolver)
        except TargetNotAllowedError as exc:
            raise ValidationFailedError(
                f"url: {exc} (set HOOKSTREAM_ALLOW_PRIVATE_TARGETS=true for development)",
                details=[{"field": "url", "message": str(exc)}],
            ) from None
