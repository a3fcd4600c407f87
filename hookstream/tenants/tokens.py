"""Portal tokens: a JWT (HS256, PyJWT) naming one tenant, with an expiry and
a read-only flag. Stateless, so any API process checks one without asking
Kafka; revocation is a "valid after" time on the tenant record, compared
with the token's issue time (:func:`admitted`).

The signing key is derived from ``HOOKSTREAM_SECRET_KEY`` rather than being
that key: the same material also seals webhook secrets at rest, and a key
per purpose means a token forged or leaked for one can say nothing about
the other. Changing the secret key therefore also invalidates every portal
token, which is what an operator rotating it after a leak wants.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

from schemas.tenants import Tenant, valid_tenant_id

ALGORITHM = "HS256"
AUDIENCE = "hookstream-portal"
# HKDF-style label: the derived key is HMAC-SHA256(secret key, label).
KEY_LABEL = b"hookstream/portal-token/v1"
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 7 * 24 * 3600
# Anything longer than a token we issue is not one (and not worth decoding).
MAX_TOKEN_LENGTH = 1024


def signing_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), KEY_LABEL, hashlib.sha256).digest()


def looks_like_jwt(presented: str) -> bool:
    """Cheap shape test, so a mistyped static token is not run through a
    signature check (and a portal token never through the static table)."""
    return presented.count(".") == 2 and len(presented) <= MAX_TOKEN_LENGTH


@dataclass(frozen=True, slots=True)
class PortalClaims:
    tenant_id: str
    read_only: bool
    issued_at_us: int  # epoch microseconds
    expires_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: int  # epoch seconds


class PortalTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(
        self, tenant_id: str, *, expires_in: int, read_only: bool, now: float | None = None
    ) -> IssuedToken:
        moment = time.time() if now is None else now
        expires_at = int(moment) + expires_in
        claims = {
            "sub": tenant_id,
            "aud": AUDIENCE,
            # Microseconds: a revocation and a token issued a moment apart
            # must still tell which came first.
            "iat": round(moment, 6),
            "exp": expires_at,
            "ro": read_only,
            "jti": secrets.token_urlsafe(9),
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm=ALGORITHM), expires_at)

    def verify(self, token: str) -> PortalClaims | None:
        """The claims of a token this key signed and that has not expired;
        None for anything else (altered, expired, another key, not a JWT)."""
        if not looks_like_jwt(token):
            return None
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],  # never what the token's header asks for
                audience=AUDIENCE,
                options={"require": ["sub", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError:
            return None
        tenant_id, issued, read_only = claims.get("sub"), claims.get("iat"), claims.get("ro")
        if not (isinstance(tenant_id, str) and valid_tenant_id(tenant_id)):
            return None
        if not isinstance(issued, int | float) or not isinstance(read_only, bool):
            return None
        return PortalClaims(tenant_id, read_only, round(issued * 1_000_000), int(claims["exp"]))


def admitted(claims: PortalClaims, tenant: Tenant | None) -> bool:
    """A valid token is honoured while its tenant exists and it was issued
    after the tenant's last revocation."""
    return tenant is not None and claims.issued_at_us > tenant.portal_valid_after
