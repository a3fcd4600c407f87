"""CompactedTable and RecentRecords (streams/table.py). A writer's own
writes, applied before the tail reads them, are never rolled back by the
tail reading an older one. Pure in-memory logic: no view is started."""

from __future__ import annotations

from streams.table import CompactedTable, RecentRecords


def table() -> CompactedTable[bytes]:
    return CompactedTable("127.0.0.1:1", "config", lambda raw: raw)


async def test_the_tail_does_not_put_back_a_value_older_than_an_own_write() -> None:
    view = table()
    view.apply_written("k", b"created", offset=10)
    view.apply_written("k", b"updated", offset=11)
    view.apply_read("k", b"created", 10)  # the tail catches up with the create
    assert view.get("k") == b"updated"
    view.apply_read("k", b"updated", 11)
    assert view.get("k") == b"updated"
    view.apply_read("k", b"by someone else", 12)  # past the own write: applied
    assert view.get("k") == b"by someone else"


async def test_an_own_delete_is_not_undone_by_the_tail() -> None:
    view = table()
    view.apply_read("k", b"v1", 3)
    view.apply_written("k", None, offset=4)
    view.apply_read("k", b"v1", 3)  # a replay from the start (after a restart of the tail)
    assert view.get("k") is None
    view.apply_read("k", None, 4)
    view.apply_read("k", b"recreated", 5)
    assert view.get("k") == b"recreated"


async def test_other_keys_and_writes_without_an_offset_apply_as_read() -> None:
    view = table()
    view.apply_written("mine", b"x", offset=None)  # a stand-in publisher has no offset
    view.apply_read("mine", b"older", 1)
    view.apply_read("theirs", b"y", 2)
    assert (view.get("mine"), view.get("theirs")) == (b"older", b"y")


async def test_recent_records_keep_the_newest_per_key_and_skip_what_is_not_json() -> None:
    view = RecentRecords("127.0.0.1:1", "log", keep=3)
    for n in range(5):
        view.apply("a", b'{"n": %d}' % n)
    view.apply("a", b"{not json")
    view.apply("b", b'{"n": 9}')
    view.apply("b", None)  # a tombstone is no record
    # The newest three of "a": the unreadable one takes a place, and is skipped.
    assert view.newest_first("a") == [{"n": 4}, {"n": 3}]
    assert view.newest_first("b") == [{"n": 9}]
    assert view.newest_first("nobody") == []
