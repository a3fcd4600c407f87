"""Kafka clients built from settings, and explicit topic creation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from aiokafka.partitioner import DefaultPartitioner, murmur2

from streams.broker_compat import (
    group_consumer_options,
    manual_consumer_options,
    producer_options,
)
from streams.topics import TopicSpec, core_topics

log = logging.getLogger(__name__)


def broker_urls(bootstrap: str) -> list[str]:
    """``host:port,…`` as faust broker URLs."""
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


class TrackingProducer(AIOKafkaProducer):  # type: ignore[misc]
    """An aiokafka producer that registers each topic for metadata before its
    first send (see the aiokafka item in streams/broker_compat.py): without it,
    a send to a topic known only from the start-up metadata can wait for the
    whole request timeout and then fail with NotLeaderForPartitionError."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # topic -> (its partition map, all partitions, available ones): see partition_for.
        self._partition_lists: dict[str, tuple[dict[int, Any], list[int], list[int]]] = {}

    async def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
        client = self.client
        if topic not in client._topics:  # the workaround itself
            await client.add_topic(topic)
        return await super().send(topic, *args, **kwargs)

    def partition_for(self, topic: str, key: bytes | None) -> int | None:
        """The partition ``send`` would choose for ``key`` (this producer's
        partitioner), or None while the topic is not tracked or its
        partitions are not known (streams/batches.py then sends alone).

        Called for every record a batch writer adds: aiokafka's own path
        builds two sets and two lists of the topic's partitions each time,
        so those lists are kept until the next metadata update (which
        replaces each topic's partition map, hence the identity check)."""
        if topic not in self.client._topics:
            return None
        known = self._metadata._partitions.get(topic)
        if not known:
            return None
        lists = self._partition_lists.get(topic)
        if lists is None or lists[0] is not known:
            # Built as aiokafka's _partition builds them (lists of sets), so
            # the partitioner sees the same order send() gives it.
            available = {p for p, meta in known.items() if meta.leader != -1}
            lists = self._partition_lists[topic] = (known, list(set(known)), list(available))
        return int(self._partitioner(key, lists[1], lists[2]))

    async def track(self, topics: Iterable[str]) -> None:
        """Register many topics with one metadata request (one per topic, as
        first sends do, costs a full metadata response each: with a thousand
        webhook topics that is a thousand large responses)."""
        client = self.client
        new = set(topics) - client._topics
        if new:
            await client.set_topics(client._topics | new)


class CachedPartitioner:
    """Kafka's default partitioning (murmur2 of the key, as the Java client
    and librdkafka's consistent_random do, so every producer agrees), with
    each key's hash kept: aiokafka's murmur2 is pure Python, a few per cent
    of the CPU of a process that sends the same keys all day (listener ids,
    webhook ids, entity keys). Bounded: the cache starts over when full."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._hashes: dict[bytes, int] = {}
        self._keyless = DefaultPartitioner()

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(self._keyless(key, all_partitions, available))
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._limit:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


def new_producer(bootstrap: str, **overrides: Any) -> TrackingProducer:
    options = producer_options() | {"partitioner": CachedPartitioner()} | overrides
    return TrackingProducer(bootstrap_servers=bootstrap, **options)


def new_group_consumer(bootstrap: str, group_id: str, **extra: object) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, **(group_consumer_options() | extra)
    )


def new_manual_consumer(bootstrap: str, group_id: str, **extra: object) -> AIOKafkaConsumer:
    """A consumer that assigns its partitions itself (streams/membership.py)
    and commits its offsets to ``group_id``; it never joins that group."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, **(manual_consumer_options() | extra)
    )


class EndOffsets:
    """Log end offsets, asked on a connection of their own: a broker answers
    one connection's requests in order, so on a consuming client's connection
    a ListOffsets waits behind its long-poll fetch. Started on first use.
    (On Tansu the answer is the last batch's base offset + 1: still above a
    reader's position exactly when records it has not read exist.)"""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._client: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def of(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        wanted = list(partitions)
        async with self._lock:
            if self._client is None:
                client = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None)
                await client.start()
                self._client = client
            # Register new topics for metadata first, all in one request:
            # asked about a topic it does not track, the client waits for a
            # leader it never learns until the request timeout (40 s).
            tracked = self._client._client._topics
            if new := {tp.topic for tp in wanted} - tracked:
                await self._client._client.set_topics(tracked | new)
        ends: dict[TopicPartition, int] = await self._client.end_offsets(wanted)
        return ends

    async def stop(self, name: str) -> None:
        if self._client is not None:
            await stop_quietly(self._client, f"{name} offsets")
            self._client = None


async def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """Whether any bootstrap server accepts a TCP connection (for /readyz: a
    cheap probe that needs no client internals)."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


# How long a consumer's stop may wait for its fetcher before it is cancelled again.
FETCHER_STOP_PATIENCE = 1.0


async def stop_quietly(client: Any, name: str) -> None:
    """Stop an aiokafka client even when the broker is already gone (its
    fetcher then surfaces a CancelledError or connection error on close).

    aiokafka's fetcher swallows a cancel that lands while it is cancelling
    its own fetches after an assignment change (the ``contextlib.suppress``
    in ``_fetch_requests_routine``; aio-libs/aiokafka#983): ``stop()`` then
    waits for it forever. Seen when a consumer is stopped right after a
    reassignment (the shared view reader as views detach). The fetcher is
    cancelled again until it ends."""
    try:
        stopping = asyncio.ensure_future(client.stop())
        while not stopping.done():
            await asyncio.wait([stopping], timeout=FETCHER_STOP_PATIENCE)
            fetch_task = getattr(getattr(client, "_fetcher", None), "_fetch_task", None)
            if not stopping.done() and fetch_task is not None and not fetch_task.done():
                log.warning("client=%s fetcher ignored its cancel; cancelling again", name)
                fetch_task.cancel()
        await stopping
    except (asyncio.CancelledError, KafkaError, OSError) as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled ourselves: do not swallow that
        log.warning("client=%s stopped uncleanly: %r", name, exc)


class TopicAdmin:
    """Creates topics explicitly (idempotent), remembering which exist."""

    def __init__(self, bootstrap: str, replication_factor: int = 1) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._replication = replication_factor
        self._known: set[str] = set()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._admin.start()

    async def close(self) -> None:
        await self._admin.close()

    def known(self, name: str) -> bool:
        """Whether ``name`` is known to exist (ensured or created here)."""
        return name in self._known

    async def ensure(self, specs: Iterable[TopicSpec]) -> None:
        wanted = [spec for spec in specs if spec.name not in self._known]
        if not wanted:
            return
        async with self._lock:
            if len(wanted) == 1:
                # One topic: create it outright (an existing one is fine)
                # rather than list every topic of the cluster first.
                await self._create(wanted)
                self._known.add(wanted[0].name)
                return
            existing = set(await self._admin.list_topics())
            missing = [spec for spec in wanted if spec.name not in existing]
            if missing:
                await self._create(missing)
            self._known.update(spec.name for spec in wanted)

    async def _create(self, specs: list[TopicSpec]) -> None:
        new = [
            NewTopic(s.name, s.partitions, self._replication, topic_configs=dict(s.configs))
            for s in specs
        ]
        # Another process may create it between list and create.
        try:
            response = await self._admin.create_topics(new)
        except TopicAlreadyExistsError:
            return
        # aiokafka returns per-topic errors instead of raising them.
        created = []
        for topic, code, *_ in getattr(response, "topic_errors", ()):
            if code == 0:
                created.append(topic)
            elif code != TopicAlreadyExistsError.errno:
                raise for_code(code)(f"creating topic {topic}")
        if created:
            log.info("created topics %s", ",".join(created))

    async def delete(self, name: str) -> None:
        try:
            await self._admin.delete_topics([name])
        except KafkaError as exc:
            log.warning("could not delete topic %s: %r", name, exc)
        self._known.discard(name)


async def ensure_core_topics(
    bootstrap: str, replication_factor: int = 1, retry_tiers: Iterable[str] = ()
) -> None:
    admin = TopicAdmin(bootstrap, replication_factor)
    await admin.start()
    try:
        await admin.ensure(core_topics(retry_tiers))
    finally:
        await admin.close()
