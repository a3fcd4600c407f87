"""One ViewReader (streams/table.py) serves several views over one consumer:
views attach and detach while it runs, each reads its own topic from the
beginning, and nobody else's records are read twice."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer

from hookstream.testing.eventually import eventually
from streams.table import CompactedTable, RecentRecords, ViewReader
from tests.conftest import create_topic


async def test_views_attach_and_detach_on_one_reader_without_rereading(
    kafka: str, producer: AIOKafkaProducer
) -> None:
    unique = uuid.uuid4().hex[:8]
    log_topic = await create_topic(kafka, f"views.log.{unique}", 3)
    table_topic = await create_topic(kafka, f"views.table.{unique}", 2)
    for n in range(20):
        await producer.send_and_wait(table_topic, key=f"k{n}".encode(), value=b"before")
    reader = ViewReader(kafka, name="test-views")
    log: RecentRecords = RecentRecords(reader, log_topic, keep=1000)
    table: CompactedTable[bytes] = CompactedTable(reader, table_topic, bytes)
    await log.start()
    await log.wait_ready(timeout=30)
    try:
        for n in range(30):
            await producer.send_and_wait(log_topic, key=b"one", value=b'{"n": %d}' % n)
        await eventually(lambda: len(log.newest_first("one")) == 30)

        # A second view attaches while the first is being read: it reads its
        # topic from the beginning; the first keeps its place.
        await table.start()
        await table.wait_ready(timeout=30)
        assert len(table) == 20 and table.get("k7") == b"before"
        await producer.send_and_wait(log_topic, key=b"one", value=b'{"n": 30}')
        await producer.send_and_wait(table_topic, key=b"k7", value=b"after")
        assert await table.catch_up(timeout=10)
        assert table.get("k7") == b"after"
        await eventually(lambda: len(log.newest_first("one")) == 31)
        assert [r["n"] for r in log.newest_first("one")] == list(range(30, -1, -1))

        # Detached, a view gets nothing more; the other goes on.
        await table.stop()
        await producer.send_and_wait(table_topic, key=b"k8", value=b"unseen")
        await producer.send_and_wait(log_topic, key=b"one", value=b'{"n": 31}')
        await eventually(lambda: len(log.newest_first("one")) == 32)
        assert table.get("k8") == b"before"
        assert reader.running
    finally:
        await log.stop()
    assert not reader.running  # the last view took the reader down with it
