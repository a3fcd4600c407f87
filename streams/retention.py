"""Retention for the embedded broker's durable store.

Tansu 0.6.0 keeps every batch it is given: it has no log cleaner and its
DeleteRecords is unimplemented. Its ``s3://`` engine stores a partition as one
object per batch (streams/store_objects.py) and lists all of a partition's
objects on every fetch, so without retention both the disk used and the
cost of each fetch grow with every record ever written (docs/performance.md).

So hookstream trims the store itself, as Kafka's log cleaner would: a batch
object written longer ago than its topic's retention (streams/topics.py,
``retention_ms``) is deleted. The newest batch of a partition is always
kept, however old: it holds the partition's place (a consumer positioned at
the end keeps a batch to fetch from). A fetch from a deleted offset gets the
oldest batch still there, as a Kafka consumer gets the log start after
retention. Compacted topics are never trimmed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import aiohttp

from streams.store_objects import S3Store, StoredBatch

log = logging.getLogger(__name__)

TRIM_EVERY = 300.0

# topic → how long its records are kept (ms), or None to keep them for ever.
RetentionPolicy = Callable[[str], int | None]


@dataclass
class TrimReport:
    partitions: int = 0
    deleted: int = 0


def expired(batches: list[StoredBatch], cutoff: datetime) -> list[StoredBatch]:
    """The batches of one partition (in offset order) written before
    ``cutoff``, never the newest one (pure)."""
    return [batch for batch in batches[:-1] if batch.written < cutoff]


class StoreRetention:
    """Applies a retention policy to ``store``."""

    def __init__(self, store: S3Store, policy: RetentionPolicy) -> None:
        self._store = store
        self._policy = policy

    async def trim(self, now: datetime | None = None) -> TrimReport:
        """One pass over every topic; ``now`` is for tests that age data."""
        now = now or datetime.now(UTC)
        report = TrimReport()
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            for topic, prefix in (await self._store.topics(session)).items():
                keep_ms = self._policy(topic)
                if keep_ms is None:
                    continue
                cutoff = now - timedelta(milliseconds=keep_ms)
                for partition in await self._store.prefixes(session, prefix + "partitions/"):
                    report.partitions += 1
                    batches = await self._store.batches(session, partition + "records/", cutoff)
                    doomed = [batch.key for batch in expired(batches, cutoff)]
                    await self._store.delete(session, doomed)
                    report.deleted += len(doomed)
        if report.deleted:
            log.info(
                "retention: deleted %d expired batches in %d partitions",
                report.deleted,
                report.partitions,
            )
        return report

    async def run(self, every: float = TRIM_EVERY) -> None:
        """Trim now and every ``every`` seconds until cancelled; a failed pass
        (the store restarting) is logged and tried again at the next."""
        while True:
            try:
                await self.trim()
            except (aiohttp.ClientError, OSError, ET.ParseError) as exc:
                log.warning("retention pass failed, will retry: %r", exc)
            await asyncio.sleep(every)
