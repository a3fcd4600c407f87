"""Regression: a producer that first writes to a new topic must still deliver
to topics it knew only from its start-up metadata (the aiokafka behaviour
behind issue 13's 26-second stall and replayed routing batch)."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.kafka import new_producer


async def test_sends_to_startup_topics_survive_a_send_to_a_new_topic(
    kafka: str, unique: str
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    compacted = {"cleanup.policy": "compact"}
    old_a, old_b, new = f"probe.a-{unique}", f"probe.b-{unique}", f"probe.new-{unique}"
    try:
        await admin.create_topics(
            [NewTopic(old_a, 4, 1, topic_configs=compacted), NewTopic(old_b, 1, 1)]
        )
        # Short request timeout: without the fix the two old-topic sends fail
        # with NotLeaderForPartitionError when it expires instead of hanging 40 s.
        producer = new_producer(kafka, request_timeout_ms=6000)
        await producer.start()
        try:
            await admin.create_topics([NewTopic(new, 4, 1)])
            sends = [
                await producer.send(old_a, key=b"k", value=b"a"),
                await producer.send(old_b, key=b"k", value=b"b"),
                await producer.send(new, key=b"k", value=b"n"),
            ]
            results = await asyncio.gather(*sends, return_exceptions=True)
        finally:
            await producer.stop()
    finally:
        await admin.close()
    assert [type(r).__name__ for r in results] == ["RecordMetadata"] * 3, results
