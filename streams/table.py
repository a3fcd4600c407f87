"""In-memory views of Kafka topics, rebuilt from the broker by every process.

A view reads its topic from the beginning, knows it has caught up when its
position reaches the high watermark reported by fetch responses (correct on
every broker, unlike ``end_offsets()`` on Tansu), then keeps tailing so
changes made by any other process show up within a fetch round trip. No
consumer group: every reader sees every partition.

* :class:`CompactedTable`: last value per key (configuration topics); a
  tombstone (``None`` value) removes the key.
* :class:`RecentRecords`: the newest N values per key (the delivery log).
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
from streams.service import SupervisedLoop, no_restart_hook

log = logging.getLogger(__name__)

V = TypeVar("V")


class TopicView(SupervisedLoop):
    beats = True  # a round takes at most the 500 ms poll

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        poll_ms: int = 100,
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        super().__init__(on_restart=on_restart)
        self.name = f"view:{topic}"
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=poll_ms,
        )
        self._offsets = EndOffsets(bootstrap)
        self._ready = asyncio.Event()
        self._progress = asyncio.Condition()
        # Per partition: every offset below this is applied (read-after-write).
        self._applied_through: dict[TopicPartition, int] = {}
        self._partitions: list[TopicPartition] = []
        # Keys this process wrote and applied ahead of the tail, with the
        # offset of that write (see apply_written).
        self._written_at: dict[str, int] = {}
        self.version = 0  # bumps on every change, so callers can cache derived views

    async def setup(self) -> None:
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(self.topic)
        if not partitions:
            await self._consumer._client.force_metadata_update()
            partitions = self._consumer.partitions_for_topic(self.topic) or set()
        if not partitions:
            raise RuntimeError(f"topic {self.topic} does not exist; create topics first")
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)

    async def teardown(self) -> None:
        await self._offsets.stop(self.topic)
        await stop_quietly(self._consumer, self.topic)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def run(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("view=%s fetch failed: %r; retrying", self.topic, exc)
                await asyncio.sleep(1)
                continue
            for tp, records in batches.items():
                for record in records:
                    if record.key is not None:
                        self.apply_read(record.key.decode(), record.value, record.offset)
                self._applied_through[tp] = records[-1].offset + 1
            if await self._caught_up():
                # Offsets can have gaps (compaction, control records): at the
                # high watermark everything below it is applied.
                for tp in self._partitions:
                    self._applied_through[tp] = self._consumer.highwater(tp) or 0
                if not self._ready.is_set():
                    log.info("view=%s recovered", self.topic)
                    self._ready.set()
            async with self._progress:
                self._progress.notify_all()
            self.progressed()

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
                ends = await self._offsets.of(self._partitions)
                async with self._progress:
                    await self._progress.wait_for(
                        lambda: all(
                            self._applied_through.get(tp, 0) >= end for tp, end in ends.items()
                        )
                    )
        except (TimeoutError, KafkaError):
            return False
        return True

    async def _caught_up(self) -> bool:
        for tp in self._partitions:
            highwater = self._consumer.highwater(tp)
            if highwater is None or await self._consumer.position(tp) < highwater:
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
        bootstrap: str,
        topic: str,
        decode: Callable[[bytes], V],
        *,
        poll_ms: int = 100,
        on_restart: Callable[[str], None] = no_restart_hook,
    ) -> None:
        super().__init__(bootstrap, topic, poll_ms=poll_ms, on_restart=on_restart)
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
    """The newest ``keep`` decoded JSON values per key, oldest first."""

    def __init__(self, bootstrap: str, topic: str, *, keep: int = 100, poll_ms: int = 100) -> None:
        super().__init__(bootstrap, topic, poll_ms=poll_ms)
        self._keep = keep
        self._data: dict[str, deque[dict[str, Any]]] = {}

    def newest_first(self, key: str) -> list[dict[str, Any]]:
        return list(reversed(self._data.get(key, ())))

    def apply(self, key: str, raw: bytes | None) -> None:
        if raw is None:
            return
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.exception("view=%s key=%s undecodable record skipped", self.topic, key)
            return
        self._data.setdefault(key, deque(maxlen=self._keep)).append(value)


class SeenKeys(TopicView):
    """The most recent ``keep`` keys written to the topic (values ignored)."""

    def __init__(self, bootstrap: str, topic: str, *, keep: int = 200_000) -> None:
        super().__init__(bootstrap, topic)
        self._keep = keep
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def apply(self, key: str, raw: bytes | None) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self._keep:
            self._keys.popitem(last=False)
