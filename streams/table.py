"""In-memory views of Kafka topics, rebuilt from the broker by every process.

A view reads its topic from the beginning, knows it has caught up when its
position reaches the high watermark reported by fetch responses (correct on
every broker, unlike ``end_offsets()`` on Tansu), then keeps tailing so
changes made by any other process show up within a fetch round trip. No
consumer group: every reader sees every partition.

* :class:`CompactedTable`: last value per key (configuration topics); a
  tombstone (``None`` value) removes the key.
* :class:`RecentRecords`: the newest N values per key (the delivery log).

The views of one process read through one :class:`ViewReader`: one consumer
and one end-offsets connection for all of them. A consumer per view cost
the broker a fetch per view every poll: the API's nine views made about
110 fetches a second while idle, about 200 while the inbound log was busy.
A view given a bootstrap address instead of a reader has a reader of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.kafka import EndOffsets, stop_quietly
from streams.owned import positions, reassign
from streams.service import SupervisedLoop, no_restart_hook

log = logging.getLogger(__name__)

V = TypeVar("V")


class ViewReader(SupervisedLoop):
    """Fetches every attached view's topic over one consumer and hands each
    view its records. Views attach and detach while it runs; it starts with
    its first view and stops with its last."""

    beats = True  # a round takes at most its poll

    def __init__(
        self,
        bootstrap: str,
        *,
        name: str = "views",
        poll_ms: int = 100,
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self.name = name
        self._bootstrap = bootstrap
        self._poll_ms = poll_ms
        self._consumer: AIOKafkaConsumer | None = None
        self.offsets = EndOffsets(bootstrap)
        self._views: dict[str, TopicView] = {}
        # Attaching changes the assignment: never in the middle of a round.
        self._lock = asyncio.Lock()

    @property
    def views(self) -> list[TopicView]:
        return list(self._views.values())

    async def attach(self, view: TopicView) -> None:
        if view.topic in self._views:
            raise ValueError(f"a view of {view.topic} is already attached")
        async with self._lock:
            if self._consumer is None:
                await self.start()
            assert self._consumer is not None
            partitions = self._consumer.partitions_for_topic(view.topic)
            if not partitions:
                client = self._consumer._client
                await client.set_topics(client._topics | {view.topic})
                partitions = self._consumer.partitions_for_topic(view.topic) or set()
            if not partitions:
                raise RuntimeError(f"topic {view.topic} does not exist; create topics first")
            view._partitions = [TopicPartition(view.topic, p) for p in sorted(partitions)]
            self._views[view.topic] = view
            await self._assign()

    async def detach(self, view: TopicView) -> None:
        if self._views.get(view.topic) is not view:
            return
        async with self._lock:
            del self._views[view.topic]
            if self._views:
                await self._assign()
        if not self._views:
            await self.stop()

    async def _assign(self) -> None:
        """Every attached view's partitions; those already read keep their
        positions, new ones start at the beginning."""
        assert self._consumer is not None
        wanted = [tp for view in self._views.values() for tp in view._partitions]
        await reassign(self._consumer, wanted, from_commits=False)

    async def setup(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=self._poll_ms,
            auto_offset_reset="earliest",
        )
        await self._consumer.start()
        self._consumer.assign([])

    async def teardown(self) -> None:
        await self.offsets.stop(self.name)
        if self._consumer is not None:
            await stop_quietly(self._consumer, self.name)
            self._consumer = None

    async def run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            async with self._lock:
                # Short rounds: an attach waits for the round to end.
                try:
                    batches = await consumer.getmany(timeout_ms=self._poll_ms)
                except KafkaError as exc:
                    log.warning("reader=%s fetch failed: %r; retrying", self.name, exc)
                    batches = None
                if batches is not None:
                    for tp, records in batches.items():
                        view = self._views.get(tp.topic)
                        if view is not None:
                            view._take(tp, records)
                    at = positions(consumer)
                    for view in self._views.values():
                        await view._after_round(consumer, at)
            if batches is None:
                await asyncio.sleep(1)
            self.progressed()
            await asyncio.sleep(0)  # let a waiting attach take the lock


class TopicView:
    """``reader``: the process's shared :class:`ViewReader`, or a bootstrap
    address for a view that reads on its own."""

    def __init__(
        self,
        reader: ViewReader | str,
        topic: str,
        *,
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        self.name = f"view:{topic}"
        self.topic = topic
        self._reader = (
            ViewReader(reader, name=self.name, on_restart=on_restart)
            if isinstance(reader, str)
            else reader
        )
        self._ready = asyncio.Event()
        self._progress = asyncio.Condition()
        # Per partition: every offset below this is applied (read-after-write).
        self._applied_through: dict[TopicPartition, int] = {}
        self._partitions: list[TopicPartition] = []
        # Keys this process wrote and applied ahead of the tail, with the
        # offset of that write (see apply_written).
        self._written_at: dict[str, int] = {}
        self.version = 0  # bumps on every change, so callers can cache derived views

    async def start(self) -> None:
        await self._reader.attach(self)

    async def stop(self) -> None:
        await self._reader.detach(self)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    def _take(self, tp: TopicPartition, records: list[Any]) -> None:
        for record in records:
            if record.key is not None:
                self.apply_read(record.key.decode(), record.value, record.offset)
        self._applied_through[tp] = records[-1].offset + 1

    async def _after_round(self, consumer: AIOKafkaConsumer, at: dict[TopicPartition, int]) -> None:
        """After each fetch round: ready once at the high watermark (``at``:
        the reader's positions), and wake whoever waits in :meth:`catch_up`."""
        highwaters = {tp: consumer.highwater(tp) for tp in self._partitions}
        if all(hw is not None and at.get(tp, -1) >= hw for tp, hw in highwaters.items()):
            # Offsets can have gaps (compaction, control records): at the
            # high watermark everything below it is applied.
            for tp, highwater in highwaters.items():
                self._applied_through[tp] = highwater or 0
            if not self._ready.is_set():
                log.info("view=%s recovered", self.topic)
                self._ready.set()
        async with self._progress:
            self._progress.notify_all()

    async def catch_up(self, timeout: float) -> bool:
        """Read-after-write across processes: wait until everything acknowledged
        on the topic before this call is applied here. Asks the broker for the
        log end offsets and waits until the view has applied up to them (no
        wait when it already has). False if that did not happen in time.

        Tansu reports "base offset of the last batch + 1" as the end; that is
        still exact enough here, because fetches return whole batches: once the
        view has applied past a batch's base offset it has applied the batch."""
        try:
            async with asyncio.timeout(timeout):
                ends = await self._reader.offsets.of(self._partitions)
                async with self._progress:
                    await self._progress.wait_for(
                        lambda: all(
                            self._applied_through.get(tp, 0) >= end for tp, end in ends.items()
                        )
                    )
        except (TimeoutError, KafkaError):
            return False
        return True

    def apply(self, key: str, raw: bytes | None) -> None:
        raise NotImplementedError

    def apply_written(self, key: str, raw: bytes | None, offset: int | None) -> None:
        """Apply this process's own acknowledged write (at ``offset``) at once,
        so the writer reads its write without waiting for the tail. Until the
        tail reaches that offset it must not put back an older value of the
        key: a create and a quick update are both applied here before the
        tail has read the create."""
        if offset is not None:
            self._written_at[key] = max(offset, self._written_at.get(key, offset))
        self.apply(key, raw)

    def apply_read(self, key: str, raw: bytes | None, offset: int) -> None:
        """Apply a record the tail read (a key lives in one partition, so its
        offsets order its writes)."""
        written = self._written_at.get(key)
        if written is not None:
            if offset < written:
                return  # older than what this process already applied
            del self._written_at[key]
        self.apply(key, raw)


class CompactedTable(TopicView, Generic[V]):
    def __init__(
        self,
        reader: ViewReader | str,
        topic: str,
        decode: Callable[[bytes], V],
        *,
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        super().__init__(reader, topic, on_restart=on_restart)
        self._decode = decode
        self._data: dict[str, V] = {}

    def get(self, key: str) -> V | None:
        return self._data.get(key)

    def values(self) -> list[V]:
        return list(self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def apply(self, key: str, raw: bytes | None) -> None:
        """Apply one record. Writers call this right after their own write is
        acknowledged so they read their own writes without waiting for the tail."""
        if raw is None:
            self._data.pop(key, None)
        else:
            try:
                self._data[key] = self._decode(raw)
            except (ValueError, TypeError):
                log.exception("view=%s key=%s undecodable record skipped", self.topic, key)
                return
        self.version += 1


class RecentRecords(TopicView):
    """The newest ``keep`` JSON values per key, oldest first. Kept as the
    bytes read and decoded when asked for: a view reads every record of a
    busy log (the API's inbound log, at the ingress's full rate), a person
    reads a few pages of it."""

    def __init__(self, reader: ViewReader | str, topic: str, *, keep: int = 100) -> None:
        super().__init__(reader, topic)
        self._keep = keep
        self._data: dict[str, deque[bytes]] = {}

    def newest_first(self, key: str) -> list[dict[str, Any]]:
        values = []
        for raw in reversed(self._data.get(key, ())):
            try:
                values.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                log.warning("view=%s key=%s undecodable record skipped", self.topic, key)
        return values

    def apply(self, key: str, raw: bytes | None) -> None:
        if raw is None:
            return
        self._data.setdefault(key, deque(maxlen=self._keep)).append(raw)


class SeenKeys(TopicView):
    """The most recent ``keep`` keys written to the topic (values ignored)."""

    def __init__(self, reader: ViewReader | str, topic: str, *, keep: int = 200_000) -> None:
        super().__init__(reader, topic)
        self._keep = keep
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def apply(self, key: str, raw: bytes | None) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self._keep:
            self._keys.popitem(last=False)
