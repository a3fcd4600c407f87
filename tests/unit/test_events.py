from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.deliveries import Delivery, delivery_id_for
from schemas.events import InvalidEventError, parse_event
from schemas.timestamps import iso_utc

BROKER_MS = 1_763_892_000_000  # 2025-11-23T10:00:00Z


def raw(**fields: object) -> bytes:
    base: dict[str, object] = {"eventId": "e-1", "eventType": "order.created", "entityId": "42"}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not None})


def test_minimal_event_gets_broker_timestamp() -> None:
    event = parse_event(raw(), BROKER_MS)
    assert event.event_type == "order.created"
    assert event.timestamp == "2025-11-23T10:00:00.000Z"
    assert event.entity is None and event.entity_url is None


def test_timestamps_normalise_to_utc() -> None:
    assert (
        parse_event(raw(timestamp="2026-11-23T12:00:00+02:00"), 0).timestamp
        == "2026-11-23T10:00:00.000Z"
    )
    assert parse_event(raw(timestamp=1588429200207), 0).timestamp == "2020-05-02T14:20:00.207Z"


@pytest.mark.parametrize(
    "written",
    [
        "2026-W49-4T15:01:02.123Z",  # ISO week date, same length
        "2026-12-03 15:01:02.123Z",  # space for T
        "2026-12-03T15:01:02,123Z",  # decimal comma
        "2026-12-03T15:01:02.1234Z",
    ],
)
def test_other_forms_of_the_same_moment_are_rewritten(written: str) -> None:
    assert parse_event(raw(timestamp=written), 0).timestamp == "2026-12-03T15:01:02.123Z"


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_canonical_timestamp_passes_unchanged_and_equals_its_normal_form(
    moment: datetime,
) -> None:
    written = iso_utc(moment)
    assert parse_event(raw(timestamp=written), 0).timestamp == written
    assert iso_utc(datetime.fromisoformat(written)) == written


def test_integer_entity_id_becomes_string() -> None:
    assert parse_event(raw(entityId=11225), 0).entity_id == "11225"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{", "not JSON"),
        (b"[]", "JSON object"),
        (raw(eventId=None), "eventId is required"),
        (raw(eventType=None), "eventType is required"),
        (raw(entityId=None), "entityId is required"),
        (raw(eventId=""), "1 to 200"),
        (raw(eventType="has space"), "eventType may only"),
        (raw(timestamp="2026-11-23T10:00:00"), "timezone"),
        (raw(timestamp="soon"), "ISO 8601"),
        # A plain ValueError here used to stop the router at the record.
        (raw(timestamp=10**17), "out of range"),
        (raw(timestamp=-(10**17)), "out of range"),
        # Valid ISO 8601, but outside years 1-9999 once in UTC: an OverflowError
        # here stopped the router at the record, again at every restart.
        (raw(timestamp="0001-01-01T00:00:00+01:00"), "out of range"),
        (raw(timestamp="9999-12-31T23:59:59-01:00"), "out of range"),
        (raw(entityUrl=5), "entityUrl"),
        # These travel in headers: a control character there could never be
        # sent, and the delivery was retried forever, stalling its partition.
        (raw(eventType="order.created\n"), "control characters"),
        (raw(entityId="42\r\nX-Injected: 1"), "control characters"),
        (raw(eventId="e\x00"), "control characters"),
        (raw(entityUrl="https://x/\n"), "control characters"),
        (raw(entityUrl="https://x/" + "a" * 2000), "at most 2000"),
        (raw(entityId=True), "entityId"),
    ],
)
def test_invalid_events_say_why(value: bytes, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        parse_event(value, 0)


def test_an_out_of_range_record_timestamp_is_invalid_not_a_crash() -> None:
    with pytest.raises(InvalidEventError, match="record's timestamp"):
        parse_event(raw(), 10**17)


def test_no_value_is_invalid() -> None:
    with pytest.raises(InvalidEventError, match="no value"):
        parse_event(None, 0)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_either_parse_or_raise_invalid(value: bytes) -> None:
    # Any other exception type would escape the router's error handling.
    try:
        event = parse_event(value, 0)
    except InvalidEventError as exc:
        assert str(exc)
    else:
        assert event.event_id and event.event_type and event.entity_id


@given(st.datetimes(), st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_any_iso_timestamp_either_parses_or_is_invalid(naive: datetime, offset: int) -> None:
    # Every year and every offset (the extremes overflow once in UTC).
    moment = naive.replace(tzinfo=timezone(timedelta(minutes=offset)))
    try:
        event = parse_event(raw(timestamp=moment.isoformat()), 0)
    except InvalidEventError as exc:
        assert "out of range" in str(exc)
    else:
        assert datetime.fromisoformat(event.timestamp) == moment.replace(
            microsecond=moment.microsecond // 1000 * 1000
        )


@given(st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50))
def test_delivery_id_is_stable_and_distinct(webhook_id: str, event_id: str) -> None:
    first = delivery_id_for(webhook_id, event_id)
    assert first == delivery_id_for(webhook_id, event_id)
    assert first != delivery_id_for(webhook_id + "x", event_id)
    assert first.startswith("dlv_") and len(first) == 36


def test_delivery_round_trips_through_json() -> None:
    event = parse_event(raw(entity={"a": [1, 2]}, entityUrl="https://x"), BROKER_MS)
    delivery = Delivery.for_event("wh_1", event).next_attempt({"outcome": "timeout"}, 12.5)
    assert Delivery.from_json(delivery.to_json()) == delivery
    assert delivery.attempt == 2


def test_cloudevents_from_two_sources_with_one_id_get_two_delivery_ids() -> None:
    plain = delivery_id_for("w1", "e-1")
    assert plain == "dlv_" + hashlib.sha256(b"w1\x00e-1").hexdigest()[:32]  # as always
    first = delivery_id_for("w1", "e-1", "https://shop/orders")
    assert first == delivery_id_for("w1", "e-1", "https://shop/orders")
    assert first != delivery_id_for("w1", "e-1", "https://billing/invoices")
    assert first != plain
