"""Replays of a webhook's history: the records of the compacted
``hookstream.replays`` topic.

Two kinds of record, so that each key has one writer: the replay itself
(key: replay id), written by the API when it is asked for and then only by
the worker that runs it (progress, outcome); and a cancel mark (key: replay
id + ``/cancel``), written by the API alone. A reader sees a replay as
cancelled as soon as its mark exists.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import orjson

Status = Literal["running", "done", "failed", "cancelled"]
CANCEL_SUFFIX = "/cancel"
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})


def new_replay_id() -> str:
    return "rpl_" + secrets.token_hex(8)


def cancel_key(replay_id: str) -> str:
    return replay_id + CANCEL_SUFFIX


def partition_key(topic: str, partition: int) -> str:
    """How a partition is named in ``positions`` and ``ends`` (JSON keys)."""
    return f"{topic}:{partition}"


def split_partition_key(key: str) -> tuple[str, int]:
    topic, _, partition = key.rpartition(":")
    return topic, int(partition)


@dataclass(frozen=True, slots=True)
class Replay:
    replay_id: str
    webhook_id: str
    since: str  # ISO 8601 UTC, inclusive
    until: str  # ISO 8601 UTC, inclusive
    created_at: str
    updated_at: str
    status: Status = "running"
    scanned: int = 0  # records of the time range read
    matched: int = 0  # of those, events the webhook takes (events, tenant, filter)
    queued: int = 0  # deliveries written to the webhook's delivery topic
    error: str | None = None
    # Where the replay reads up to (fixed when it starts) and how far it got:
    # a worker that takes over a running replay resumes there.
    ends: dict[str, int] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)

    def with_(self, **changes: Any) -> Replay:
        return replace(self, **changes)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Replay:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def public(self, *, cancelled: bool = False) -> dict[str, Any]:
        """The API view (``from`` and ``until`` as the DESIGN names them)."""
        status = "cancelled" if cancelled and self.status == "running" else self.status
        return {
            "replayId": self.replay_id,
            "webhookId": self.webhook_id,
            "status": status,
            "scanned": self.scanned,
            "matched": self.matched,
            "queued": self.queued,
            "from": self.since,
            "until": self.until,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class CancelMark:
    replay_id: str
    at: str

    def to_json(self) -> bytes:
        return orjson.dumps({"cancel": self.replay_id, "at": self.at})


ReplayRecord = Replay | CancelMark


def decode_replay_record(raw: bytes) -> ReplayRecord:
    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise TypeError("a replay record is a JSON object")
    if "cancel" in data:
        return CancelMark(str(data["cancel"]), str(data.get("at", "")))
    return Replay.from_dict(data)
