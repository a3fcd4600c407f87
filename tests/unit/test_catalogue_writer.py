"""CatalogueWriter (hookstream/catalogue.py): batched writes, newest value
per key, retried until acknowledged; against a stand-in producer."""

from __future__ import annotations

import orjson

from hookstream.catalogue import CatalogueWriter
from hookstream.testing.eventually import eventually
from streams.topics import ENTITIES, EVENT_TYPES
from tests.unit.factories import StandInProducer, make_event


def writes_to(producer: StandInProducer, topic: str) -> list[dict[str, object]]:
    return [orjson.loads(value) for t, _, _, value in producer.sent if t == topic]


async def test_a_burst_becomes_one_write_per_key_in_batches() -> None:
    producer = StandInProducer()
    writer = CatalogueWriter(producer)  # type: ignore[arg-type]
    for n in range(5):  # queued before the writer runs: one entity, newest wins
        writer.record(make_event(event_id=f"e-{n}", entity={"n": n}), "events.orders")
    await writer.start()
    await eventually(lambda: len(writes_to(producer, ENTITIES)) == 1)
    await writer.stop()
    assert writes_to(producer, ENTITIES)[0]["entity"] == {"n": 4}
    assert [w["eventType"] for w in writes_to(producer, EVENT_TYPES)] == ["order.created"]
    assert all(partition is not None for _, partition, _, _ in producer.sent)  # batched


async def test_failed_writes_are_retried_and_a_type_counts_once_acknowledged() -> None:
    producer = StandInProducer(fail_acks=True)
    writer = CatalogueWriter(producer)  # type: ignore[arg-type]
    await writer.start()
    writer.record(make_event(), "events.orders")
    await eventually(lambda: len(writes_to(producer, EVENT_TYPES)) == 1)
    producer.fail_acks = False
    await eventually(lambda: len(writes_to(producer, EVENT_TYPES)) == 2, timeout=10)  # the retry
    writer.record(make_event(event_id="e-2", entity={"n": 2}), "events.orders")
    await eventually(lambda: len(writes_to(producer, ENTITIES)) == 3)
    await writer.stop()
    # Acknowledged now: the type is not written again.
    assert len(writes_to(producer, EVENT_TYPES)) == 2


async def test_topics_with_unknown_partitions_are_written_one_by_one() -> None:
    producer = StandInProducer(unknown=frozenset({ENTITIES, EVENT_TYPES}))
    writer = CatalogueWriter(producer)  # type: ignore[arg-type]
    await writer.start()
    writer.record(make_event(), "events.orders")
    await eventually(lambda: len(producer.sent) == 2)
    await writer.stop()
    assert [partition for _, partition, _, _ in producer.sent] == [None, None]
