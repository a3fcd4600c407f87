"""An aiohttp application served on 127.0.0.1, for tests and the benchmark:
the API under test, receivers, collectors and endpoints that hang."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from aiohttp import web


class LoopbackServer:
    """Serves ``app`` on ``port`` (0: a free one, known after :meth:`start`).
    ``runner_options`` go to :class:`aiohttp.web.AppRunner` (a short
    ``shutdown_timeout`` for handlers that hang on purpose, ...)."""

    def __init__(self, app: web.Application, port: int = 0, **runner_options: Any) -> None:
        self.app = app
        self.port = port
        self._runner_options = {"access_log": None, **runner_options}
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, **self._runner_options)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
