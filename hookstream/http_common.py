"""Pieces every aiohttp process shares: error middleware, JSON bodies,
health, readiness and metrics endpoints."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from hookstream.errors import (
    BadRequestError,
    HookstreamError,
    PayloadTooLargeError,
    ValidationFailedError,
)
from hookstream.metrics import CONTENT_TYPE_LATEST, Metrics

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ReadyCheck = Callable[[], Awaitable[bool]]

METRICS_KEY = web.AppKey("metrics", Metrics)
READY_KEY: web.AppKey[ReadyCheck] = web.AppKey("ready_check")


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def validation_error(exc: ValidationError) -> ValidationFailedError:
    details = [
        {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    first = details[0] if details else {"field": "", "message": "invalid"}
    where = f"{first['field']}: " if first["field"] else ""
    return ValidationFailedError(f"{where}{first['message']}", details=details)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLargeError(
            f"body larger than {request.app._client_max_size} bytes"
        ) from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequestError("body must be a JSON object")
    return data


async def answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``handler``'s response, or the JSON error it raised (every error
    hookstream serves has the same body). Also a middleware of its own
    (:func:`error_middleware`); the ingress calls it from its one middleware,
    a coroutine layer less per request."""
    try:
        return await handler(request)
    except HookstreamError as exc:
        return json_response(exc.body(), status=exc.status, headers=exc.headers)
    except ValidationError as exc:
        err = validation_error(exc)
        return json_response(err.body(), status=err.status)
    except web.HTTPRequestEntityTooLarge as exc:
        return json_response(PayloadTooLargeError(exc.text or "body too large").body(), status=413)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return json_response({"error": {"code": code, "message": exc.reason}}, status=exc.status)
    except Exception:
        log.exception("unhandled error method=%s path=%s", request.method, request.path)
        return json_response(
            {"error": {"code": "internal_error", "message": "internal error"}}, status=500
        )


error_middleware = web.middleware(answer_errors)


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[READY_KEY]()
    return json_response({"ready": ready}, status=200 if ready else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_operational_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)


UNAUTHENTICATED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
