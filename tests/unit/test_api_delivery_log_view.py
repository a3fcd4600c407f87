"""DeliveryLogView (hookstream/api/views.py): a webhook's attempts newest
first by when they were made, whatever order their partitions were read in
(after the upgrade that moved the log to the producer's partitioner)."""

from __future__ import annotations

import orjson

from hookstream.api.views import DeliveryLogView


def attempt(delivery: str, number: int, at: str) -> bytes:
    return orjson.dumps({"deliveryId": delivery, "attempt": number, "at": at})


async def test_attempts_are_listed_by_their_time_not_the_read_order() -> None:
    seen: list[str] = []
    view = DeliveryLogView(
        "127.0.0.1:1", "hookstream.delivery-log", keep=10, observe=lambda r: seen.append(r["at"])
    )
    # The new partition read first, then the old one.
    view.apply("wh_1", attempt("dlv_new", 1, "2026-12-02T10:00:05.000Z"))
    view.apply("wh_1", attempt("dlv_new", 2, "2026-12-02T10:00:06.000Z"))
    view.apply("wh_1", attempt("dlv_old", 1, "2026-12-01T09:00:00.000Z"))
    view.apply("wh_1", attempt("dlv_tie_a", 1, "2026-12-02T10:00:06.000Z"))
    view.apply("wh_2", attempt("dlv_other", 1, "2026-12-02T11:00:00.000Z"))
    listed = [(r["deliveryId"], r["attempt"]) for r in view.newest_first("wh_1")]
    # Equal times keep the read order: the one read later is the newer.
    assert listed == [("dlv_tie_a", 1), ("dlv_new", 2), ("dlv_new", 1), ("dlv_old", 1)]
    assert len(seen) == 5  # every record still reaches the stats
