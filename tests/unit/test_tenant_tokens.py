"""Portal tokens (hookstream/tenants/tokens.py): what is accepted and what is not."""

from __future__ import annotations

import time

import jwt
import pytest

from hookstream.tenants.tokens import AUDIENCE, PortalTokens, admitted, signing_key
from schemas.tenants import Tenant

KEY = signing_key("test-secret-key")


def tenant(valid_after: int = 0) -> Tenant:
    return Tenant(
        id="acme",
        name="Acme",
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        portal_valid_after=valid_after,
    )


def test_an_issued_token_verifies_with_its_tenant_and_flags() -> None:
    tokens = PortalTokens(KEY)
    issued = tokens.issue("acme", expires_in=60, read_only=True)
    claims = tokens.verify(issued.token)
    assert claims is not None
    assert (claims.tenant_id, claims.read_only) == ("acme", True)
    assert claims.expires_at == issued.expires_at
    assert admitted(claims, tenant())


def test_the_signing_key_is_derived_not_the_secret_key_itself() -> None:
    assert KEY != b"test-secret-key"
    assert signing_key("other") != KEY
    issued = PortalTokens(signing_key("other")).issue("acme", expires_in=60, read_only=False)
    assert PortalTokens(KEY).verify(issued.token) is None


def test_expired_altered_and_foreign_tokens_are_refused() -> None:
    tokens = PortalTokens(KEY)
    expired = tokens.issue("acme", expires_in=60, read_only=False, now=time.time() - 120)
    assert tokens.verify(expired.token) is None
    good = tokens.issue("acme", expires_in=60, read_only=True).token
    header, payload, signature = good.split(".")
    forged = jwt.encode(
        {"sub": "other", "aud": AUDIENCE, "iat": time.time(), "exp": time.time() + 60, "ro": False},
        "guess" * 8,
        algorithm="HS256",
    )
    unsigned = jwt.encode(
        {"sub": "acme", "aud": AUDIENCE, "iat": time.time(), "exp": time.time() + 60, "ro": False},
        None,
        algorithm="none",
    )
    for token in [
        f"{header}.{payload}.{signature[:-2]}AA",
        f"{header}.{forged.split('.')[1]}.{signature}",
        forged,
        unsigned,
        "not-a-token",
        "",
        "a.b.c",
    ]:
        assert tokens.verify(token) is None, token


@pytest.mark.parametrize(("valid_after_offset", "ok"), [(-1000, True), (0, False), (1000, False)])
def test_revocation_refuses_tokens_issued_before_it(valid_after_offset: int, ok: bool) -> None:
    tokens = PortalTokens(KEY)
    now = time.time()
    claims = tokens.verify(tokens.issue("acme", expires_in=60, read_only=False, now=now).token)
    assert claims is not None
    assert admitted(claims, tenant(claims.issued_at_us + valid_after_offset)) is ok
    assert not admitted(claims, None)  # a deleted tenant's tokens are refused
