"""The embedded durable store's storage: objects in append-only segment files
with an index in memory (the Bitcask layout), ordered by key for listing.

Tansu's ``s3://`` engine asks a store for small things, very often: one object
per produced batch, a conditional rewrite of each partition's watermark per
produce, and on every fetch a listing of the partition's batches and a read of
each. A general object store spends most of its time on what this workload
never needs (placement, replication, metadata databases), so hookstream keeps
its objects itself:

* a write appends one record (header, key, body) to the active segment with a
  single ``write`` call, so an acknowledged object survives the store process
  being killed; ``fsync`` runs in the background at most ``sync_seconds``
  apart (like Kafka, which leaves flushing to the OS and relies on replicas,
  a power cut can lose the last moment's writes);
* the index maps each key to where its body is and keeps the keys sorted, so
  a read is one ``pread`` and a listing walks only the keys under its prefix;
* deleting appends a tombstone; a segment whose live bytes fall under half is
  copied forward and removed (:meth:`ObjectLog.compact`), which is what gives
  retention's deletions back to the disk;
* every write gets a last-modified time strictly later than the one before
  and an ETag of its own. Tansu picks objects by their last-modified order
  (ListOffsets) and rewrites watermarks conditionally on the ETag, so both
  must be exact, and both survive compaction and restarts unchanged.

Opening replays the segments; a record cut short at the end of the newest
segment (a crash mid-write) is cut off, which loses nothing acknowledged.
"""

from __future__ import annotations

import logging
import os
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sortedcontainers import SortedList

log = logging.getLogger(__name__)

# crc32 of the rest | op | key length | body length | mtime (µs) | etag sequence
HEADER = struct.Struct("<IBHIqq")
PUT, DELETE = 1, 2
SEGMENT_BYTES = 64 * 1024 * 1024
SEGMENT_SUFFIX = ".log"
# A segment is copied forward once less than this share of it is live.
COMPACT_BELOW = 0.5
MAX_KEY_BYTES = 1024
# Sorts after any character a key holds: the end of the keys under a prefix.
AFTER_ALL = "\U0010ffff"


class PreconditionFailedError(Exception):
    """A conditional write whose condition does not hold (HTTP 412)."""


class Entry(NamedTuple):
    segment: int
    offset: int  # of the body in the segment file
    size: int
    mtime_us: int
    etag: int


@dataclass
class Listing:
    keys: list[tuple[str, Entry]]
    common_prefixes: list[str]
    truncated: bool
    next_after: str | None  # the continuation point when truncated


def etag_text(entry: Entry) -> str:
    return f'"{entry.etag:x}"'


class _Segment:
    __slots__ = ("fd", "id", "live", "path", "size")
    id: int
    path: Path
    fd: int
    size: int
    live: int

    def __init__(self, segment_id: int, path: Path, fd: int, size: int) -> None:
        self.id = segment_id
        self.path = path
        self.fd = fd
        self.size = size
        self.live = 0  # bytes of records the index still points at


def _record_size(key: bytes, body_size: int) -> int:
    return HEADER.size + len(key) + body_size


class ObjectLog:
    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._index: dict[str, Entry] = {}
        self._keys: SortedList = SortedList()
        self._segments: dict[int, _Segment] = {}
        self._active: _Segment | None = None
        self._last_mtime = 0
        self._last_etag = 0
        self.unsynced = False

    # -- opening and closing ------------------------------------------------

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        paths = sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"))
        for number, path in enumerate(paths):
            self._replay(int(path.stem), path, newest=number == len(paths) - 1)
        if self._active is None or self._active.size >= self.segment_bytes:
            self._roll()

    def close(self) -> None:
        self.sync()
        for segment in self._segments.values():
            os.close(segment.fd)
        self._segments.clear()
        self._active = None

    def sync(self) -> None:
        """fsync the active segment (the only one written), if written since."""
        target = self.sync_target()
        if target is not None:
            os.fsync(target)

    def sync_target(self) -> int | None:
        """The descriptor to fsync now, or None if nothing was written since
        the last one; for a caller that fsyncs off the event loop (a slow
        disk's fsync must not stall every request)."""
        if self._active is None or not self.unsynced:
            return None
        self.unsynced = False
        return self._active.fd

    def _replay(self, segment_id: int, path: Path, *, newest: bool) -> None:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        data = path.read_bytes()
        segment = _Segment(segment_id, path, fd, len(data))
        self._segments[segment_id] = segment
        position = 0
        while position < len(data):
            end = self._replay_record(segment, data, position)
            if end is None:
                if newest:
                    log.warning(
                        "object store: %s ends in an incomplete record at byte %d "
                        "(a write cut short); cut off",
                        path,
                        position,
                    )
                    os.ftruncate(fd, position)
                    segment.size = position
                else:
                    log.error(
                        "object store: %s is damaged at byte %d; the rest of it is skipped",
                        path,
                        position,
                    )
                break
            position = end
        self._active = segment

    def _replay_record(self, segment: _Segment, data: bytes, position: int) -> int | None:
        if position + HEADER.size > len(data):
            return None
        crc, op, key_size, body_size, mtime_us, etag = HEADER.unpack_from(data, position)
        end: int = position + HEADER.size + key_size + body_size
        if end > len(data) or zlib.crc32(data[position + 4 : end]) != crc:
            return None
        key_start = position + HEADER.size
        key = data[key_start : key_start + key_size].decode()
        self._last_mtime = max(self._last_mtime, mtime_us)
        self._last_etag = max(self._last_etag, etag)
        if op == PUT:
            entry = Entry(segment.id, key_start + key_size, body_size, mtime_us, etag)
            self._set(key, entry, end - position)
        else:
            self._remove(key)
        return end

    # -- the index -----------------------------------------------------------

    def _set(self, key: str, entry: Entry, record_size: int) -> None:
        old = self._index.get(key)
        if old is None:
            self._keys.add(key)
        else:
            self._segments[old.segment].live -= _record_size(key.encode(), old.size)
        self._index[key] = entry
        self._segments[entry.segment].live += record_size

    def _remove(self, key: str) -> Entry | None:
        old = self._index.pop(key, None)
        if old is not None:
            self._keys.remove(key)
            self._segments[old.segment].live -= _record_size(key.encode(), old.size)
        return old

    # -- writes --------------------------------------------------------------

    def _next_mtime(self) -> int:
        self._last_mtime = max(time.time_ns() // 1000, self._last_mtime + 1)
        return self._last_mtime

    def _roll(self) -> None:
        segment_id = max(self._segments, default=0) + 1
        path = self.directory / f"{segment_id:012d}{SEGMENT_SUFFIX}"
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        self.sync()  # of the segment being closed: nothing is written there again
        self._active = self._segments[segment_id] = _Segment(segment_id, path, fd, 0)

    def _append(self, op: int, key: bytes, body: bytes, mtime_us: int, etag: int) -> Entry:
        segment = self._active
        assert segment is not None, "open() first"
        if segment.size >= self.segment_bytes:
            self._roll()
            segment = self._active
            assert segment is not None
        head = HEADER.pack(0, op, len(key), len(body), mtime_us, etag)
        crc = zlib.crc32(body, zlib.crc32(key, zlib.crc32(head[4:])))
        record = HEADER.pack(crc, op, len(key), len(body), mtime_us, etag) + key + body
        offset = segment.size
        written = os.write(segment.fd, record)
        if written != len(record):  # a full disk: leave no half record behind
            os.ftruncate(segment.fd, offset)
            raise OSError(f"short write to {segment.path}")
        segment.size += len(record)
        self.unsynced = True
        return Entry(segment.id, offset + HEADER.size + len(key), len(body), mtime_us, etag)

    def put(
        self,
        key: str,
        body: bytes,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> Entry:
        """Store ``body`` under ``key``. ``if_match`` (an ETag, or ``*``) and
        ``if_none_match`` (``*``) make the write conditional, as in S3."""
        encoded = key.encode()
        if not encoded or len(encoded) > MAX_KEY_BYTES:
            raise ValueError(f"a key is 1 to {MAX_KEY_BYTES} bytes")
        current = self._index.get(key)
        if if_none_match is not None and current is not None:
            raise PreconditionFailedError(key)
        if if_match is not None and (current is None or if_match not in ("*", etag_text(current))):
            raise PreconditionFailedError(key)
        self._last_etag += 1
        entry = self._append(PUT, encoded, body, self._next_mtime(), self._last_etag)
        self._set(key, entry, _record_size(encoded, len(body)))
        return entry

    def delete(self, key: str) -> bool:
        """Forget ``key``; False if there was nothing to forget (no tombstone
        is written then)."""
        if key not in self._index:
            return False
        self._append(DELETE, key.encode(), b"", self._next_mtime(), 0)
        self._remove(key)
        return True

    # -- reads ---------------------------------------------------------------

    def head(self, key: str) -> Entry | None:
        return self._index.get(key)

    def read(self, entry: Entry, start: int = 0, end: int | None = None) -> bytes:
        """The body of ``entry``, or its bytes ``start`` to ``end`` (exclusive)."""
        stop = entry.size if end is None else min(end, entry.size)
        if stop <= start:
            return b""
        return os.pread(self._segments[entry.segment].fd, stop - start, entry.offset + start)

    def list(
        self,
        prefix: str = "",
        *,
        after: str = "",
        delimiter: str = "",
        limit: int = 1000,
    ) -> Listing:
        """Keys under ``prefix`` in order, after ``after``; with a delimiter,
        the keys below the next delimiter are rolled up into common prefixes
        (each counted once against ``limit``), as S3's ListObjectsV2 does."""
        limit = max(limit, 1)
        keys: list[tuple[str, Entry]] = []
        prefixes: list[str] = []
        if after >= prefix:
            position = self._keys.bisect_right(after)
        else:
            position = self._keys.bisect_left(prefix)
        last_prefix = after  # a continuation may end on a common prefix
        emitted = ""
        while position < len(self._keys):
            key: str = self._keys[position]
            if not key.startswith(prefix):
                break
            if len(keys) + len(prefixes) == limit:
                return Listing(keys, prefixes, True, emitted)
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if common != last_prefix:
                    prefixes.append(common)
                    emitted = last_prefix = common
                position = self._keys.bisect_left(common + AFTER_ALL)
                continue
            keys.append((key, self._index[key]))
            emitted = key
            position += 1
        return Listing(keys, prefixes, False, None)

    def keys_under(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix``, in order."""
        for key in self._keys.irange(minimum=prefix):
            if not key.startswith(prefix):
                return
            yield key

    def objects_under(self, prefix: str = "") -> Iterator[tuple[str, Entry]]:
        """Every object under ``prefix``, in key order."""
        for key in self.keys_under(prefix):
            yield key, self._index[key]

    # -- space ---------------------------------------------------------------

    def compactable(self) -> int | None:
        """The oldest segment, if it is closed and less than :data:`COMPACT_BELOW`
        live. Only the oldest: a tombstone is dropped when its segment goes,
        which is safe only when no older segment can hold what it deleted.
        Retention deletes the oldest objects first, so the oldest segment is
        the one that empties."""
        if len(self._segments) < 2:
            return None
        oldest = self._segments[min(self._segments)]
        return oldest.id if oldest.live < oldest.size * COMPACT_BELOW else None

    def live_in(self, segment_id: int) -> Iterator[tuple[str, Entry]]:
        return ((key, entry) for key, entry in self._index.items() if entry.segment == segment_id)

    def compact(self, segment_id: int) -> int:
        """Copy ``segment_id``'s live objects forward (same ETag and time) and
        delete the segment; the bytes given back."""
        segment = self._segments[segment_id]
        for key, entry in list(self.live_in(segment_id)):
            body = self.read(entry)
            encoded = key.encode()
            moved = self._append(PUT, encoded, body, entry.mtime_us, entry.etag)
            self._set(key, moved, _record_size(encoded, len(body)))
        # The copies must be on disk before the originals go.
        self.sync()
        freed = segment.size
        os.close(segment.fd)
        segment.path.unlink()
        del self._segments[segment_id]
        return freed

    @property
    def objects(self) -> int:
        return len(self._index)

    @property
    def bytes_on_disk(self) -> int:
        return sum(segment.size for segment in self._segments.values())
