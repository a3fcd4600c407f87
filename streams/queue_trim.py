"""On the embedded disk store, a queue keeps only what its readers have not
consumed yet.

Tansu lists every batch object of a partition on each fetch that finds
records (docs/performance.md, "the durable store"), so a partition's fetches
cost more with every batch it holds. hookstream's delivery topics and retry
tiers are queues: their consumer groups are their only readers (redelivery
and recovery read the delivery log and the dead letters), so once every
group that reads a partition has committed past a batch, nobody will fetch
it again, and keeping it until its 7 days of retention only slows every
fetch down. The store deletes such batches itself, every few seconds:

* a batch goes once the next batch of its partition starts at or below the
  smallest offset any group has committed there (so none of its records is
  still ahead of a reader);
* the newest batch of a partition is always kept (it holds the partition's
  end for ListOffsets);
* a partition no group has committed is left alone.

Tansu keeps committed offsets in the store too, one small JSON object per
group and partition; they are read from the store's own index, in process.
Event topics are never trimmed this way: replays and backtests read their
history without a group."""

from __future__ import annotations

import itertools
import logging
import re
from collections import defaultdict
from collections.abc import Callable

import orjson

from streams.object_log import ObjectLog

log = logging.getLogger(__name__)

TRIM_SECONDS = 10.0
_BATCH = re.compile(
    r"^(?P<cluster>.+/)topics/(?P<topic>[^/]+)/partitions/(?P<number>\d+)/records/(?P<offset>\d+)\.batch$"
)
_COMMIT = re.compile(
    r"^(?P<cluster>.+/)groups/consumers/[^/]+/offsets/(?P<topic>[^/]+)/partitions/(?P<number>\d+)\.json$"
)

Partition = tuple[str, str, int]  # cluster prefix, topic, partition


def consumed(offsets: list[int], committed: int) -> list[int]:
    """The batches (by first offset, in order) wholly below ``committed``:
    the next one starts at or below it. Never the newest (pure)."""
    return [first for first, following in itertools.pairwise(offsets) if following <= committed]


def _committed(objects: ObjectLog, is_queue: Callable[[str], bool]) -> dict[Partition, int]:
    """The smallest offset any group has committed, per queue partition."""
    found: dict[Partition, int] = {}
    for key, entry in objects.objects_under():
        if "/groups/consumers/" not in key or not key.endswith(".json"):
            continue
        match = _COMMIT.match(key)
        if match is None or not is_queue(match["topic"]):
            continue
        try:
            offset = orjson.loads(objects.read(entry)).get("offset")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if not isinstance(offset, int):
            continue
        partition = (match["cluster"], match["topic"], int(match["number"]))
        found[partition] = min(offset, found.get(partition, offset))
    return found


def trim_consumed(objects: ObjectLog, is_queue: Callable[[str], bool]) -> list[str]:
    """Delete the consumed batches of every queue partition; their keys."""
    committed = _committed(objects, is_queue)
    if not committed:
        return []
    batches: dict[Partition, list[tuple[int, str]]] = defaultdict(list)
    for key in objects.keys_under():
        if not key.endswith(".batch"):
            continue
        match = _BATCH.match(key)
        if match is None:
            continue
        partition = (match["cluster"], match["topic"], int(match["number"]))
        if partition in committed:
            batches[partition].append((int(match["offset"]), key))
    doomed: list[str] = []
    for partition, found in batches.items():
        keys = dict(found)
        doomed += [keys[first] for first in consumed([o for o, _ in found], committed[partition])]
    for key in doomed:
        objects.delete(key)
    return doomed
