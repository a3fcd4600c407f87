"""The garbage collector of a long-running streaming process.

CPython's defaults (a young collection every 700 allocations, a full one
whenever enough objects have survived two younger ones) suit short scripts.
A worker keeps every record it has fetched and not yet finished (with a
thousand webhooks, tens of thousands of them), so each young collection
promoted many, and full collections over everything the process holds came
about 1.5 times a second at 0.35 s each: half the worker's time, measured
with gc.callbacks while it delivered to 1 000 webhooks (1 100 deliveries/s;
2 100-2 400 with the settings below). The ingress spent about 4 % of its
time collecting at full load (4 000-4 800 -> 5 000-5 200 requests/s with
these settings); the API holds the recent delivery log of every webhook.

:func:`tune_collector` collects the young generation every YOUNG_THRESHOLD
allocations instead, so most short-lived objects (a request's, a record's)
are gone before a collection sees them and are never promoted.
:func:`freeze_loaded_state`, once start-up is done, moves what start-up
loaded (modules, clients, tables) out of the collector's sight for good:
later full collections scan only what came after.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 20  # young collections per middle one
OLD_THRESHOLD = 10  # middle collections before a full one is considered


def tune_collector() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


def freeze_loaded_state() -> None:
    gc.collect()  # garbage left by start-up is freed, not frozen with the rest
    gc.freeze()
