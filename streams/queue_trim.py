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
from collections.abc import Callable

import orjson

from streams.object_log import ObjectLog

log = logging.getLogger(__name__)

TRIM_SECONDS = 10.0
_COMMIT = re.compile(r"^[^/]+/offsets/(?P<topic>[^/]+)/partitions/(?P<number>\d+)\.json$")
# Enough for every bucket and cluster a store holds (one of each, for Tansu).
_MANY = 10_000

Partition = tuple[str, str, str]  # cluster prefix, topic, partition (as in keys)


def consumed(offsets: list[int], committed: int) -> list[int]:
    """The batches (by first offset, in order) wholly below ``committed``:
    the next one starts at or below it. Never the newest (pure)."""
    return [first for first, following in itertools.pairwise(offsets) if following <= committed]


def _cluster_roots(objects: ObjectLog) -> list[str]:
    """``<bucket>/clusters/<cluster>/`` of every cluster, found by walking
    the key tree's first levels (not by reading every key)."""
    roots: list[str] = []
    for bucket in objects.list(delimiter="/", limit=_MANY).common_prefixes:
        roots += objects.list(f"{bucket}clusters/", delimiter="/", limit=_MANY).common_prefixes
    return roots


def _committed(objects: ObjectLog, is_queue: Callable[[str], bool]) -> dict[Partition, int]:
    """The smallest offset any group has committed, per queue partition."""
    found: dict[Partition, int] = {}
    for root in _cluster_roots(objects):
        groups = f"{root}groups/consumers/"
        for key, entry in objects.objects_under(groups):
            match = _COMMIT.match(key[len(groups) :])
            if match is None or not is_queue(match["topic"]):
                continue
            try:
                offset = orjson.loads(objects.read(entry)).get("offset")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if not isinstance(offset, int):
                continue
            partition = (root, match["topic"], match["number"])
            found[partition] = min(offset, found.get(partition, offset))
    return found


def trim_consumed(objects: ObjectLog, is_queue: Callable[[str], bool]) -> list[str]:
    """Delete the consumed batches of every queue partition; their keys. The
    cost is the committed partitions' batches, not the store's keys."""
    doomed: list[str] = []
    for (root, topic, number), committed in _committed(objects, is_queue).items():
        prefix = f"{root}topics/{topic}/partitions/{number}/records/"
        firsts = {
            int(key[len(prefix) : -len(".batch")]): key
            for key in objects.keys_under(prefix)
            if key.endswith(".batch") and key[len(prefix) : -len(".batch")].isdigit()
        }
        doomed += [firsts[first] for first in consumed(sorted(firsts), committed)]
    for key in doomed:
        objects.delete(key)
    return doomed
