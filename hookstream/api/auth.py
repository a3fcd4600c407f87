"""Bearer tokens with roles. Which roles may call a route is part of its entry
in the route table (``admin`` everything, ``viewer`` reads, ``publisher``
publishes events); paths outside ``/api/`` that are not in the table
(health, metrics, the console's static files) need no token."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from hookstream.api.routes import entry_for
from hookstream.errors import ForbiddenError, UnauthorizedError
from hookstream.headers import AUTHORIZATION
from hookstream.http_common import Handler
from hookstream.tokens import Role

API_PREFIX = "/api/"
# The caller's role, left on the request for handlers (e.g. the console's whoami).
ROLE_KEY = web.RequestKey("hookstream.role", str)

_WHAT_ROLES_DO: dict[Role, str] = {
    "admin": "admin",
    "viewer": "viewer (may only read)",
    "publisher": "publisher (may only publish events)",
}


def role_for(tokens: Mapping[str, Role], presented: str) -> Role | None:
    found: Role | None = None
    for token, role in tokens.items():
        # compare_digest on every entry: timing says nothing about which token matched
        # surrogateescape: aiohttp keeps header bytes that are not UTF-8 as
        # surrogates, which a plain encode refuses (a 500 instead of a 401).
        if hmac.compare_digest(token.encode(), presented.encode("utf-8", "surrogateescape")):
            found = role
    return found


def auth_middleware(tokens: Mapping[str, Role]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        entry = entry_for(request)
        if entry is None and not request.path.startswith(API_PREFIX):
            return await handler(request)
        if entry is not None and entry.roles is None:
            return await handler(request)
        header = request.headers.get(AUTHORIZATION, "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise UnauthorizedError(
                "missing bearer token", headers={"WWW-Authenticate": 'Bearer realm="hookstream"'}
            )
        role = role_for(tokens, presented.strip())
        if role is None:
            raise UnauthorizedError(
                "unknown token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if entry is not None and entry.roles is not None and role not in entry.roles:
            allowed = " or ".join(sorted(entry.roles))
            raise ForbiddenError(
                f"this token's role is {_WHAT_ROLES_DO[role]}; "
                f"{request.method} {entry.path} needs {allowed}"
            )
        request[ROLE_KEY] = role
        return await handler(request)

    return middleware
