"""The webhook filter language: parse and validate a filter once, into a
predicate that evaluates an event many times (pure; no I/O).

The syntax is the one Outpost and Convoy users know (DESIGN.md, "Filters"):

* a filter is a JSON object; each key is a field of the document, and the
  filter matches when every key does (``{}`` matches everything);
* a field's value is either a literal (equal; when the field is an array,
  it contains the literal), a nested filter for an object field (for an
  array field: some element matches it), or an operator object:
  ``$eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exist``;
* ``$and`` / ``$or`` take arrays of filters, ``$not`` takes a filter;
* a missing field matches nothing but ``{"$exist": false}``.

``$regex`` is not offered: one pathological pattern would stall the router
for every webhook (ReDoS). Size and depth are bounded when compiling, and
evaluation only walks the paths a filter names, so no event can make it
raise or run long.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from hookstream.filters.values import json_equal, kind, scalar_key

MAX_BYTES = 16 * 1024  # the filter as JSON
MAX_DEPTH = 12  # nesting of objects and arrays, literals included
MAX_NODES = 2000  # every value in the filter, keys excluded
MAX_STRING = 1024  # a string literal or a field name

COMPARISONS = frozenset(
    {"$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$startsWith", "$endsWith",
     "$exist"}
)  # fmt: skip
LOGICAL = frozenset({"$and", "$or", "$not"})

Predicate = Callable[[Any], bool]


class FilterError(ValueError):
    """An invalid filter; ``path`` names the failing part (``filter.entity.total.$gt``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class Filter:
    """A compiled filter: ``spec`` as given, ``matches`` to evaluate."""

    spec: dict[str, Any]
    _predicate: Predicate

    def matches(self, document: dict[str, Any]) -> bool:
        return self._predicate(document)


@dataclass(frozen=True, slots=True)
class Leaf:
    """What a field's filter says when the field is present, and when missing."""

    present: Predicate
    missing: bool = False


def compile_filter(spec: Any, path: str = "filter") -> Filter:
    """Validate ``spec`` and compile it; raise :class:`FilterError` naming the path."""
    if not isinstance(spec, dict):
        raise FilterError(path, "a filter must be a JSON object")
    _check_bounds(spec, path)
    return Filter(spec, _object(spec, path))


def _check_bounds(spec: dict[str, Any], path: str) -> None:
    # Iteratively, before any recursion: compiling (and json_equal on
    # literals) may then recurse as deep as the filter, which is bounded.
    try:
        size = len(orjson.dumps(spec))
    except TypeError as exc:  # not JSON at all (only possible from Python callers)
        raise FilterError(path, f"not JSON: {exc}") from None
    if size > MAX_BYTES:
        raise FilterError(path, f"a filter is at most {MAX_BYTES} bytes of JSON ({size} given)")
    nodes = 0
    stack: list[tuple[Any, int, str]] = [(spec, 1, path)]
    while stack:
        value, depth, where = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise FilterError(path, f"a filter has at most {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise FilterError(where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > MAX_STRING:
                    raise FilterError(where, f"a field name is at most {MAX_STRING} characters")
                stack.append((item, depth + 1, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}[{n}]") for n, item in enumerate(value))
        elif isinstance(value, str) and len(value) > MAX_STRING:
            raise FilterError(where, f"a string is at most {MAX_STRING} characters")


# -- filters (objects matched against an object) ------------------------------
def _object(spec: dict[str, Any], path: str) -> Predicate:
    checks: list[Predicate] = []
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key in ("$and", "$or"):
            checks.append(_logical(key, value, where))
        elif key == "$not":
            if not isinstance(value, dict):
                raise FilterError(where, "$not takes a filter (a JSON object)")
            checks.append(_negated(_object(value, where)))
        elif key.startswith("$"):
            raise FilterError(where, _unknown(key, "a filter's keys are fields or $and $or $not"))
        else:
            checks.append(_field(key, _leaf(value, where)))
    return _all_of(checks)


def _logical(op: str, value: Any, path: str) -> Predicate:
    if not isinstance(value, list) or not value:
        raise FilterError(path, f"{op} takes a non-empty array of filters")
    parts: list[Predicate] = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise FilterError(f"{path}[{n}]", f"each filter of {op} must be a JSON object")
        parts.append(_object(item, f"{path}[{n}]"))
    if op == "$and":
        return _all_of(parts)
    return lambda doc: any(part(doc) for part in parts)


def _negated(check: Predicate) -> Predicate:
    return lambda doc: not check(doc)


def _constant(answer: bool) -> Predicate:
    return lambda _: answer


def _all_of(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:  # the common case, without a loop
        first, second = checks
        return lambda doc: first(doc) and second(doc)

    def every(doc: Any) -> bool:
        # A plain loop: all() over a generator costs a frame per call, and
        # the router runs this for every candidate webhook of every event.
        for check in checks:  # noqa: SIM110 - see above
            if not check(doc):
                return False
        return True

    return every


def _field(name: str, leaf: Leaf) -> Predicate:
    present, missing = leaf.present, leaf.missing

    def check(doc: Any) -> bool:
        if isinstance(doc, dict):
            return present(doc[name]) if name in doc else missing
        return missing

    return check


def _unknown(key: str, hint: str) -> str:
    if key == "$regex":
        return "$regex is not offered (a pattern can stall every webhook's routing)"
    return f"unknown operator {key}; {hint}"


# -- a field's value ----------------------------------------------------------
def _leaf(value: Any, path: str) -> Leaf:
    operators = isinstance(value, dict) and value and all(k.startswith("$") for k in value)
    if operators and not set(value) & LOGICAL:
        return _operators(value, path)
    if isinstance(value, dict):
        comparisons = sorted(set(value) & COMPARISONS)
        if comparisons:
            raise FilterError(
                f"{path}.{comparisons[0]}",
                "operators and fields (or $and $or $not) cannot be mixed in one object",
            )
        return Leaf(_nested(_object(value, path)))
    return Leaf(_equals(value))


def _nested(nested: Predicate) -> Predicate:
    """A filter on an object field; on an array of objects, some element
    matches all of it (not one element each part)."""

    def check(field: Any) -> bool:
        if isinstance(field, dict):
            return nested(field)
        if isinstance(field, list):
            return any(nested(item) for item in field if isinstance(item, dict))
        return False

    return check


def _equals(literal: Any) -> Predicate:
    """Equal, or an array field containing the literal."""
    key = scalar_key(literal)
    if key is not None:

        def scalar(field: Any) -> bool:
            if isinstance(field, list):
                return any(scalar_key(item) == key for item in field)
            return scalar_key(field) == key

        return scalar
    return lambda field: (
        json_equal(field, literal)
        or (isinstance(field, list) and any(json_equal(item, literal) for item in field))
    )


def _any_item(test: Predicate) -> Predicate:
    """``test`` on a value, or on some element of an array value."""
    return lambda field: (
        any(test(item) for item in field) if isinstance(field, list) else test(field)
    )


def _operators(ops: dict[str, Any], path: str) -> Leaf:
    present: list[Predicate] = []
    missing = True
    for op, operand in ops.items():
        where = f"{path}.{op}"
        if op == "$exist":
            if not isinstance(operand, bool):
                raise FilterError(where, "$exist takes true or false")
            present.append(_constant(operand))
            missing = missing and not operand
            continue
        missing = False  # every other operator needs the field
        present.append(_operator(op, operand, where))
    return Leaf(_all_of(present), missing)


def _operator(op: str, operand: Any, path: str) -> Predicate:
    if op == "$eq":
        return _equals(operand)
    if op == "$neq":
        equal = _equals(operand)
        return lambda field: not equal(field)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return _any_item(_comparison(op, operand, path))
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise FilterError(path, f"{op} takes an array of values")
        inside = _one_of(operand)
        if op == "$in":
            return inside
        return lambda field: not inside(field)
    if op in ("$startsWith", "$endsWith"):
        if not isinstance(operand, str):
            raise FilterError(path, f"{op} takes a string")
        if op == "$startsWith":
            return _any_item(lambda field: isinstance(field, str) and field.startswith(operand))
        return _any_item(lambda field: isinstance(field, str) and field.endswith(operand))
    raise FilterError(path, _unknown(op, "operators are " + " ".join(sorted(COMPARISONS))))


_ORDER = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}


def _comparison(op: str, operand: Any, path: str) -> Predicate:
    """Numbers with numbers, strings with strings; any other pair is false
    (a bool is not a number here, and NaN compares false by itself)."""
    compare = _ORDER[op]
    operand_kind = kind(operand)
    if operand_kind == "number":
        return lambda field: (
            type(field) is not bool and isinstance(field, int | float) and compare(field, operand)
        )
    if operand_kind == "string":
        return lambda field: isinstance(field, str) and compare(field, operand)
    raise FilterError(path, f"{op} takes a number or a string")


def _one_of(values: list[Any]) -> Predicate:
    """Equal to one of ``values`` (an array field: containing one of them)."""
    keys = {key for key in map(scalar_key, values) if key is not None}
    others = [value for value in values if scalar_key(value) is None]

    def test(field: Any) -> bool:
        key = scalar_key(field)
        if key is not None:
            return key in keys
        return any(json_equal(field, other) for other in others)

    return _any_item_or_whole(test)


def _any_item_or_whole(test: Predicate) -> Predicate:
    # An array field may equal an array value itself, or contain a value.
    return lambda field: (
        test(field) or (isinstance(field, list) and any(test(item) for item in field))
    )
