"""Domain events: the value of a message on an ``events.*`` topic.

Parsed by hand (not pydantic) because this runs once per consumed message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from schemas.timestamps import iso_from_millis, iso_utc

EVENT_TYPE_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,199}"
)  # fullmatch: "$" allows a final \n
MAX_ID_LENGTH = 200
MAX_URL_LENGTH = 2000
# Ids, type and entityUrl travel in HTTP headers (X-Etl-Webhook-*): a control
# character there cannot be sent at all, so the delivery would fail forever.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidEventError(ValueError):
    """The message is not a valid domain event; ``str(error)`` is the reason."""


@dataclass(frozen=True, slots=True)
class DomainEvent:
    event_id: str
    event_type: str
    entity_id: str
    timestamp: str  # ISO 8601 UTC
    entity: Any = None
    entity_url: str | None = None
    # The tenant the event belongs to (DESIGN.md, tenants); None: no tenant.
    tenant_id: str | None = None
    # A CloudEvent's ``source`` (schemas/cloudevents.py), kept for the
    # CloudEvents payload format; None for events that never were one.
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "entityId": self.entity_id,
            "timestamp": self.timestamp,
        }
        if self.entity is not None:
            out["entity"] = self.entity
        if self.entity_url is not None:
            out["entityUrl"] = self.entity_url
        if self.tenant_id is not None:
            out["tenantId"] = self.tenant_id
        if self.source is not None:
            out["source"] = self.source
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainEvent:
        return cls(
            event_id=data["eventId"],
            event_type=data["eventType"],
            entity_id=data["entityId"],
            timestamp=data["timestamp"],
            entity=data.get("entity"),
            entity_url=data.get("entityUrl"),
            tenant_id=data.get("tenantId"),
            source=data.get("source"),
        )

    @property
    def entity_type(self) -> str:
        """``order.created`` → ``order``; used for generated entity URLs."""
        return self.event_type.split(".", 1)[0].lower()


def _required_id(data: dict[str, Any], field: str, *, allow_int: bool = False) -> str:
    value = data.get(field)
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidEventError(f"{field} is required and must be a string")
    if not value or len(value) > MAX_ID_LENGTH:
        raise InvalidEventError(f"{field} must be 1 to {MAX_ID_LENGTH} characters")
    if _CONTROL.search(value):
        raise InvalidEventError(f"{field} must not contain control characters")
    return value


def _is_canonical(value: str) -> bool:
    """Already exactly what :func:`iso_utc` writes (``YYYY-MM-DDTHH:MM:SS.mmmZ``),
    given that ``datetime.fromisoformat`` accepted it: the separators pin
    the calendar form (an ISO week date of the same length has no ``-`` at
    index 7)."""
    return (
        len(value) == 24
        and value[23] == "Z"
        and value[19] == "."
        and value[10] == "T"
        and value[4] == "-"
        and value[7] == "-"
        and value[13] == ":"
        and value[16] == ":"
    )


def normalise_timestamp(value: Any, broker_millis: int) -> str:
    # Out-of-calendar numbers are the event's fault, never the reader's: a
    # plain ValueError here would stop routing at that record for good.
    if value is None:
        try:
            return iso_from_millis(broker_millis)
        except ValueError:
            raise InvalidEventError("the record's timestamp is out of range") from None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return iso_from_millis(value)  # epoch milliseconds, as older producers send
        except ValueError:
            raise InvalidEventError(
                "timestamp out of range: epoch milliseconds of the years 1 to 9999"
            ) from None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidEventError("timestamp must be ISO 8601 or epoch milliseconds") from None
        if moment.tzinfo is None:
            raise InvalidEventError("timestamp must include a timezone (e.g. Z)")
        # Most producers already write this form; formatting it again would
        # be a third of parsing the whole event.
        if _is_canonical(value):
            return value
        try:
            return iso_utc(moment)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise InvalidEventError("timestamp out of range in UTC (years 1 to 9999)") from None
    raise InvalidEventError("timestamp must be ISO 8601 or epoch milliseconds")


def optional_id(value: Any, field: str) -> str | None:
    """An optional id (tenantId): absent or null is None, else checked like entityId."""
    return None if value is None else _required_id({field: value}, field)


def optional_text(value: Any, field: str) -> str | None:
    """An optional string that may travel in a header (a CloudEvent's source)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{field} must be a non-empty string")
    if len(value) > MAX_URL_LENGTH or _CONTROL.search(value):
        raise InvalidEventError(
            f"{field} must be at most {MAX_URL_LENGTH} characters, with no control characters"
        )
    return value


def load_object(raw: bytes | None) -> dict[str, Any]:
    """A message value that must be one JSON object."""
    if raw is None:
        raise InvalidEventError("message has no value")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEventError(f"value is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEventError("value must be a JSON object")
    return data


def parse_event(raw: bytes | None, broker_millis: int) -> DomainEvent:
    """Validate one message value; raise :class:`InvalidEventError` with the reason."""
    return event_from_dict(load_object(raw), broker_millis)


def event_from_dict(data: dict[str, Any], broker_millis: int) -> DomainEvent:
    """Validate one decoded domain event (see :func:`parse_event`)."""
    event_id = _required_id(data, "eventId")
    event_type = _required_id(data, "eventType")
    if not EVENT_TYPE_RE.fullmatch(event_type):
        raise InvalidEventError("eventType may only contain letters, digits and _ . : -")
    entity_id = _required_id(data, "entityId", allow_int=True)
    entity_url = data.get("entityUrl")
    if entity_url is not None:
        if not isinstance(entity_url, str):
            raise InvalidEventError("entityUrl must be a string")
        if len(entity_url) > MAX_URL_LENGTH or _CONTROL.search(entity_url):
            raise InvalidEventError(
                f"entityUrl must be at most {MAX_URL_LENGTH} characters, with no control characters"
            )
    return DomainEvent(
        event_id=event_id,
        event_type=event_type,
        entity_id=entity_id,
        timestamp=normalise_timestamp(data.get("timestamp"), broker_millis),
        entity=data.get("entity"),
        entity_url=entity_url,
        tenant_id=optional_id(data.get("tenantId"), "tenantId"),
        source=optional_text(data.get("source"), "source"),
    )
