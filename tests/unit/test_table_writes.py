"""CompactedTable (streams/table.py): a writer's own writes, applied before
the tail reads them, are never rolled back by the tail reading an older one.
Pure in-memory logic: the table is never started."""

from __future__ import annotations

from streams.table import CompactedTable


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
