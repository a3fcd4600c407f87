"""Flows: what to do with the inbound webhooks of one listener (admin API
input, the record on ``hookstream.flows``)."""

from __future__ import annotations

import re
from typing import Any

import jmespath
import orjson
from jmespath.exceptions import JMESPathError
from pydantic import Field, field_validator

from schemas.stored import known_fields
from schemas.webhooks import _Model

_PATH = re.compile(r"^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$")
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def _dotted(value: str) -> str:
    if not _PATH.match(value):
        raise ValueError(f"{value!r} is not a dotted path like data.id")
    return value


class FieldMapping(_Model):
    """Copy the payload's value at ``from`` to ``to`` in the output."""

    to: str
    from_: str = Field(alias="from")

    _check_to = field_validator("to")(_dotted)
    _check_from = field_validator("from_")(_dotted)


class Constant(_Model):
    to: str
    value: Any

    _check_to = field_validator("to")(_dotted)


class FlowSpec(_Model):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    listener_id: str = Field(alias="listenerId", min_length=1)
    # No mappings: the output starts as the whole payload; constants apply on top.
    mappings: list[FieldMapping] = Field(default_factory=list, max_length=200)
    constants: list[Constant] = Field(default_factory=list, max_length=200)
    # JMESPath over {payload, headers, listenerId, deliveryId, receivedAt}; a
    # false result (JMESPath's: null, false, "", [], {}) skips the message.
    filter: str | None = Field(default=None, max_length=2000)
    destination_topic: str = Field(alias="destinationTopic")
    enabled: bool = True

    @field_validator("filter")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                jmespath.compile(value)
            except JMESPathError as exc:
                raise ValueError(f"not a valid JMESPath expression: {exc}") from None
        return value

    @field_validator("destination_topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not _TOPIC.match(value):
            raise ValueError("a Kafka topic name: letters, digits, . _ - (at most 249)")
        if value.startswith("hookstream."):
            raise ValueError("hookstream.* topics are hookstream's own")
        if value in (".", "..") or value.startswith("__"):
            raise ValueError("'.', '..' and __* are not topics Kafka lets clients write")
        return value


class Flow(FlowSpec):
    id: str
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(by_alias=True, mode="json"))

    @classmethod
    def from_json(cls, raw: bytes) -> Flow:
        return cls.model_validate(known_fields(cls, orjson.loads(raw)))

    def public(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")
