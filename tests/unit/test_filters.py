"""The filter language: semantics, validation with paths, limits, and
properties (no input makes compiling or evaluating raise anything else, or hang)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookstream.filters import MAX_BYTES, MAX_DEPTH, FilterError, compile_filter

EVENT: dict[str, Any] = {
    "eventId": "e-1",
    "eventType": "order.created",
    "entityId": "42",
    "entity": {
        "id": 42,
        "total": 9.5,
        "status": "paid",
        "tags": ["vip", "eu"],
        "customer": {"country": "DE", "email": "a@example.com"},
        "lines": [{"sku": "A1", "qty": 2}, {"sku": "B7", "qty": 1}],
        "gift": False,
        "note": None,
    },
    "entityUrl": "https://shop.example/orders/42",
    "timestamp": "2026-11-23T10:00:00.000Z",
    "tenantId": "acme",
}


def matches(spec: dict[str, Any], event: dict[str, Any] = EVENT) -> bool:
    return compile_filter(spec).matches(event)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, True),
        ({"eventType": "order.created"}, True),
        ({"eventType": "order.paid"}, False),
        ({"entity": {"status": "paid", "customer": {"country": "DE"}}}, True),
        ({"entity": {"customer": {"country": "FR"}}}, False),
        # an array field contains the literal
        ({"entity": {"tags": "vip"}}, True),
        ({"entity": {"tags": "us"}}, False),
        ({"entity": {"tags": ["vip", "eu"]}}, True),
        # a nested filter on an array of objects: some element matches
        ({"entity": {"lines": {"sku": "B7", "qty": 1}}}, True),
        ({"entity": {"lines": {"sku": "B7", "qty": 2}}}, False),
        ({"entity": {"total": {"$gt": 9}}}, True),
        ({"entity": {"total": {"$gte": 9.5, "$lt": 10}}}, True),
        ({"entity": {"total": {"$lte": 9}}}, False),
        ({"entity": {"id": 42.0}}, True),  # numbers are one kind
        ({"entity": {"gift": 0}}, False),  # false is not 0
        ({"entity": {"gift": False}}, True),
        ({"entity": {"id": {"$gt": "4"}}}, False),  # a number is not above a string
        ({"entity": {"gift": {"$gt": -1}}}, False),  # false is not a number
        ({"entity": {"tags": {"$gte": "vip"}}}, True),  # some element
        ({"timestamp": {"$gte": "2026-11-01"}}, True),  # ISO timestamps order as strings
        ({"entity": {"status": {"$in": ["paid", "shipped"]}}}, True),
        ({"entity": {"status": {"$nin": ["paid", "shipped"]}}}, False),
        ({"entity": {"tags": {"$in": ["us", "eu"]}}}, True),
        ({"entity": {"tags": {"$nin": ["us", "eu"]}}}, False),
        ({"entity": {"customer": {"email": {"$endsWith": "@example.com"}}}}, True),
        ({"entityUrl": {"$startsWith": "https://shop."}}, True),
        ({"entity": {"status": {"$neq": "refunded"}}}, True),
        ({"entity": {"tags": {"$neq": "vip"}}}, False),  # contains it
        ({"entity": {"customer": {"$eq": {"country": "DE", "email": "a@example.com"}}}}, True),
        ({"entity": {"customer": {"$eq": {"country": "DE"}}}}, False),  # $eq is exact
        ({"tenantId": "acme"}, True),
        ({"entity": {"note": None}}, True),
        ({"entity": {"note": {"$exist": True}}}, True),
        ({"$or": [{"eventType": "x"}, {"entity": {"status": "paid"}}]}, True),
        ({"$and": [{"eventType": "order.created"}, {"entity": {"status": "x"}}]}, False),
        ({"$not": {"entity": {"status": "paid"}}}, False),
        ({"entity": {"$or": [{"status": "x"}, {"total": {"$gt": 5}}]}}, True),
    ],
)
def test_semantics(spec: dict[str, Any], expected: bool) -> None:
    assert matches(spec) is expected


@pytest.mark.parametrize(
    "op",
    [{"$eq": 1}, {"$neq": 1}, {"$gt": 1}, {"$in": [1]}, {"$nin": [1]}, {"$startsWith": "a"}],
)
def test_a_missing_field_matches_nothing(op: dict[str, Any]) -> None:
    assert not matches({"entity": {"missing": op}})
    assert not matches({"entity": {"missing": 1}})
    assert not matches({"entity": {"missing": {"deeper": 1}}})


def test_only_exist_false_matches_a_missing_field() -> None:
    assert matches({"entity": {"missing": {"$exist": False}}})
    assert not matches({"entity": {"missing": {"$exist": True}}})
    assert not matches({"entity": {"status": {"$exist": False}}})
    assert matches({"nowhere": {"deep": {"$exist": False}}}) is False  # its parent is missing
    assert matches({"$not": {"entity": {"missing": 1}}})  # a negated filter, not a leaf


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ([], "filter"),
        ({"entity": {"total": {"$gt": [1]}}}, "filter.entity.total.$gt"),
        ({"entity": {"total": {"$regex": ".*"}}}, "filter.entity.total.$regex"),
        ({"$regex": "x"}, "filter.$regex"),
        ({"status": {"$in": "paid"}}, "filter.status.$in"),
        ({"status": {"$exist": "yes"}}, "filter.status.$exist"),
        ({"status": {"$startsWith": 1}}, "filter.status.$startsWith"),
        ({"$or": []}, "filter.$or"),
        ({"$and": [{"a": 1}, 2]}, "filter.$and[1]"),
        ({"$not": [1]}, "filter.$not"),
        ({"entity": {"$eq": 1, "status": "x"}}, "filter.entity.$eq"),
        ({"entity": {"$or": [{"a": 1}], "$gt": 1}}, "filter.entity.$gt"),
        ({"a": {"$or": [{"b": {"$foo": 1}}]}}, "filter.a.$or[0].b.$foo"),
    ],
)
def test_invalid_filters_name_their_path(spec: Any, path: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(spec)
    assert caught.value.path == path


def test_regex_is_refused_with_the_reason() -> None:
    with pytest.raises(FilterError, match="not offered"):
        compile_filter({"entity": {"status": {"$regex": "^(a+)+$"}}})


def test_depth_and_size_limits() -> None:
    deep: dict[str, Any] = {"x": 1}
    for _ in range(MAX_DEPTH):
        deep = {"x": deep}
    with pytest.raises(FilterError, match="deeper"):
        compile_filter(deep)
    with pytest.raises(FilterError, match="bytes"):
        compile_filter({"x": {"$in": ["y" * 1000] * (MAX_BYTES // 1000 + 1)}})
    with pytest.raises(FilterError, match="values"):
        compile_filter({"x": {"$in": list(range(3000))}})


# -- properties ---------------------------------------------------------------
JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)
OPERATORS = st.sampled_from(
    ["$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$startsWith", "$endsWith",
     "$exist", "$and", "$or", "$not", "$regex", "$x"]
)  # fmt: skip
KEYS = st.sampled_from(["a", "b", "entity", "status", "tags"]) | OPERATORS
FILTERISH = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=40,
)
DOCS = st.dictionaries(st.sampled_from(["a", "b", "entity", "status", "tags"]), JSON, max_size=5)


@settings(max_examples=500, deadline=None)
@given(spec=FILTERISH, doc=DOCS)
def test_any_input_compiles_or_is_refused_and_never_raises_when_evaluated(
    spec: Any, doc: dict[str, Any]
) -> None:
    try:
        compiled = compile_filter(spec)
    except FilterError:
        return
    assert compiled.matches(doc) in (True, False)


@settings(max_examples=200, deadline=None)
@given(spec=FILTERISH, doc=DOCS)
def test_not_is_the_negation(spec: Any, doc: dict[str, Any]) -> None:
    if not isinstance(spec, dict):
        return
    try:
        compiled = compile_filter(spec)
    except FilterError:
        return
    assert compile_filter({"$not": spec}).matches(doc) is not compiled.matches(doc)


def test_a_huge_event_costs_only_the_paths_the_filter_names() -> None:
    big = {"entity": {"lines": [{"sku": str(n)} for n in range(100_000)]}}
    assert matches({"entity": {"lines": {"sku": "99999"}}}, big)
    assert not matches({"entity": {"other": 1}}, big)
