"""A minimal webhook receiver in its own process: counts requests, answers 200.
``GET /count`` says how many POST/GET requests it has seen."""

from __future__ import annotations

import sys

from aiohttp import web

count = 0


async def hook(request: web.Request) -> web.Response:
    global count  # noqa: PLW0603 - a one-purpose benchmark server
    await request.read()
    count += 1
    return web.Response(text="ok")


async def report(request: web.Request) -> web.Response:
    return web.json_response({"count": count})


def main() -> None:
    app = web.Application()
    app.router.add_get("/count", report)
    app.router.add_route("*", "/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
