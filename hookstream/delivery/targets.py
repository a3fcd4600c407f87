"""Which outbound targets are allowed (SSRF guard): pure address checks plus a
resolver that applies them at connect time, so DNS rebinding is caught too."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

# Addresses no webhook may reach unless private targets are allowed: loopback,
# RFC 1918, link-local (incl. cloud metadata 169.254.169.254), CGNAT, ULA, etc.
_EXTRA_BLOCKED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
)


class TargetNotAllowedError(Exception):
    pass


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _EXTRA_BLOCKED):
        return False
    return ip.is_global and not ip.is_multicast


def literal_ip(host: str) -> str | None:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return None
    return candidate


def check_address(host: str, address: str) -> None:
    if not is_public_address(address):
        raise TargetNotAllowedError(
            f"{host} resolves to {address}, a private, loopback, link-local or metadata address"
        )


async def check_host(host: str, resolver: AbstractResolver) -> None:
    """Refuse ``host`` if it is, or resolves to, a non-public address."""
    ip = literal_ip(host)
    if ip is not None:
        check_address(host, ip)
        return
    try:
        results = await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except OSError:
        # Not resolvable (yet): accepted; the connect-time check still applies.
        return
    for result in results:
        check_address(host, result["host"])


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default, then refuses non-public answers."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - passthrough
        return getattr(self._inner, name)
