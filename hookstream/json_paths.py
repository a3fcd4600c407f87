"""Dotted paths into JSON values (pure): ``myAuth.token``, ``items.0.id``."""

from __future__ import annotations

from typing import Any

MISSING = object()


def get_path(value: Any, path: str, default: Any = None) -> Any:
    """``get_path({"a": {"b": 1}}, "a.b")`` → 1; ``default`` when absent."""
    current = value
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return current


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path``, creating objects on the way (``order.id``)."""
    parts = path.split(".")
    current = target
    for part in parts[:-1]:
        child = current.get(part)
        if not isinstance(child, dict):
            child = current[part] = {}
        current = child
    current[parts[-1]] = value
