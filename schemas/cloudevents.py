"""Records on ``events.*`` topics, in any of the forms the router reads: a
hookstream domain event, or a CloudEvent 1.0 in the Kafka protocol binding,
binary mode (``ce_*`` headers, the value is ``data``) or structured mode (a
JSON envelope). Pure: no I/O.

CloudEvent → domain event: ``id`` → eventId, ``type`` → eventType,
``subject`` (else the record key, else ``id``) → entityId, ``time`` →
timestamp, ``data`` → entity, extension ``tenantid`` → tenantId; ``source``
is kept. https://github.com/cloudevents/spec (kafka-protocol-binding.md,
json-format.md)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.events import (
    EVENT_TYPE_RE,
    DomainEvent,
    InvalidEventError,
    event_from_dict,
    load_object,
    normalise_timestamp,
    optional_id,
    optional_text,
)
from schemas.trace_context import (
    TRACEPARENT,
    TRACESTATE,
    TraceContext,
    from_kafka_headers,
    parse_traceparent,
)

SPEC_VERSION = "1.0"
CE_PREFIX = "ce_"
CONTENT_TYPE = "content-type"
# Structured mode announces itself with this media type (+json); the Python
# SDK's to_structured writes the *data's* content type there instead, so an
# envelope is also recognised by its ``specversion`` (a domain event has none).
STRUCTURED_TYPE = "application/cloudevents"
TENANT_EXTENSION = "tenantid"


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    event: DomainEvent
    trace: TraceContext | None  # the producer's span, when the record carries one


def read_record(
    value: bytes | None,
    broker_millis: int,
    *,
    key: bytes | None = None,
    headers: Sequence[tuple[str, bytes | None]] | None = None,
) -> ParsedRecord:
    """One ``events.*`` record as a domain event and its trace context; raise
    :class:`InvalidEventError` with the reason."""
    attributes, content_type = _scan_headers(headers) if headers else ({}, None)
    trace = from_kafka_headers(headers) if headers else None
    if content_type is not None and _media_type(content_type) == STRUCTURED_TYPE + "+json":
        envelope = _load_envelope(value)
        return ParsedRecord(from_structured(envelope, broker_millis, key=key), trace)
    if attributes:
        event = from_binary(attributes, value, content_type, broker_millis, key=key)
        return ParsedRecord(event, trace)
    data = load_object(value)
    if "specversion" in data and "eventId" not in data:
        event = from_structured(data, broker_millis, key=key, content_type=content_type)
        if trace is None:
            trace = parse_traceparent(_text(data.get(TRACEPARENT)), _text(data.get(TRACESTATE)))
        return ParsedRecord(event, trace)
    return ParsedRecord(event_from_dict(data, broker_millis), trace)


def from_binary(
    attributes: dict[str, str],
    value: bytes | None,
    content_type: str | None,
    broker_millis: int,
    *,
    key: bytes | None = None,
) -> DomainEvent:
    """A binary-mode CloudEvent: ``attributes`` from its ``ce_*`` headers
    (prefix removed), ``content_type`` is its ``datacontenttype``."""
    data = decode_data(value, content_type, mode="binary")
    return _to_event(attributes, data, broker_millis, key=key, mode="binary")


def from_structured(
    envelope: dict[str, Any],
    broker_millis: int,
    *,
    key: bytes | None = None,
    content_type: str | None = None,
) -> DomainEvent:
    """A structured-mode CloudEvent (the JSON format's envelope). Also what
    ``POST /api/v1/events`` takes as a CloudEvent."""
    attributes = {name: v for name, v in envelope.items() if name not in ("data", "data_base64")}
    datacontenttype = attributes.get("datacontenttype")
    if datacontenttype is None and content_type and not _is_structured(content_type):
        datacontenttype = content_type  # the SDK's habit, see STRUCTURED_TYPE
    if "data_base64" in envelope:
        encoded = envelope["data_base64"]
        if not isinstance(encoded, str):
            raise _invalid("structured", "data_base64 must be a base64 string")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("structured", "data_base64 is not valid base64") from None
        data = decode_data(raw, _text(datacontenttype), mode="structured")
    else:
        data = envelope.get("data")
    return _to_event(attributes, data, broker_millis, key=key, mode="structured")


def decode_data(raw: bytes | None, content_type: str | None, *, mode: str) -> Any:
    """``data`` carried as bytes → the entity: JSON when its content type says
    JSON (or says nothing and it parses), else text."""
    if not raw:
        return None
    if content_type is None or _is_json(content_type):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            if content_type is not None:
                problem = f"data is not JSON, yet its content type is {content_type}"
                raise _invalid(mode, problem) from None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise _invalid(
            mode,
            f"data is binary ({content_type or 'no content type'}); "
            "hookstream delivers JSON or text data",
        ) from None


def _to_event(
    attributes: dict[str, Any],
    data: Any,
    broker_millis: int,
    *,
    key: bytes | None,
    mode: str,
) -> DomainEvent:
    for name in ("specversion", "id", "source", "type"):
        if attributes.get(name) in (None, ""):
            where = f"header {CE_PREFIX}{name}" if mode == "binary" else f"attribute {name}"
            raise _invalid(mode, f"required attribute {name} is missing ({where})")
    version = attributes["specversion"]
    if version != SPEC_VERSION:
        raise _invalid(mode, f"specversion {version!r} is not supported; hookstream reads 1.0")
    try:
        return _mapped(attributes, data, broker_millis, key)
    except InvalidEventError as exc:
        raise _invalid(mode, str(exc)) from None


def _mapped(
    attributes: dict[str, Any], data: Any, broker_millis: int, key: bytes | None
) -> DomainEvent:
    event_id = _attribute_id(attributes, "id")
    event_type = _attribute_id(attributes, "type")
    if not EVENT_TYPE_RE.fullmatch(event_type):
        raise InvalidEventError("type may only contain letters, digits and _ . : -")
    subject = attributes.get("subject")
    entity_id = (
        _attribute_id(attributes, "subject") if subject is not None else _key_id(key) or event_id
    )
    time = attributes.get("time")
    if time is not None and not isinstance(time, str):
        raise InvalidEventError("time must be an RFC 3339 string")
    return DomainEvent(
        event_id=event_id,
        event_type=event_type,
        entity_id=entity_id,
        timestamp=normalise_timestamp(time, broker_millis),
        entity=data,
        tenant_id=optional_id(attributes.get(TENANT_EXTENSION), TENANT_EXTENSION),
        source=optional_text(attributes["source"], "source"),
    )


def _attribute_id(attributes: dict[str, Any], name: str) -> str:
    # The same rules as the domain event's ids: these travel in headers too.
    event = optional_id(attributes.get(name), name)
    assert event is not None  # present: checked by the caller
    return event


def _key_id(key: bytes | None) -> str | None:
    """The record key as an entity id, when it makes one: it is the
    producer's partitioning choice, not part of the event, so a key that
    could not be an id (binary, too long) is passed over rather than refused."""
    if not key:
        return None
    try:
        return optional_id(key.decode(), "key")
    except (UnicodeDecodeError, InvalidEventError):
        return None


def _scan_headers(
    headers: Iterable[tuple[str, bytes | None]],
) -> tuple[dict[str, str], str | None]:
    """``ce_*`` headers (as attributes without the prefix) and the content type."""
    attributes: dict[str, str] = {}
    content_type = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == CONTENT_TYPE:
            content_type = _header_text(name, value)
        elif lowered.startswith(CE_PREFIX) and len(lowered) > len(CE_PREFIX):
            attributes[lowered[len(CE_PREFIX) :]] = _header_text(name, value)
    return attributes, content_type


def _header_text(name: str, value: bytes | None) -> str:
    if value is None:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise _invalid("binary", f"header {name} is not UTF-8") from None


def _load_envelope(value: bytes | None) -> dict[str, Any]:
    try:
        return load_object(value)
    except InvalidEventError as exc:
        raise _invalid("structured", str(exc)) from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_structured(content_type: str) -> bool:
    return _media_type(content_type).startswith(STRUCTURED_TYPE)


def _is_json(content_type: str) -> bool:
    media = _media_type(content_type)
    return media in ("application/json", "text/json") or media.endswith("+json")


def _invalid(mode: str, problem: str) -> InvalidEventError:
    return InvalidEventError(f"CloudEvent ({mode} mode): {problem}")
