"""What ``POST /api/v1/events`` accepts (pure): one domain event, or a list
of up to :data:`MAX_BATCH`, each with an optional ``topic``.

Every event is checked by :func:`schemas.events.parse_event`, the parser the
router uses, so whatever the API accepts the router accepts; the API is
stricter in one way only: unknown fields are refused (a typo such as
``entityID`` would otherwise be dropped silently)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.cloudevents import from_structured
from schemas.events import DomainEvent, InvalidEventError, parse_event
from streams.topics import API_EVENTS, FLOW_EVENTS

MAX_BATCH = 500
EVENT_FIELDS = frozenset(
    {"eventId", "eventType", "entityId", "entity", "entityUrl", "timestamp", "tenantId"}
)
INPUT_FIELDS = EVENT_FIELDS | {"topic"}
_KAFKA_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
OWN_PREFIX = "hookstream."


@dataclass(frozen=True, slots=True)
class Publish:
    topic: str
    event: DomainEvent


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def check_topic(topic: Any, event_topics: str) -> str:
    if topic is None:
        topic = API_EVENTS
    if not isinstance(topic, str) or not _KAFKA_TOPIC.match(topic):
        raise InvalidEventError("topic must be a Kafka topic name: letters, digits, . _ -")
    if topic.startswith(OWN_PREFIX):
        raise InvalidEventError("topic may not be one of hookstream's own (hookstream.*)")
    if topic == FLOW_EVENTS:
        # Only flows write there: a publisher could otherwise forge a flow's
        # executions (its log, and the webhooks subscribed to flow.*).
        raise InvalidEventError(f"topic may not be {FLOW_EVENTS}: only flows write there")
    if not re.match(event_topics, topic):
        raise InvalidEventError(
            f"topic {topic} does not match HOOKSTREAM_EVENT_TOPICS ({event_topics}), "
            "so the router would never read it"
        )
    return topic


def parse_item(item: Any, *, event_topics: str, now_millis: int) -> Publish:
    """One event of the request; raise :class:`InvalidEventError` with the reason."""
    if not isinstance(item, dict):
        raise InvalidEventError("an event must be a JSON object")
    if "specversion" in item:
        return parse_cloudevent(item, event_topics=event_topics, now_millis=now_millis)
    unknown = sorted(set(item) - INPUT_FIELDS)
    if unknown:
        raise InvalidEventError(
            f"unknown field {unknown[0]} (fields: {', '.join(sorted(INPUT_FIELDS))})"
        )
    topic = check_topic(item.get("topic"), event_topics)
    fields = {k: v for k, v in item.items() if k in EVENT_FIELDS}
    if fields.get("eventId") is None:
        fields["eventId"] = new_event_id()
    # The router's own parser decides; the timestamp defaults to now (the API
    # accepted the event now; the broker's timestamp would be the same moment).
    try:
        event = parse_event(orjson.dumps(fields), now_millis)
    except InvalidEventError:
        raise
    except (ValueError, OverflowError, OSError, TypeError) as exc:
        # e.g. epoch milliseconds outside the calendar ("year 3170843 is out of range")
        raise InvalidEventError(f"invalid event: {exc}") from None
    return Publish(topic, event)


def parse_cloudevent(item: dict[str, Any], *, event_topics: str, now_millis: int) -> Publish:
    """A CloudEvent in the JSON format (structured mode), read by the router's
    CloudEvents rules (schemas/cloudevents.py) and published as the domain
    event it maps to. ``topic`` is where to publish it, not an extension."""
    topic = check_topic(item.get("topic"), event_topics)
    envelope = {k: v for k, v in item.items() if k != "topic"}
    return Publish(topic, from_structured(envelope, now_millis))


def items_of(body: Any) -> tuple[list[Any], bool]:
    """The events of a request body and whether it was the batch form."""
    if isinstance(body, list):
        return body, True
    return [body], False
