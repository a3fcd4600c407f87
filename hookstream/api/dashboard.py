"""``GET /api/v1/stats``: what a dashboard shows (see :mod:`hookstream.api.stats`
for what is counted and :mod:`hookstream.api.lag` for how lag is measured)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import READ, Route
from hookstream.api.wire import BOOLEAN, INTEGER, NUMBER, STRING, TIME, nullable, obj
from hookstream.http_common import json_response
from streams.broker import disk_usage
from streams.object_store import ObjectStore


async def stats(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    webhooks = [(w.id, w.name, w.enabled) for w in ctx.webhooks.list()]
    report = ctx.stats.snapshot(webhooks)
    report["consumerLag"] = await ctx.lag.report()
    report["storage"] = await asyncio.to_thread(embedded_storage, ctx.settings.data_dir)
    return json_response(report)


def embedded_storage(data_dir: Path) -> dict[str, Any] | None:
    """The embedded broker's data dir and the bytes it takes on disk, when
    this process shares it (``make run``); None with any other Kafka.
    Blocking (walks the dir): run it in a thread."""
    if not ObjectStore(data_dir, 0).root.is_dir():
        return None
    return {"dataDir": str(data_dir.resolve()), "bytes": disk_usage(data_dir)}


_TOTALS = obj(
    {
        "eventsIn": INTEGER,
        "deliveries": {
            "type": "object",
            "properties": {"total": INTEGER},
            "required": ["total"],
            "additionalProperties": {"type": "integer"},
        },
        "retries": INTEGER,
        "deadLetters": INTEGER,
    }
)
_RATIO = obj({"attempts": INTEGER, "successes": INTEGER, "successRatio": nullable(NUMBER)})
STATS = obj(
    {
        "generatedAt": TIME,
        "windows": obj({"5m": _TOTALS, "60m": _TOTALS}),
        "series": {
            "type": "array",
            "items": {
                **_TOTALS,
                "properties": {**_TOTALS["properties"], "minute": TIME},
                "required": [*_TOTALS["required"], "minute"],
            },
        },
        "webhooks": {
            "type": "array",
            "items": obj(
                {
                    "webhookId": STRING,
                    "name": STRING,
                    "enabled": BOOLEAN,
                    "last5m": _RATIO,
                    "last60m": _RATIO,
                    "lastDeliveryAt": nullable(TIME),
                    "lastOutcome": nullable(STRING),
                }
            ),
        },
        "consumerLag": obj(
            {
                "approximate": BOOLEAN,
                "note": STRING,
                "groups": {
                    "type": "array",
                    "items": obj({"group": STRING, "topic": STRING, "lag": INTEGER}),
                },
                "error": STRING,
            },
            required=["approximate", "note", "groups"],
        ),
        "storage": nullable(obj({"dataDir": STRING, "bytes": INTEGER})),
    }
)

ROUTES = [
    Route(
        "GET",
        "/api/v1/stats",
        stats,
        "Dashboard numbers over the last 5 and 60 minutes, per minute, per webhook, and lag",
        READ,
        {200: STATS},
        description=(
            "Built from hookstream.delivery-log and hookstream.dead-letters, bucketed per "
            "minute by each record's own time, so every API process answers alike. "
            "eventsIn counts events routed to at least one webhook (distinct event ids of "
            "first attempts per minute; pings excluded); deliveries counts attempts by "
            "outcome; retries counts attempts after the first; deadLetters counts "
            "dead-lettered deliveries. The 5m window is the current minute and the 4 "
            "before it (60m likewise). series has one entry per minute, oldest first. "
            "consumerLag is end offset - committed offset of the worker's consumer groups, "
            "per topic; approximate on the embedded broker (see its note). storage is the "
            "embedded broker's data dir and its size on disk (null with an external Kafka)."
        ),
    )
]
