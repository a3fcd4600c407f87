"""Replay requests and cancel marks on ``hookstream.replays``, read back
from a :class:`CompactedTable` (the API's side; a worker runs replays)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, ConfigDict

from hookstream.config_writes import write_config
from hookstream.errors import NotFoundError, ValidationFailedError, kafka_unavailable
from schemas.replays import CancelMark, Replay, ReplayRecord, cancel_key, new_replay_id
from schemas.timestamps import iso_utc, utc_now_iso
from streams.table import CompactedTable


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime
    until: AwareDatetime | None = None


def replay_range(since: datetime, until: datetime | None, now: datetime) -> tuple[str, str]:
    """``since`` and ``until`` as stored: UTC, ``until`` at most now (later
    events are live traffic) and not before ``since``."""
    end = now if until is None or until > now else until
    if since > end:
        raise ValidationFailedError(
            "since: must not be after until (or now)",
            details=[{"field": "since", "message": "must not be after until (or now)"}],
        )
    return iso_utc(since), iso_utc(end)


class ReplayStore:
    def __init__(self, *, table: CompactedTable[ReplayRecord], producer: AIOKafkaProducer) -> None:
        self.table = table
        self._producer = producer

    async def start(self, webhook_id: str, since: datetime, until: datetime | None) -> Replay:
        first, last = replay_range(since, until, datetime.now(UTC))
        now = utc_now_iso()
        replay = Replay(new_replay_id(), webhook_id, first, last, created_at=now, updated_at=now)
        await self._write(replay.replay_id, replay.to_json())
        return replay

    def get(self, webhook_id: str, replay_id: str) -> Replay:
        found = self.table.get(replay_id)
        if not isinstance(found, Replay) or found.webhook_id != webhook_id:
            raise NotFoundError(f"replay {replay_id} not found")
        return found

    def of_webhook(self, webhook_id: str) -> list[Replay]:
        found = [r for r in self.table.values() if isinstance(r, Replay)]
        mine = [r for r in found if r.webhook_id == webhook_id]
        return sorted(mine, key=lambda r: r.created_at, reverse=True)

    def view(self, replay: Replay) -> dict[str, Any]:
        return replay.public(cancelled=self.table.get(cancel_key(replay.replay_id)) is not None)

    async def cancel(self, webhook_id: str, replay_id: str) -> Replay:
        replay = self.get(webhook_id, replay_id)
        if replay.status == "running":
            mark = CancelMark(replay_id, utc_now_iso())
            await self._write(cancel_key(replay_id), mark.to_json())
        return replay

    async def _write(self, key: str, value: bytes) -> None:
        try:
            await write_config(self._producer, self.table, key, value)
        except KafkaError as exc:
            raise kafka_unavailable(exc, "record the replay") from None
