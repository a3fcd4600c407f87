"""Bearer tokens with roles. Which roles may call a route is part of its entry
in the route table (``admin`` everything, ``viewer`` reads, ``publisher``
publishes events, ``tenant`` one tenant's webhooks); paths outside ``/api/``
that are not in the table (health, metrics, the console's static files) need
no token.

A token is either one of ``HOOKSTREAM_API_TOKENS`` or a portal token
(a JWT checked by the API context's :data:`PORTAL_CHECK_KEY`, see
hookstream/tenants/tokens.py). Every refused token gets the same 401,
whether unknown, expired, revoked or altered: the answer tells a guesser
nothing."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from hookstream.api.routes import entry_for
from hookstream.errors import ForbiddenError, UnauthorizedError
from hookstream.headers import AUTHORIZATION
from hookstream.http_common import Handler
from hookstream.tokens import Role

API_PREFIX = "/api/"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who presented the token: a role, and for a portal token its tenant."""

    role: Role
    tenant_id: str | None = None
    read_only: bool = False


# The caller, left on the request for handlers (whoami, tenant scoping).
CALLER_KEY = web.RequestKey("hookstream.caller", Caller)
# Checks a portal token: the tenant caller it stands for, or None. Set by the
# API's Kafka resources (it needs the tenant table for revocations).
PortalCheck = Callable[[str], Caller | None]
PORTAL_CHECK_KEY: web.AppKey[PortalCheck] = web.AppKey("portal_check")

_WHAT_ROLES_DO: dict[Role, str] = {
    "admin": "admin",
    "viewer": "viewer (may only read)",
    "publisher": "publisher (may only publish events)",
    "tenant": "tenant (may only use its own tenant's webhooks)",
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


def caller_for(request: web.Request, tokens: Mapping[str, Role], presented: str) -> Caller | None:
    role = role_for(tokens, presented)
    if role is not None:
        return Caller(role)
    check = request.app.get(PORTAL_CHECK_KEY)
    return check(presented) if check is not None else None


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
        caller = caller_for(request, tokens, presented.strip())
        if caller is None:
            raise UnauthorizedError(
                "unknown token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if entry is not None and entry.roles is not None and caller.role not in entry.roles:
            allowed = " or ".join(sorted(entry.roles))
            raise ForbiddenError(
                f"this token's role is {_WHAT_ROLES_DO[caller.role]}; "
                f"{request.method} {entry.path} needs {allowed}"
            )
        if caller.read_only and request.method not in READ_METHODS:
            raise ForbiddenError("this portal token is read-only")
        request[CALLER_KEY] = caller
        return await handler(request)

    return middleware
