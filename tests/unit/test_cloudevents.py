"""CloudEvents on Kafka → domain events (schemas/cloudevents.py), checked
against records made by the official SDK's Kafka conversion and by hand."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import KafkaMessage, to_binary, to_structured
from hypothesis import given
from hypothesis import strategies as st

from schemas.cloudevents import read_record
from schemas.events import DomainEvent, InvalidEventError

BROKER_MS = 1_763_892_000_000  # 2025-11-23T10:00:00Z
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def sdk_event(data: Any = None, **attributes: Any) -> CloudEvent:
    base = {
        "type": "order.created",
        "source": "https://shop.example/orders",
        "id": "ce-1",
        "datacontenttype": "application/json",  # the SDK's to_binary requires it
    }
    base.update(attributes)
    return CloudEvent({k: v for k, v in base.items() if v is not None}, data)


def read(message: KafkaMessage) -> DomainEvent:
    key = message.key.encode() if isinstance(message.key, str) else message.key
    value = message.value.encode() if isinstance(message.value, str) else message.value
    return read_record(value, BROKER_MS, key=key, headers=list(message.headers.items())).event


@pytest.mark.parametrize("convert", [to_binary, to_structured])
def test_sdk_records_map_onto_the_domain_event(convert: Any) -> None:
    event = read(
        convert(
            sdk_event(
                {"id": 42, "total": 9.5},
                subject="42",
                time="2026-11-23T12:00:00+02:00",
                tenantid="acme",
            )
        )
    )
    assert event == DomainEvent(
        event_id="ce-1",
        event_type="order.created",
        entity_id="42",
        timestamp="2026-11-23T10:00:00.000Z",
        entity={"id": 42, "total": 9.5},
        tenant_id="acme",
        source="https://shop.example/orders",
    )


@pytest.mark.parametrize("convert", [to_binary, to_structured])
def test_entity_id_is_the_subject_else_the_key_else_the_id(convert: Any) -> None:
    keyed = convert(sdk_event({"n": 1}), key_mapper=lambda _: "entity-7")
    assert read(keyed).entity_id == "entity-7"
    assert read(convert(sdk_event({"n": 1}))).entity_id == "ce-1"
    both = convert(sdk_event({"n": 1}, subject="s-1"), key_mapper=lambda _: "entity-7")
    assert read(both).entity_id == "s-1"


def test_a_key_that_cannot_be_an_id_falls_back_to_the_id() -> None:
    message = to_binary(sdk_event({"n": 1}), key_mapper=lambda _: b"\xff\x00binary")
    assert read(message).entity_id == "ce-1"


def test_without_time_the_broker_timestamp_is_used() -> None:
    envelope = {"specversion": "1.0", "id": "x", "type": "t.a", "source": "/s"}
    event = read_record(orjson.dumps(envelope), BROKER_MS).event
    assert event.timestamp == "2025-11-23T10:00:00.000Z"
    assert event.entity is None


def test_structured_mode_by_content_type() -> None:
    envelope = {"specversion": "1.0", "id": "x", "type": "t.a", "source": "/s", "data": [1]}
    headers = [("content-type", b"application/cloudevents+json; charset=utf-8")]
    assert read_record(orjson.dumps(envelope), 0, headers=headers).event.entity == [1]


def test_structured_data_base64_is_decoded_by_its_content_type() -> None:
    envelope = {
        "specversion": "1.0",
        "id": "x",
        "type": "t.a",
        "source": "/s",
        "datacontenttype": "text/plain",
        "data_base64": base64.b64encode(b"hello").decode(),
    }
    assert read_record(orjson.dumps(envelope), 0).event.entity == "hello"


def test_binary_text_data_is_a_string() -> None:
    message = to_binary(
        sdk_event("plain words", datacontenttype="text/plain"), data_marshaller=lambda d: d
    )
    assert read(message).entity == "plain words"


def test_plain_domain_events_still_parse_and_keep_their_trace() -> None:
    value = orjson.dumps({"eventId": "e", "eventType": "a.b", "entityId": "1", "tenantId": "t"})
    parsed = read_record(value, 0, headers=[("traceparent", TRACEPARENT.encode())])
    assert parsed.event.event_id == "e"
    assert parsed.event.tenant_id == "t"
    assert parsed.trace is not None and parsed.trace.traceparent == TRACEPARENT


@pytest.mark.parametrize("convert", [to_binary, to_structured])
def test_the_distributed_tracing_extension_is_the_trace(convert: Any) -> None:
    message = convert(sdk_event({"n": 1}, traceparent=TRACEPARENT, tracestate="k=v"))
    parsed = read_record(message.value, 0, headers=list(message.headers.items()))
    assert parsed.trace is not None
    assert parsed.trace.traceparent == TRACEPARENT
    assert parsed.trace.state == "k=v"


def test_a_record_traceparent_header_wins_over_the_extension() -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-01"
    message = to_binary(sdk_event({"n": 1}, traceparent=TRACEPARENT))
    headers = [*message.headers.items(), ("traceparent", other.encode())]
    assert read_record(message.value, 0, headers=headers).trace.traceparent == other  # type: ignore[union-attr]


BINARY_HEADERS = {
    "ce_specversion": b"1.0",
    "ce_id": b"x",
    "ce_type": b"t.a",
    "ce_source": b"/s",
}


@pytest.mark.parametrize("missing", ["ce_specversion", "ce_id", "ce_type", "ce_source"])
def test_binary_missing_a_required_attribute_is_invalid(missing: str) -> None:
    headers = [(k, v) for k, v in BINARY_HEADERS.items() if k != missing]
    with pytest.raises(InvalidEventError) as caught:
        read_record(b"{}", 0, headers=headers)
    assert f"required attribute {missing[3:]} is missing" in str(caught.value)
    assert "binary mode" in str(caught.value)


@pytest.mark.parametrize("missing", ["specversion", "id", "type", "source"])
def test_structured_missing_a_required_attribute_is_invalid(missing: str) -> None:
    envelope = {"specversion": "1.0", "id": "x", "type": "t.a", "source": "/s"}
    del envelope[missing]
    if missing == "specversion":  # without it the envelope announces itself by content type
        headers = [("content-type", b"application/cloudevents+json")]
    else:
        headers = []
    with pytest.raises(InvalidEventError, match=f"required attribute {missing} is missing"):
        read_record(orjson.dumps(envelope), 0, headers=headers)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ce_specversion": b"0.3"}, "specversion '0.3' is not supported"),
        ({"ce_type": b"has spaces"}, "type may only contain"),
        ({"ce_time": b"yesterday"}, "timestamp must be ISO 8601"),
        ({"ce_subject": b"a\nb"}, "subject must not contain control characters"),
        ({"ce_tenantid": b"x" * 300}, "tenantid must be 1 to 200 characters"),
        ({"ce_id": b"\xff"}, "header ce_id is not UTF-8"),
    ],
)
def test_binary_attribute_errors_name_the_reason(change: dict[str, bytes], reason: str) -> None:
    headers = list((BINARY_HEADERS | change).items())
    with pytest.raises(InvalidEventError, match=reason):
        read_record(b"{}", 0, headers=headers)


def test_binary_data_that_is_not_what_its_content_type_says_is_invalid() -> None:
    headers = [*BINARY_HEADERS.items(), ("content-type", b"application/json")]
    with pytest.raises(InvalidEventError, match="data is not JSON"):
        read_record(b"not json", 0, headers=headers)
    headers = [*BINARY_HEADERS.items(), ("content-type", b"application/octet-stream")]
    with pytest.raises(InvalidEventError, match="data is binary"):
        read_record(b"\xff\xfe\x00", 0, headers=headers)


def test_a_structured_envelope_that_is_not_json_is_invalid() -> None:
    headers = [("content-type", b"application/cloudevents+json")]
    with pytest.raises(InvalidEventError, match=r"structured mode.*not JSON"):
        read_record(b"{nope", 0, headers=headers)


ids = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_characters="\x7f"),
    min_size=1,
    max_size=50,
)
types = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,30}", fullmatch=True)
json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@given(
    event_id=ids,
    event_type=types,
    subject=st.none() | ids,
    tenant=st.none() | ids,
    data=json_data,
    binary=st.booleans(),
)
def test_any_sdk_event_round_trips(
    event_id: str, event_type: str, subject: str | None, tenant: str | None, data: Any, binary: bool
) -> None:
    attributes = {"id": event_id, "type": event_type, "subject": subject, "tenantid": tenant}
    convert = to_binary if binary else to_structured
    event = read(convert(sdk_event(data, **attributes)))
    assert event.event_id == event_id
    assert event.event_type == event_type
    assert event.entity_id == (subject if subject is not None else event_id)
    assert event.tenant_id == tenant
    assert event.entity == data


@given(
    st.binary(max_size=200),
    st.dictionaries(st.sampled_from(sorted(BINARY_HEADERS)), st.binary(max_size=20)),
)
def test_anything_either_parses_or_has_a_reason(value: bytes, headers: dict[str, bytes]) -> None:
    try:
        read_record(value, BROKER_MS, headers=list(headers.items()))
    except InvalidEventError as exc:
        assert str(exc)
