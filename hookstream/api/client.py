"""A small client of the admin API for the ``hookstream`` command line."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from hookstream.headers import AUTHORIZATION

TIMEOUT = aiohttp.ClientTimeout(total=30)


class ClientError(Exception):
    """What went wrong, worded for the person at the terminal."""


def _load_data(data: str | None) -> Any:
    if data is None:
        return None
    text = data
    if data.startswith("@"):
        path = Path(data[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ClientError(f"--data is not valid JSON: {exc}") from None


def event_from_args(
    event_type: str, *, entity_id: str | None, data: str | None, topic: str | None
) -> dict[str, Any]:
    """The request body of ``POST /api/v1/events`` for ``hookstream send-event``."""
    entity = _load_data(data)
    if entity_id is None and isinstance(entity, dict) and isinstance(entity.get("id"), str | int):
        entity_id = str(entity["id"])
    event: dict[str, Any] = {
        "eventType": event_type,
        "entityId": entity_id or "ent_" + secrets.token_hex(8),
    }
    if entity is not None:
        event["entity"] = entity
    if topic is not None:
        event["topic"] = topic
    return event


async def publish_event(api_url: str, token: str, event: dict[str, Any]) -> str:
    """POST the event; the API's JSON answer (pretty) or :class:`ClientError`."""
    url = api_url.rstrip("/") + "/api/v1/events"
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"--api-url must start with http:// or https:// (got {api_url})")
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, json=event, headers={AUTHORIZATION: f"Bearer {token}"}) as response,
        ):
            raw = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ClientError(f"cannot reach the API at {url}: {exc or type(exc).__name__}") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ClientError(f"HTTP {status} from {url}: {raw[:200]!r}") from None
    if status >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = error.get("message") or raw.decode("utf-8", "replace")
        raise ClientError(f"HTTP {status}: {message}")
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()
