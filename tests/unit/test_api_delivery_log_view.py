"""DeliveryLogView (hookstream/api/views.py): a webhook's attempts newest
first by when they were made, whatever order their partitions were read in
(after the upgrade that moved the log to the producer's partitioner)."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

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


def logged(webhook: str, event: str, delivery: str) -> bytes:
    record = {"webhookId": webhook, "eventId": event, "deliveryId": delivery, "at": "t"}
    return orjson.dumps(record)


def test_webhooks_naming_an_event_or_delivery_follow_what_is_kept() -> None:
    view = DeliveryLogView("127.0.0.1:1", "hookstream.delivery-log", keep=2)
    view.apply("wh_a", logged("wh_a", "e1", "dlv_a1"))
    view.apply("wh_b", logged("wh_b", "e1", "dlv_b1"))
    view.apply("wh_a", logged("wh_a", "e1", "dlv_a1"))  # its retry
    assert view.webhooks_naming(event_id="e1", delivery_id=None) == {"wh_a", "wh_b"}
    assert view.webhooks_naming(event_id=None, delivery_id="dlv_b1") == {"wh_b"}
    assert view.webhooks_naming(event_id="e1", delivery_id="dlv_b1") == {"wh_b"}
    assert view.webhooks_naming(event_id="e2", delivery_id="dlv_b1") == set()
    view.apply("wh_a", logged("wh_a", "e2", "dlv_a2"))  # one attempt of e1 leaves wh_a
    assert view.webhooks_naming(event_id="e1", delivery_id=None) == {"wh_a", "wh_b"}
    view.apply("wh_a", logged("wh_a", "e3", "dlv_a3"))  # the other one too
    assert view.webhooks_naming(event_id="e1", delivery_id=None) == {"wh_b"}
    assert view.webhooks_naming(event_id=None, delivery_id="dlv_a1") == set()
    assert view.webhooks_naming(event_id=None, delivery_id=None) == set()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from(["e1", "e2", "e3", "e4"])),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=4),
)
def test_the_index_agrees_with_reading_every_kept_attempt(
    applied: list[tuple[str, str]], keep: int
) -> None:
    view = DeliveryLogView("127.0.0.1:1", "hookstream.delivery-log", keep=keep)
    for webhook, event in applied:
        view.apply(webhook, logged(webhook, event, f"dlv_{webhook}_{event}"))
    for event in ("e1", "e2", "e3", "e4"):
        scanned = {
            webhook
            for webhook in "abc"
            if any(r["eventId"] == event for r in view.newest_first(webhook))
        }
        assert view.webhooks_naming(event_id=event, delivery_id=None) == scanned
        for webhook in "abc":
            named = view.webhooks_naming(event_id=None, delivery_id=f"dlv_{webhook}_{event}")
            assert named == ({webhook} & scanned)
