from __future__ import annotations

import pytest

from hookstream.api.listener_store import parse_spec
from hookstream.inbound.bodies import (
    MAX_DEPTH,
    UnparseableBodyError,
    UnsupportedContentTypeError,
    parse_body,
)


def test_json_and_vendor_json() -> None:
    assert parse_body("application/json; charset=utf-8", b'{"a": 1}') == {"a": 1}
    assert parse_body("application/vnd.api+json", b"[1]") == [1]
    with pytest.raises(UnparseableBodyError, match="JSON"):
        parse_body("application/json", b"{nope")


def test_xml_becomes_json() -> None:
    xml = b"""<?xml version="1.0"?>
    <order id="42" xmlns="urn:shop"><item sku="a">2</item><item sku="b">3</item><note>hi</note></order>"""
    assert parse_body("application/xml", xml) == {
        "order": {
            "@id": "42",
            "item": [{"@sku": "a", "#text": "2"}, {"@sku": "b", "#text": "3"}],
            "note": "hi",
        }
    }


@pytest.mark.parametrize(
    "attack",
    [
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://evil.example/x.dtd"><x/>',
    ],
)
def test_xml_attacks_are_refused(attack: bytes) -> None:
    with pytest.raises(UnparseableBodyError, match="refused"):
        parse_body("text/xml", attack)


def test_malformed_xml() -> None:
    with pytest.raises(UnparseableBodyError, match="not valid XML"):
        parse_body("application/xml", b"<a><b></a>")


def test_form_with_repeated_fields() -> None:
    assert parse_body("application/x-www-form-urlencoded", b"a=1&b=2&a=3&c=") == {
        "a": ["1", "3"],
        "b": "2",
        "c": "",
    }
    with pytest.raises(UnparseableBodyError):
        parse_body("application/x-www-form-urlencoded", b"\xff\xfe")


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x"])
def test_other_content_types_are_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedContentTypeError):
        parse_body(content_type, b"x")


def test_xml_sample_data_is_stored_as_json() -> None:
    spec = parse_spec({"name": "n", "sampleData": "<a><b>1</b></a>"})
    assert spec.sample_data == {"a": {"b": "1"}}


def test_brackets_inside_strings_never_count_as_nesting() -> None:
    # More brackets than the depth limit, all in strings: the exact walk
    # runs, and finds the payload shallow.
    body = b'{"text": "' + b"{[" * MAX_DEPTH + b'", "list": [1, [2]]}'
    assert parse_body("application/json", body)["list"] == [1, [2]]


def test_nesting_one_past_the_limit_is_refused_and_at_the_limit_parses() -> None:
    assert parse_body("application/json", b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    with pytest.raises(UnparseableBodyError, match="nested deeper"):
        parse_body("application/json", b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
