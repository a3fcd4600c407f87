"""A real aiohttp webhook receiver on 127.0.0.1 that records what it gets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hookstream.testing.loopback import LoopbackServer


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    # time.time() on arrival: comparable with epoch times the worker records (notBefore).
    wall_at: float = 0.0


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.requests: list[Received] = []
        self.status = 200
        self.delay = 0.0
        self.response_headers: dict[str, str] = {}
        # path → responses to give, in order, before falling back to ``status``
        self.scripts: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._changed = asyncio.Condition()
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Short shutdown: a deliberately hanging handler must not hold up teardown.
        self._server = LoopbackServer(app, self.port, shutdown_timeout=0.5)
        await self._server.start()
        self.port = self._server.port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            Received(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers.items()),
                body,
                time.monotonic(),
                time.time(),
            )
        )
        async with self._changed:
            self._changed.notify_all()
        script = self.scripts.get(request.path)
        if script:
            status, headers = script.pop(0)
            return web.Response(status=status, text=f"scripted {status}", headers=headers)
        if self.delay:
            # Deliberate: simulates a slow or hanging endpoint (the behaviour under test).
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text="received", headers=self.response_headers)

    def on_path(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def _until(
        self, condition: Callable[[], bool], timeout: float, failure: Callable[[], str]
    ) -> None:
        """Wait until ``condition`` holds (checked on every request received);
        after ``timeout`` seconds fail with ``failure()``."""

        async def holds() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        try:
            await asyncio.wait_for(holds(), timeout)
        except TimeoutError:
            raise AssertionError(failure()) from None

    async def wait_for(self, path: str, count: int = 1, timeout: float = 60.0) -> list[Received]:
        await self._until(
            lambda: len(self.on_path(path)) >= count,
            timeout,
            lambda: f"{path}: got {len(self.on_path(path))} of {count} requests in {timeout}s",
        )
        return self.on_path(path)

    async def wait_for_deliveries(
        self, path: str, delivery_ids: set[str], timeout: float = 60.0
    ) -> set[str]:
        """Wait until every one of ``delivery_ids`` reached ``path``, counting
        each id once: delivery is at least once, so a redelivery (same id,
        e.g. across a rebalance) must not stand in for a missing one. Returns
        the distinct ids that arrived, unexpected ones included."""

        def arrived() -> set[str]:
            return {self.header(r, "X-Etl-Webhook-Event-Id") for r in self.on_path(path)}

        await self._until(
            lambda: delivery_ids <= arrived(),
            timeout,
            lambda: (
                f"{path}: {len(delivery_ids - arrived())} of {len(delivery_ids)} "
                f"deliveries missing after {timeout}s"
            ),
        )
        return arrived()

    def header(self, request: Received, name: str) -> Any:
        lowered = {k.lower(): v for k, v in request.headers.items()}
        return lowered.get(name.lower())
