"""Writing configuration records (webhooks, listeners) to their compacted
topics: the one path used by the admin API and by the worker (which disables
webhooks on 410 Gone)."""

from __future__ import annotations

from hookstream.secret_box import SecretBox
from schemas.timestamps import utc_now_iso
from schemas.webhooks import Webhook
from streams.publisher import Publisher
from streams.table import CompactedTable, TopicView


async def write_config(
    producer: Publisher, table: TopicView, key: str, value: bytes | None
) -> None:
    """Store (``None``: delete) and wait for the acknowledgement, then apply
    locally so the writer reads its own write at once."""
    written = await producer.send_and_wait(table.topic, key=key.encode(), value=value)
    table.apply_written(key, value, getattr(written, "offset", None))


async def disable_webhook(
    producer: Publisher,
    table: CompactedTable[Webhook],
    box: SecretBox,
    webhook_id: str,
    reason: str,
) -> Webhook | None:
    current = table.get(webhook_id)
    if current is None or not current.enabled:
        return current
    updated = current.model_copy(
        update={"enabled": False, "disabled_reason": reason, "updated_at": utc_now_iso()}
    )
    await write_config(producer, table, webhook_id, updated.to_json(box))
    return updated
