"""API tokens and their roles, parsed from ``HOOKSTREAM_API_TOKENS`` (pure)."""

from __future__ import annotations

from typing import Literal

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")


def parse_tokens(spec: str) -> dict[str, Role]:
    """``"tok1:admin,tok2:viewer"`` → {token: role}."""
    tokens: dict[str, Role] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        token, sep, role = item.strip().rpartition(":")
        if not sep or not token or role not in ROLES:
            raise ValueError("HOOKSTREAM_API_TOKENS must look like token:admin,token:viewer")
        tokens[token] = role
    if not tokens:
        raise ValueError("HOOKSTREAM_API_TOKENS names no token")
    return tokens
