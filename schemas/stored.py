"""Reading records back from the configuration topics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def known_fields(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the top-level keys ``model`` does not know. The API
    refuses unknown fields, but a stored record may come from a newer version
    of hookstream (a rolling upgrade): an older process must still read it
    rather than drop the webhook, listener or flow from its view."""
    names = set()
    for name, info in model.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
    return {key: value for key, value in data.items() if key in names}
