"""Dropping what every group has consumed from queue topics on the embedded
store (streams/queue_trim.py), on a real object log."""

from __future__ import annotations

from pathlib import Path

import orjson

from streams.object_log import ObjectLog
from streams.queue_trim import consumed, trim_consumed

CLUSTER = "tansu/clusters/c/"


def batch_key(topic: str, partition: int, offset: int) -> str:
    return f"{CLUSTER}topics/{topic}/partitions/{partition:010d}/records/{offset:020d}.batch"


def commit(objects: ObjectLog, group: str, topic: str, partition: int, offset: int) -> None:
    key = f"{CLUSTER}groups/consumers/{group}/offsets/{topic}/partitions/{partition:010d}.json"
    objects.put(key, orjson.dumps({"offset": offset, "leader_epoch": None}))


def test_a_batch_goes_once_the_next_starts_at_or_below_the_commit() -> None:
    assert consumed([0, 3, 5, 9], 5) == [0, 3]  # 5.. holds offset 5, not consumed yet
    assert consumed([0, 3, 5, 9], 9) == [0, 3, 5]
    assert consumed([0, 3, 5, 9], 100) == [0, 3, 5]  # the newest always stays
    assert consumed([0], 100) == []
    assert consumed([], 10) == []


def test_queues_lose_what_every_group_consumed_and_nothing_else(tmp_path: Path) -> None:
    objects = ObjectLog(tmp_path)
    objects.open()
    queue, events = "hookstream.deliveries.wh_1", "events.orders"
    for offset in range(6):
        for topic in (queue, events):
            objects.put(batch_key(topic, 0, offset), b"batch")
        objects.put(batch_key(queue, 1, offset), b"batch")
    commit(objects, "deliver", queue, 0, 4)
    commit(objects, "other", queue, 0, 2)  # the slowest group decides
    commit(objects, "deliver", events, 0, 6)  # not a queue: kept
    # Partition 1 of the queue: no group has committed, kept.

    deleted = trim_consumed(objects, lambda topic: topic.startswith("hookstream.deliveries."))

    assert deleted == [batch_key(queue, 0, 0), batch_key(queue, 0, 1)]
    left = [key for key in objects.keys_under(CLUSTER) if key.endswith(".batch")]
    assert len(left) == 18 - 2
    assert trim_consumed(objects, lambda topic: topic.startswith("hookstream.")) == []
    commit(objects, "other", queue, 0, 6)  # now "deliver", at 4, is the slowest
    assert trim_consumed(objects, lambda topic: topic.startswith("hookstream.")) == [
        batch_key(queue, 0, 2),
        batch_key(queue, 0, 3),
    ]
    commit(objects, "deliver", queue, 0, 6)
    assert trim_consumed(objects, lambda topic: topic.startswith("hookstream.")) == [
        batch_key(queue, 0, 4)
    ]
    assert objects.head(batch_key(queue, 0, 5)) is not None  # the newest
