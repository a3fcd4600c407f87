"""``hookstream`` command: run each process alone, or all of them (``run``);
``send-event`` publishes a domain event and ``tenant`` manages tenants and
their portal links, both through the admin API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from hookstream import logs
from hookstream.settings import Settings
from streams import kafka_outage

log = logging.getLogger("hookstream")


def _worker(settings: Settings) -> None:
    from hookstream.metrics import Metrics  # noqa: PLC0415 - heavy import only for this process
    from hookstream.stopping import EXIT_UNCLEAN, StopDeadline  # noqa: PLC0415
    from hookstream.worker import StoppingWorker, create_worker_app  # noqa: PLC0415
    from streams.collector import tune_collector  # noqa: PLC0415

    tune_collector()
    app, runtime = create_worker_app(settings, Metrics())
    worker = StoppingWorker(
        app,
        deadline=StopDeadline(),
        loglevel="info",
        redirect_stdouts=False,
        logging_config=logs.logging_config(),
    )
    try:
        worker.execute_from_commandline()
    except SystemExit as done:
        if done.code or runtime.stopped_cleanly:
            raise
        sys.exit(EXIT_UNCLEAN)


def _serve(app: Any, port: int, settings: Settings, what: str) -> None:
    from aiohttp import web  # noqa: PLC0415

    from hookstream.stopping import serve  # noqa: PLC0415
    from streams.collector import freeze_loaded_state, tune_collector  # noqa: PLC0415

    async def loaded(_: web.Application) -> None:
        freeze_loaded_state()  # after the app's start-up (its views are loaded)

    tune_collector()
    app.on_startup.append(loaded)
    sys.exit(asyncio.run(serve(app, settings.bind_host, port, what=what)))


def _api(settings: Settings) -> None:
    from hookstream.api.app import create_api_from_settings  # noqa: PLC0415

    logs.configure()
    _serve(create_api_from_settings(settings), settings.api_port, settings, "api")


def _ingress(settings: Settings) -> None:
    from hookstream.inbound.app import create_ingress  # noqa: PLC0415

    logs.configure()
    _serve(create_ingress(settings), settings.ingress_port, settings, "ingress")


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


class ClientSettings(BaseSettings):
    """What ``send-event`` reads from the environment: ``HOOKSTREAM_TOKEN``."""

    model_config = SettingsConfigDict(env_prefix="HOOKSTREAM_", extra="ignore")

    token: SecretStr | None = None


def _bearer(settings: Settings, command: str) -> str:
    """The admin token: HOOKSTREAM_TOKEN, else the one ``make run`` keeps."""
    from hookstream.supervisor import ADMIN_TOKEN_FILE  # noqa: PLC0415

    token = ClientSettings().token
    if token is not None:
        return token.get_secret_value()
    token_file = settings.data_dir / ADMIN_TOKEN_FILE
    if token_file.is_file():
        return token_file.read_text(encoding="utf-8").strip()
    raise SystemExit(
        f"hookstream {command}: set HOOKSTREAM_TOKEN (no {token_file} from make run found)"
    )


def _send_event(settings: Settings, args: argparse.Namespace) -> None:
    from hookstream.api.client import ClientError, event_from_args, publish_event  # noqa: PLC0415

    bearer = _bearer(settings, "send-event")
    try:
        event = event_from_args(
            args.event_type, entity_id=args.entity_id, data=args.data, topic=args.topic
        )
        answer = asyncio.run(publish_event(args.api_url or settings.api_url, bearer, event))
    except ClientError as exc:
        raise SystemExit(f"hookstream send-event: {exc}") from None
    print(answer)  # noqa: T201 - the command's output


def _tenant(settings: Settings, args: argparse.Namespace) -> None:
    from hookstream.api.client import (  # noqa: PLC0415
        ClientError,
        all_tenants,
        call_api,
        pretty,
        tenant_request,
    )

    bearer = _bearer(settings, "tenant")
    api_url = args.api_url or settings.api_url
    answer: Any
    try:
        if args.action == "list":
            answer = asyncio.run(all_tenants(api_url, bearer))
        else:
            method, path, body = tenant_request(
                args.action,
                args.tenant_id,
                name=args.name,
                expires_in=args.expires_in,
                read_only=args.read_only,
            )
            answer = asyncio.run(call_api(api_url, bearer, method, path, body))
    except ClientError as exc:
        raise SystemExit(f"hookstream tenant {args.action}: {exc}") from None
    if answer is None:  # delete: 204, nothing to show
        return
    # A portal link is what a script wants to hand on: the URL alone.
    print(answer["url"] if args.action == "link" else pretty(answer))  # noqa: T201


TENANT_ACTIONS = ("list", "show", "put", "delete", "link", "revoke")

COMMANDS = {
    "worker": _worker,
    "api": _api,
    "ingress": _ingress,
    "broker": _broker,
    "run": _run,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hookstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in sorted(COMMANDS):
        commands.add_parser(name, help=f"run the {name} process" if name != "run" else "run all")
    send = commands.add_parser(
        "send-event",
        help="publish a domain event through the admin API (POST /api/v1/events)",
        description="Publish a domain event; prints the API's JSON answer. The token comes "
        "from HOOKSTREAM_TOKEN, or the admin.token file `make run` keeps in the data dir.",
    )
    send.add_argument("event_type", metavar="TYPE", help="event type, e.g. order.created")
    send.add_argument("--entity-id", help="entityId (default: the data's id, else generated)")
    send.add_argument("--data", help="the entity: JSON text, or @file to read it from a file")
    send.add_argument("--topic", help="event topic (default events.api)")
    send.add_argument("--api-url", help="admin API base URL (default HOOKSTREAM_API_URL)")
    tenant = commands.add_parser(
        "tenant",
        help="list, show, create or update, delete tenants; mint and revoke portal links",
        description="Tenants through the admin API (docs/tenants.md). `link` prints the "
        "portal URL to hand to the tenant; `revoke` ends every link issued so far. The token "
        "comes from HOOKSTREAM_TOKEN, or the admin.token file `make run` keeps in the data dir.",
    )
    tenant.add_argument("action", choices=TENANT_ACTIONS)
    tenant.add_argument("tenant_id", metavar="TENANT_ID", nargs="?", help="your customer's id")
    tenant.add_argument("--name", help="put: the tenant's display name")
    tenant.add_argument(
        "--expires-in", type=int, help="link: seconds the link lives (60 to 604800, default a day)"
    )
    tenant.add_argument("--read-only", action="store_true", help="link: a read-only portal")
    tenant.add_argument("--api-url", help="admin API base URL (default HOOKSTREAM_API_URL)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command == "send-event":
        _send_event(settings, args)
        return
    if args.command == "tenant":
        _tenant(settings, args)
        return
    sys.argv = [sys.argv[0]]  # faust's worker parses argv itself
    kafka_outage.install()  # reconnect backoff and outage log lines, before any client
    COMMANDS[args.command](settings)


if __name__ == "__main__":
    main()
