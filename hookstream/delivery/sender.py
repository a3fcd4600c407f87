"""Sends one outbound request and describes what happened. The only place
that talks HTTP to webhook endpoints: one shared connection pool, a timeout
per request, redirects never followed, cookies never kept, private targets
refused at connect time unless allowed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from hookstream.delivery.payloads import OutboundRequest
from hookstream.delivery.targets import (
    GuardedResolver,
    TargetNotAllowedError,
    check_address,
    literal_ip,
)

MAX_LOGGED_BODY = 4096
# A plain body of known length up to this is read whole (and all but
# MAX_LOGGED_BODY of it dropped) to keep its connection; beyond it, or of
# unknown or compressed length, reading stops at MAX_LOGGED_BODY and the
# connection is closed.
DRAIN_AT_MOST = 64 * 1024


# Not frozen: a frozen dataclass pays an object.__setattr__ per field, and
# one of these is made for every attempt (nobody changes it after).
@dataclass(slots=True)
class AttemptResult:
    """Outcome of one attempt. ``outcome`` is one of: success, http_error,
    timeout, connection_error, refused (target not allowed)."""

    outcome: str
    duration: float
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


def logged_text(data: bytes, total: int | None) -> str:
    """The first MAX_LOGGED_BODY bytes of a response body as text; ``total``
    is the body's whole length when known (None: longer, length unknown)."""
    text = data[:MAX_LOGGED_BODY].decode("utf-8", errors="replace")
    if total is None:
        text += "… [more bytes, not read]"
    elif total > MAX_LOGGED_BODY:
        text += f"… [{total - MAX_LOGGED_BODY} more bytes]"
    return text


async def read_logged_body(response: aiohttp.ClientResponse) -> str:
    """What the delivery log keeps of a response, reading no more of it than
    that: one endpoint's huge (or gzip-bomb) answer must not fill the memory
    of a worker shared by every webhook. A body left unread closes its
    connection instead of returning it to the pool."""
    length = response.content_length
    plain = not response.headers.get("Content-Encoding")  # content_length is the wire's
    if length is not None and length <= DRAIN_AT_MOST and plain:
        # Nearly every answer: read whole, so the connection goes back to the pool.
        return logged_text(await response.read(), length)
    data = bytearray()
    while len(data) <= MAX_LOGGED_BODY:
        chunk = await response.content.read(MAX_LOGGED_BODY + 1 - len(data))
        if not chunk:  # the end: all of it read
            return logged_text(bytes(data), len(data))
        data += chunk
    response.close()
    return logged_text(bytes(data), length if plain else None)


# Requests in flight at once over every endpoint: a worker's delivery
# concurrency is at most this (bench/ measures its raw limit at the same).
CONNECTION_LIMIT = 1000


class Sender:
    def __init__(
        self, *, timeout: float, allow_private_targets: bool, limit: int = CONNECTION_LIMIT
    ) -> None:
        self._timeout = timeout
        self._allow_private = allow_private_targets
        # The pool's own limit would start each request's timeout while it
        # waits for a connection: endpoints that hang, holding every
        # connection, would then fail other webhooks' requests as timeouts.
        # Requests wait here instead, and the timeout starts once one holds
        # a slot (FIFO, so none waits behind later ones).
        self._slots = asyncio.Semaphore(limit)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        resolver = None if self._allow_private else GuardedResolver()
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, resolver=resolver)
        # No cookie jar: one pool serves every webhook, so a jar would send
        # one customer's cookies to another webhook on the same host (and
        # filtering the jar on every request costs CPU).
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),  # see send
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, request: OutboundRequest) -> AttemptResult:
        assert self._session is not None, "Sender.start() not called"
        started = time.perf_counter()
        try:
            if not self._allow_private:
                host = urlsplit(request.url).hostname or ""
                ip = literal_ip(host)  # literal IPs skip the resolver, so check them here
                if ip is not None:
                    check_address(host, ip)
            async with self._slots:
                started = time.perf_counter()  # the endpoint's time starts here
                async with (
                    asyncio.timeout(self._timeout),
                    self._session.request(
                        request.method,
                        request.url,
                        headers=request.headers,
                        data=request.body,
                        allow_redirects=False,
                    ) as response,
                ):
                    body = await read_logged_body(response)
                    status = response.status
                    outcome = "success" if 200 <= status < 300 else "http_error"
                    return AttemptResult(
                        outcome=outcome,
                        duration=time.perf_counter() - started,
                        status=status,
                        headers={str(k): v for k, v in response.headers.items()},
                        body=body,
                    )
        except TargetNotAllowedError as exc:
            return AttemptResult("refused", time.perf_counter() - started, error=str(exc))
        except TimeoutError:
            return AttemptResult(
                "timeout", time.perf_counter() - started, error="no response within the timeout"
            )
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            if isinstance(exc.__cause__, TargetNotAllowedError):
                return AttemptResult(
                    "refused", time.perf_counter() - started, error=str(exc.__cause__)
                )
            return AttemptResult(
                "connection_error",
                time.perf_counter() - started,
                error=f"{type(exc).__name__}: {exc}",
            )
        except ValueError as exc:
            # aiohttp refusing to write the request (a header it cannot send):
            # a failed attempt that retries and dead-letters, not an exception
            # that would retry the record in its lane forever.
            return AttemptResult(
                "refused", time.perf_counter() - started, error=f"request not sendable: {exc}"
            )
