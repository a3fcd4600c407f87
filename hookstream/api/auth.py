"""Bearer tokens with roles: ``admin`` reads and writes, ``viewer`` reads."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from hookstream.errors import ForbiddenError, UnauthorizedError
from hookstream.headers import AUTHORIZATION
from hookstream.http_common import UNAUTHENTICATED_PATHS, Handler
from hookstream.tokens import Role

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPENAPI_PATH = "/api/v1/openapi.json"


def role_for(tokens: Mapping[str, Role], presented: str) -> Role | None:
    found: Role | None = None
    for token, role in tokens.items():
        # compare_digest on every entry: timing says nothing about which token matched
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = role
    return found


def auth_middleware(tokens: Mapping[str, Role]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in UNAUTHENTICATED_PATHS or request.path == OPENAPI_PATH:
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
        if role != "admin" and request.method not in READ_METHODS:
            raise ForbiddenError("this token may only read (role viewer); writing needs admin")
        return await handler(request)

    return middleware
