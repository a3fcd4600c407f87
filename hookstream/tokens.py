"""API tokens and their roles, parsed from ``HOOKSTREAM_API_TOKENS`` (pure)."""

from __future__ import annotations

from typing import Literal

# admin: everything; viewer: reads; publisher: only publishes events (POST /api/v1/events);
# tenant: one tenant's webhooks, through a portal token (hookstream/tenants/tokens.py).
Role = Literal["admin", "viewer", "publisher", "tenant"]
ROLES: tuple[Role, ...] = ("admin", "viewer", "publisher", "tenant")
# The roles HOOKSTREAM_API_TOKENS may give; "tenant" only comes with a portal token.
CONFIGURED_ROLES: tuple[Role, ...] = ("admin", "viewer", "publisher")


def parse_tokens(spec: str) -> dict[str, Role]:
    """``"tok1:admin,tok2:viewer,tok3:publisher"`` → {token: role}."""
    tokens: dict[str, Role] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        token, sep, role = item.strip().rpartition(":")
        if not sep or not token or role not in CONFIGURED_ROLES:
            raise ValueError(
                "HOOKSTREAM_API_TOKENS must look like token:admin,token:viewer,token:publisher"
            )
        tokens[token] = role
    if not tokens:
        raise ValueError("HOOKSTREAM_API_TOKENS names no token")
    return tokens
