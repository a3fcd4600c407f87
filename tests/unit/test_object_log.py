"""The embedded object store's storage (streams/object_log.py), on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.object_log import ObjectLog, PreconditionFailedError, etag_text


def opened(directory: Path, **options: int) -> ObjectLog:
    objects = ObjectLog(directory, **options)
    objects.open()
    return objects


def body(objects: ObjectLog, key: str) -> bytes | None:
    entry = objects.head(key)
    return None if entry is None else objects.read(entry)


def test_put_read_overwrite_and_delete(tmp_path: Path) -> None:
    objects = opened(tmp_path)
    first = objects.put("t/a", b"one")
    second = objects.put("t/a", b"two")
    assert body(objects, "t/a") == b"two"
    assert second.etag != first.etag and second.mtime_us > first.mtime_us
    assert objects.read(second, 1, 3) == b"wo"
    assert objects.delete("t/a") and not objects.delete("t/a")
    assert objects.head("t/a") is None and objects.objects == 0


def test_conditional_writes(tmp_path: Path) -> None:
    objects = opened(tmp_path)
    created = objects.put("wm", b"0", if_none_match="*")
    with pytest.raises(PreconditionFailedError):
        objects.put("wm", b"x", if_none_match="*")
    with pytest.raises(PreconditionFailedError):
        objects.put("wm", b"x", if_match='"nope"')
    with pytest.raises(PreconditionFailedError):
        objects.put("missing", b"x", if_match="*")
    updated = objects.put("wm", b"1", if_match=etag_text(created))
    with pytest.raises(PreconditionFailedError):  # the old ETag no longer holds
        objects.put("wm", b"2", if_match=etag_text(created))
    assert body(objects, "wm") == b"1" and updated.etag > created.etag


def test_listing_with_prefix_delimiter_and_continuation(tmp_path: Path) -> None:
    objects = opened(tmp_path)
    for key in ("a/1", "a/2", "a/b/3", "a/b/4", "a/c/5", "a0", "b/6"):
        objects.put(key, b"x")
    flat = objects.list("a/")
    assert [key for key, _ in flat.keys] == ["a/1", "a/2", "a/b/3", "a/b/4", "a/c/5"]
    rolled = objects.list("a/", delimiter="/")
    assert [key for key, _ in rolled.keys] == ["a/1", "a/2"]
    assert rolled.common_prefixes == ["a/b/", "a/c/"]

    seen: list[str] = []
    after = ""
    while True:
        page = objects.list("a/", after=after, delimiter="/", limit=2)
        seen += [key for key, _ in page.keys] + page.common_prefixes
        if not page.truncated:
            break
        assert page.next_after is not None
        after = page.next_after
    assert seen == ["a/1", "a/2", "a/b/", "a/c/"]


def test_reopening_replays_everything_with_the_same_etags_and_times(tmp_path: Path) -> None:
    objects = opened(tmp_path, segment_bytes=200)  # several segments
    for n in range(20):
        objects.put(f"k/{n:02d}", f"body {n}".encode())
    objects.delete("k/03")
    objects.put("k/04", b"again")
    before = dict(objects.list("k/").keys)
    objects.close()

    reopened = opened(tmp_path, segment_bytes=200)
    after = dict(reopened.list("k/").keys)
    assert {k: (e.etag, e.mtime_us) for k, e in after.items()} == {
        k: (e.etag, e.mtime_us) for k, e in before.items()
    }
    assert body(reopened, "k/04") == b"again" and reopened.head("k/03") is None
    newer = reopened.put("k/new", b"x")
    assert newer.etag > max(e.etag for e in before.values())
    assert newer.mtime_us > max(e.mtime_us for e in before.values())


def test_a_write_cut_short_is_cut_off_and_nothing_written_before_is_lost(
    tmp_path: Path,
) -> None:
    objects = opened(tmp_path)
    objects.put("kept", b"acknowledged")
    objects.put("torn", b"x" * 100)
    objects.close()
    segment = max(tmp_path.glob("*.log"))
    segment.write_bytes(segment.read_bytes()[:-10])  # a crash mid-write

    reopened = opened(tmp_path)
    assert body(reopened, "kept") == b"acknowledged"
    assert reopened.head("torn") is None
    reopened.put("after", b"y")
    reopened.close()
    assert body(opened(tmp_path), "after") == b"y"


def test_compaction_gives_back_deleted_space_and_keeps_what_lives(tmp_path: Path) -> None:
    objects = opened(tmp_path, segment_bytes=4096)
    for n in range(200):
        objects.put(f"batch/{n:04d}", b"r" * 100)
    keep = objects.put("metadata", b"cluster")
    for n in range(190):  # retention deletes the oldest batches
        objects.delete(f"batch/{n:04d}")
    size = objects.bytes_on_disk
    freed = 0
    while (segment := objects.compactable()) is not None:
        freed += objects.compact(segment)
    assert freed > 0 and objects.bytes_on_disk < size
    moved = objects.head("metadata")
    assert moved is not None and (moved.etag, moved.mtime_us) == (keep.etag, keep.mtime_us)
    objects.close()

    # Dropped tombstones resurrect nothing after a restart.
    reopened = opened(tmp_path, segment_bytes=4096)
    assert [key for key, _ in reopened.list("batch/").keys] == [
        f"batch/{n:04d}" for n in range(190, 200)
    ]
    assert body(reopened, "metadata") == b"cluster"


operations = st.lists(
    st.tuples(
        st.sampled_from(["put", "delete"]),
        st.text(alphabet="ab/", min_size=1, max_size=6),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(operations, st.text(alphabet="ab/", max_size=3), st.integers(1, 4))
def test_listing_pages_agree_with_a_sorted_dict(
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[str, str]],
    prefix: str,
    limit: int,
) -> None:
    objects = opened(tmp_path_factory.mktemp("log"))
    model: dict[str, bytes] = {}
    for op, key in ops:
        if op == "put":
            objects.put(key, key.encode())
            model[key] = key.encode()
        else:
            objects.delete(key)
            model.pop(key, None)

    expected: list[str] = []
    for key in sorted(k for k in model if k.startswith(prefix)):
        cut = key.find("/", len(prefix))
        entry = key if cut < 0 else key[: cut + 1]
        if entry not in expected:
            expected.append(entry)

    seen: list[str] = []
    after = ""
    for _ in range(100):
        page = objects.list(prefix, after=after, delimiter="/", limit=limit)
        assert len(page.keys) + len(page.common_prefixes) <= limit
        seen += sorted([key for key, _ in page.keys] + page.common_prefixes)
        if not page.truncated:
            break
        assert page.next_after is not None
        after = page.next_after
    assert seen == expected
    objects.close()
