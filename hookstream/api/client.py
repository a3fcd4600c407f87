"""A small client of the admin API for the ``hookstream`` command line."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from hookstream.headers import AUTHORIZATION
from hookstream.tenants.store import MAX_PAGE

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


async def call_api(api_url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    """One admin API request; its JSON answer, or :class:`ClientError` worded
    for the terminal (unreachable API, an error status with the API's message)."""
    url = api_url.rstrip("/") + "/api/v1" + path
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"--api-url must start with http:// or https:// (got {api_url})")
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.request(
                method, url, json=body, headers={AUTHORIZATION: f"Bearer {token}"}
            ) as response,
        ):
            raw = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ClientError(f"cannot reach the API at {url}: {exc or type(exc).__name__}") from None
    try:
        answer = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise ClientError(f"HTTP {status} from {url}: {raw[:200]!r}") from None
    if status >= 400:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        message = error.get("message") or raw.decode("utf-8", "replace")
        raise ClientError(f"HTTP {status}: {message}")
    return answer


def tenant_request(
    action: str,
    tenant_id: str | None,
    *,
    name: str | None = None,
    expires_in: int | None = None,
    read_only: bool = False,
) -> tuple[str, str, Any]:
    """Method, path and body of ``hookstream tenant ACTION``."""
    if not tenant_id:
        raise ClientError(f"tenant {action} needs a TENANT_ID")
    path = f"/tenants/{quote(tenant_id, safe='')}"
    if action == "show":
        return "GET", path, None
    if action == "delete":
        return "DELETE", path, None
    if action == "put":
        if not name:
            raise ClientError("tenant put needs --name")
        return "PUT", path, {"name": name}
    if action == "link":
        body: dict[str, Any] = {"readOnly": read_only}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        return "POST", f"{path}/portal", body
    if action == "revoke":
        return "POST", f"{path}/portal/revoke", None
    raise ClientError(f"unknown tenant action {action!r}")


async def all_tenants(api_url: str, token: str) -> list[Any]:
    """Every tenant, following the list's pages."""
    tenants: list[Any] = []
    cursor = None
    while True:
        query = f"?limit={MAX_PAGE}" + (f"&cursor={quote(cursor, safe='')}" if cursor else "")
        page = await call_api(api_url, token, "GET", "/tenants" + query)
        tenants += page["data"]
        cursor = page.get("nextCursor")
        if not cursor:
            return tenants


def pretty(answer: Any) -> str:
    return orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode()


async def publish_event(api_url: str, token: str, event: dict[str, Any]) -> str:
    """POST the event; the API's JSON answer (pretty) or :class:`ClientError`."""
    return pretty(await call_api(api_url, token, "POST", "/events", event))
