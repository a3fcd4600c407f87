"""What POST /api/v1/events accepts: the router's own rules, plus a topic."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hookstream.api.event_input import MAX_BATCH, items_of, parse_item
from schemas.events import InvalidEventError, parse_event

TOPICS = r"^events\..+"
NOW = 1_764_000_000_000  # 2025-11-24T16:00:00Z


def parse(item: Any) -> Any:
    return parse_item(item, event_topics=TOPICS, now_millis=NOW)


def test_minimal_event_gets_an_id_the_default_topic_and_now() -> None:
    first = parse({"eventType": "order.created", "entityId": 42})
    second = parse({"eventType": "order.created", "entityId": 42})
    assert first.topic == "events.api"
    assert first.event.entity_id == "42"
    assert first.event.event_id.startswith("evt_")
    assert first.event.event_id != second.event.event_id
    assert first.event.timestamp == "2025-11-24T16:00:00.000Z"


def test_what_the_api_accepts_the_router_parses_the_same() -> None:
    item = parse(
        {
            "eventId": "e-1",
            "eventType": "order.created",
            "entityId": "42",
            "entity": {"id": 42},
            "entityUrl": "https://shop/orders/42",
            "timestamp": "2026-11-23T11:00:00+01:00",
            "topic": "events.shop",
        }
    )
    assert item.topic == "events.shop"
    routed = parse_event(orjson.dumps(item.event.to_dict()), 0)
    assert routed == item.event
    assert routed.timestamp == "2026-11-23T10:00:00.000Z"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"entityId": "1"}, "eventType is required"),
        ({"eventType": "a b", "entityId": "1"}, "eventType may only contain"),
        ({"eventType": "a", "entityId": True}, "entityId is required"),
        ({"eventType": "a", "entityId": ""}, "entityId must be 1 to 200"),
        ({"eventType": "a", "entityId": "1", "timestamp": "yesterday"}, "ISO 8601"),
        ({"eventType": "a", "entityId": "1", "timestamp": "2026-01-01T00:00:00"}, "timezone"),
        ({"eventType": "a", "entityId": "1", "timestamp": 10**17}, "out of range"),
        ({"eventType": "a", "entityId": "1", "entityUrl": 5}, "entityUrl must be a string"),
        ({"eventType": "a", "entityId": "1", "entityID": "x"}, "unknown field entityID"),
        ({"eventType": "a", "entityId": "1", "topic": "hookstream.webhooks"}, "hookstream"),
        ({"eventType": "flow.failed", "entityId": "fl_1", "topic": "events.flows"}, "only flows"),
        ({"eventType": "a", "entityId": "1", "topic": "orders"}, "HOOKSTREAM_EVENT_TOPICS"),
        ({"eventType": "a", "entityId": "1", "topic": "events/x"}, "Kafka topic name"),
        ({"eventType": "a", "entityId": "1", "topic": 7}, "Kafka topic name"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_invalid_events_say_why(item: Any, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        parse(item)


def test_the_router_agrees_on_what_is_invalid() -> None:
    """Every reason the API gives for an event (not its topic) is the router's."""
    for bad in ({"eventType": "a b", "entityId": "1"}, {"eventType": "a", "entityId": []}):
        with pytest.raises(InvalidEventError) as api_error:
            parse(bad)
        with pytest.raises(InvalidEventError) as router_error:
            parse_event(orjson.dumps({"eventId": "x", **bad}), NOW)
        assert str(api_error.value) == str(router_error.value)


def test_topic_must_match_the_configured_pattern() -> None:
    assert (
        parse_item(
            {"eventType": "a", "entityId": "1", "topic": "domain.orders"},
            event_topics=r"^domain\..+",
            now_millis=NOW,
        ).topic
        == "domain.orders"
    )


def test_batch_and_single_forms() -> None:
    assert items_of({"eventType": "a"}) == ([{"eventType": "a"}], False)
    assert items_of([{"eventType": "a"}] * 3) == ([{"eventType": "a"}] * 3, True)
    assert MAX_BATCH == 500
