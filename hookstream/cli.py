"""``hookstream`` command: run each process alone, or all of them (``run``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any

from hookstream import logs
from hookstream.settings import Settings

log = logging.getLogger("hookstream")


def _worker(settings: Settings) -> None:
    import faust  # noqa: PLC0415 - heavy import only for this process

    from hookstream.metrics import Metrics  # noqa: PLC0415
    from hookstream.worker import create_worker_app  # noqa: PLC0415

    app, _ = create_worker_app(settings, Metrics())
    worker = faust.Worker(app, loglevel="info", redirect_stdouts=False)
    worker.execute_from_commandline()


def _serve(app: Any, port: int, settings: Settings) -> None:
    from aiohttp import web  # noqa: PLC0415

    web.run_app(app, host=settings.bind_host, port=port, print=None, access_log=None)


def _api(settings: Settings) -> None:
    from hookstream.api.app import create_api_from_settings  # noqa: PLC0415

    logs.configure()
    _serve(create_api_from_settings(settings), settings.api_port, settings)


def _ingress(settings: Settings) -> None:
    from hookstream.inbound.app import create_ingress  # noqa: PLC0415

    logs.configure()
    _serve(create_ingress(settings), settings.ingress_port, settings)


def _broker(settings: Settings) -> None:
    from hookstream.supervisor import embedded_broker  # noqa: PLC0415
    from streams.broker import BrokerError  # noqa: PLC0415

    logs.configure()

    async def serve() -> None:
        broker = embedded_broker(settings)
        try:
            await broker.start()
        except BrokerError as exc:
            raise SystemExit(f"hookstream broker: {exc}") from None
        print(f"embedded broker ready at {broker.bootstrap} (Ctrl-C to stop)", flush=True)  # noqa: T201
        try:
            await asyncio.Event().wait()
        finally:
            await broker.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def _run(settings: Settings) -> None:
    from hookstream.supervisor import run_all  # noqa: PLC0415

    logs.configure()
    sys.exit(asyncio.run(run_all(settings)))


COMMANDS = {
    "worker": _worker,
    "api": _api,
    "ingress": _ingress,
    "broker": _broker,
    "run": _run,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hookstream", description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    settings = Settings()
    sys.argv = [sys.argv[0]]  # faust's worker parses argv itself
    COMMANDS[args.command](settings)


if __name__ == "__main__":
    main()
