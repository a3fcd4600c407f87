"""JSON value semantics the filter language compares with (pure).

Python's own ``==`` is not JSON's: ``True == 1`` and ``{"a": True} == {"a": 1}``
hold in Python, yet a filter for ``true`` must not match ``1``. Numbers are
one kind (``1`` equals ``1.0``); every other kind equals only itself.
"""

from __future__ import annotations

from typing import Any


def kind(value: Any) -> str:
    """The JSON kind of a decoded value: null, bool, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


def json_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON values. Recurses only while both sides are
    containers, so its depth is at most the shallower side's (a filter's
    literal, which the compiler bounds)."""
    ka, kb = kind(a), kind(b)
    if ka != kb or ka == "other":
        return False
    if ka == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def scalar_key(value: Any) -> tuple[str, Any] | None:
    """A hashable key equal for JSON-equal scalars (None for containers),
    so ``$in`` over many values is a set lookup."""
    k = kind(value)
    if k in ("array", "object", "other"):
        return None
    return (k, value)
