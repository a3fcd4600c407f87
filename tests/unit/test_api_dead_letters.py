"""Paging, `since` and recovery selection of dead letters (pure)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hookstream.api.dead_letters import cursor_of, page, parse_limit, parse_since, to_recover
from hookstream.api.views import DeadLetterView
from hookstream.errors import ValidationFailedError


def letter(n: int, delivery: str | None = None, minute: int | None = None) -> dict[str, Any]:
    return {
        "deliveryId": delivery or f"dlv_{n}",
        "webhookId": "wh_1",
        "reason": "http 500",
        "deadAt": f"2026-11-23T10:{minute if minute is not None else n:02d}:00.000Z",
        "attempts": [],
        "event": {"eventId": f"e{n}", "eventType": "t", "entityId": str(n), "timestamp": "x"},
    }


NEWEST_FIRST = [letter(n) for n in range(9, -1, -1)]


def test_pages_walk_every_record_once_newest_first() -> None:
    seen: list[str] = []
    cursor = None
    while True:
        chunk, cursor = page(NEWEST_FIRST, limit=3, cursor=cursor)
        seen += [r["deliveryId"] for r in chunk]
        if cursor is None:
            break
    assert seen == [f"dlv_{n}" for n in range(9, -1, -1)]


def test_cursor_stays_put_when_newer_records_arrive() -> None:
    first, cursor = page(NEWEST_FIRST, limit=2, cursor=None)
    grown = [letter(10), letter(11), *NEWEST_FIRST]
    second, _ = page(grown, limit=2, cursor=cursor)
    assert [r["deliveryId"] for r in first] == ["dlv_9", "dlv_8"]
    assert [r["deliveryId"] for r in second] == ["dlv_7", "dlv_6"]


def test_cursor_of_an_aged_out_record_is_an_empty_page() -> None:
    chunk, cursor = page(NEWEST_FIRST, limit=5, cursor=cursor_of(letter(99)))
    assert chunk == [] and cursor is None


@pytest.mark.parametrize("cursor", ["!!", "bm90IGpzb24", cursor_of({})[:-2] + "xx"])
def test_bad_cursor_is_422(cursor: str) -> None:
    with pytest.raises(ValidationFailedError):
        page(NEWEST_FIRST, limit=5, cursor=cursor)


@pytest.mark.parametrize(("raw", "ok"), [(None, 50), ("1", 1), ("100", 100)])
def test_limit(raw: str | None, ok: int) -> None:
    assert parse_limit(raw) == ok


@pytest.mark.parametrize("raw", ["0", "101", "-1", "ten", ""])
def test_bad_limit_is_422(raw: str) -> None:
    with pytest.raises(ValidationFailedError, match="limit"):
        parse_limit(raw)


def test_since_is_normalised_to_utc() -> None:
    assert parse_since({"since": "2026-11-23T11:05:00+01:00"}) == "2026-11-23T10:05:00.000Z"


@pytest.mark.parametrize(
    "body",
    [{}, {"since": 5}, {"since": "yesterday"}, {"since": "2026-11-23T10:00:00"}, {"x": 1}],
)
def test_bad_since_is_422(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailedError):
        parse_since(body)


def test_recover_picks_each_delivery_dead_since_once_with_attempt_reset() -> None:
    records = [letter(5, "dlv_a", 50), letter(4, "dlv_b", 40), letter(3, "dlv_a", 30), letter(1)]
    deliveries = to_recover(records, "2026-11-23T10:20:00.000Z")
    assert [d.delivery_id for d in deliveries] == ["dlv_a", "dlv_b"]
    assert all(d.attempt == 1 and d.history == () for d in deliveries)
    assert all(d.trigger == "recovery" for d in deliveries)
    assert to_recover(records, "2026-11-23T11:00:00.000Z") == []


async def test_view_groups_dead_letters_by_webhook() -> None:
    view = DeadLetterView("127.0.0.1:1", "hookstream.dead-letters", keep=2)
    for n in range(3):
        view.apply(f"dlv_{n}", orjson.dumps({**letter(n), "webhookId": "wh_a"}))
    view.apply("dlv_x", orjson.dumps({**letter(9), "webhookId": "wh_b"}))
    view.apply("dlv_bad", b"not json")
    view.apply("dlv_none", orjson.dumps([1]))
    assert [r["deliveryId"] for r in view.newest_first("wh_a")] == ["dlv_2", "dlv_1"]
    assert [r["deliveryId"] for r in view.newest_first("wh_b")] == ["dlv_9"]


async def test_view_lists_dead_letters_by_when_they_died_whatever_the_read_order() -> None:
    """Keyed by delivery id, one webhook's dead letters lie in several
    partitions, which are read in no set order across each other."""
    view = DeadLetterView("127.0.0.1:1", "hookstream.dead-letters", keep=10)
    for n in (2, 0, 3, 1):  # read order, not death order
        view.apply(f"dlv_{n}", orjson.dumps(letter(n)))
    view.apply("dlv_b", orjson.dumps(letter(5, delivery="dlv_b", minute=1)))  # same deadAt as 1
    listed = [r["deliveryId"] for r in view.newest_first("wh_1")]
    assert listed == ["dlv_3", "dlv_2", "dlv_b", "dlv_1", "dlv_0"]
