"""A webhook receiver in its own process, for ``make bench`` and ``make soak``.

Every request to any path is answered 200, except under ``/flaky…``, which
answers 500 to half of them (at random). Per path it keeps the delivery ids
that got a 2xx (``X-Etl-Webhook-Event-Id``) and, when the JSON body's entity
carries ``sentAt`` (epoch seconds, stamped by the load generator on the same
machine), the event→2xx latency.

``GET /count`` — requests seen; ``GET /stats?prefix=/p`` — for paths starting
with the prefix: requests, 2xx, unique delivery ids, latency percentiles;
``GET /arrivals?prefix=/p`` — delivery id → first 2xx; ``POST /forget?prefix=/p``
— drop what was seen there (after a warm-up).
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict

import orjson
from aiohttp import web

EVENT_ID = "X-Etl-Webhook-Event-Id"


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.ok = 0
        self.ids: set[str] = set()
        self.latencies: list[float] = []
        self.arrivals: dict[str, float] = {}  # delivery id -> first 2xx (epoch seconds)


tallies: defaultdict[str, Tally] = defaultdict(Tally)
seen = 0


def latency_of(body: bytes, arrived: float) -> float | None:
    if not body.startswith(b"{"):
        return None
    try:
        sent = orjson.loads(body).get("entity", {}).get("sentAt")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return arrived - sent if isinstance(sent, int | float) else None


async def hook(request: web.Request) -> web.Response:
    global seen  # noqa: PLW0603 - a one-purpose benchmark server
    body = await request.read()
    arrived = time.time()
    seen += 1
    tally = tallies[request.path]
    tally.requests += 1
    if request.path.startswith("/flaky") and random.random() < 0.5:
        return web.Response(status=500, text="flaky")
    tally.ok += 1
    delivery_id = request.headers.get(EVENT_ID)
    if delivery_id is not None:
        tally.ids.add(delivery_id)
        tally.arrivals.setdefault(delivery_id, arrived)
    latency = latency_of(body, arrived)
    if latency is not None:
        tally.latencies.append(latency)
    return web.Response(text="ok")


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def count(request: web.Request) -> web.Response:
    return web.json_response({"count": seen})


async def stats(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix", "/")
    chosen = [t for path, t in tallies.items() if path.startswith(prefix)]
    latencies = [v for t in chosen for v in t.latencies]
    return web.json_response(
        {
            "requests": sum(t.requests for t in chosen),
            "ok": sum(t.ok for t in chosen),
            "unique": sum(len(t.ids) for t in chosen),
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=None),
            "latencies": len(latencies),
        }
    )


async def arrivals(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix", "/")
    found = {
        k: v
        for path, t in tallies.items()
        if path.startswith(prefix)
        for k, v in t.arrivals.items()
    }
    return web.json_response(found)


async def forget(request: web.Request) -> web.Response:
    """Drop what was seen on paths starting with ``prefix`` (after a warm-up)."""
    prefix = request.query.get("prefix", "/")
    for path in [path for path in tallies if path.startswith(prefix)]:
        del tallies[path]
    return web.json_response({"forgot": prefix})


def main() -> None:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_get("/count", count)
    app.router.add_get("/stats", stats)
    app.router.add_get("/arrivals", arrivals)
    app.router.add_post("/forget", forget)
    app.router.add_route("*", "/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
