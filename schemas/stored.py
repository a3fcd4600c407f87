"""Reading records back from the configuration topics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationInfo

# The validation context of a record read back from its topic. It was
# checked when it was written, perhaps by an older version with a looser
# rule; refusing it now would make it vanish from every view (404 in the
# API, deleted for the worker), and nobody could fix it.
STORED: dict[str, Any] = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


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
