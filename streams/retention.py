"""Retention for the embedded broker's durable store.

Tansu 0.6.0 keeps every batch it is given: it has no log cleaner and its
DeleteRecords is unimplemented. Its ``s3://`` engine stores a partition as one
object per produced batch (``clusters/<cluster>/topics/<topic>/partitions/
<partition>/records/<base offset>.batch``) and lists all of a partition's
objects on every fetch, so without retention both the disk used and the cost
of each fetch grow with every record ever written (docs/performance.md).

So hookstream trims the store itself, as Kafka's log cleaner would: a batch
object written longer ago than its topic's retention (streams/topics.py,
``retention_ms``) is deleted. The newest batch of a partition is always
kept, however old: it holds the partition's place (a consumer positioned at
the end keeps a batch to fetch from). A fetch from a deleted offset gets the
oldest batch still there, as a Kafka consumer gets the log start after
retention. Compacted topics are never trimmed.

The store has no identities configured, so these S3 requests go unsigned."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import aiohttp

log = logging.getLogger(__name__)

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
DELETE_BATCH = 1000  # the most keys one S3 DeleteObjects request takes
TRIM_EVERY = 300.0

# topic → how long its records are kept (ms), or None to keep them for ever.
RetentionPolicy = Callable[[str], int | None]


@dataclass(frozen=True)
class StoredBatch:
    key: str
    written: datetime


@dataclass
class TrimReport:
    partitions: int = 0
    deleted: int = 0


def expired(batches: list[StoredBatch], cutoff: datetime) -> list[StoredBatch]:
    """The batches of one partition (in offset order) written before
    ``cutoff``, never the newest one (pure)."""
    return [batch for batch in batches[:-1] if batch.written < cutoff]


class StoreRetention:
    """Applies a retention policy to the store at ``endpoint``/``bucket``."""

    def __init__(self, endpoint: str, bucket: str, policy: RetentionPolicy) -> None:
        self._base = f"{endpoint}/{bucket}"
        self._policy = policy

    async def trim(self, now: datetime | None = None) -> TrimReport:
        """One pass over every topic; ``now`` is for tests that age data."""
        now = now or datetime.now(UTC)
        report = TrimReport()
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            for topic_prefix in await self._topics(session):
                topic = topic_prefix.rstrip("/").rsplit("/", 1)[-1]
                keep_ms = self._policy(topic)
                if keep_ms is None:
                    continue
                cutoff = now - timedelta(milliseconds=keep_ms)
                for partition in await self._prefixes(session, topic_prefix + "partitions/"):
                    report.partitions += 1
                    batches = await self._batches(session, partition + "records/", cutoff)
                    doomed = [batch.key for batch in expired(batches, cutoff)]
                    await self._delete(session, doomed)
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

    async def _topics(self, session: aiohttp.ClientSession) -> list[str]:
        """``clusters/<cluster>/topics/<topic>/`` for every topic of every cluster."""
        topics: list[str] = []
        for cluster in await self._prefixes(session, "clusters/"):
            topics += await self._prefixes(session, cluster + "topics/")
        return topics

    async def _prefixes(self, session: aiohttp.ClientSession, prefix: str) -> list[str]:
        """The "folders" directly under ``prefix``."""
        found: list[str] = []
        async for page in self._pages(session, {"prefix": prefix, "delimiter": "/"}):
            found += [
                node.findtext(f"{S3_NS}Prefix") or ""
                for node in page.iter(f"{S3_NS}CommonPrefixes")
            ]
        return found

    async def _batches(
        self, session: aiohttp.ClientSession, prefix: str, cutoff: datetime
    ) -> list[StoredBatch]:
        """The partition's batch objects in offset order (keys are zero-padded
        offsets), up to and including the first written at or after
        ``cutoff``: the rest are younger still, so there is no need to list them."""
        batches: list[StoredBatch] = []
        async for page in self._pages(session, {"prefix": prefix}):
            for node in page.iter(f"{S3_NS}Contents"):
                written = datetime.fromisoformat(node.findtext(f"{S3_NS}LastModified") or "")
                batches.append(StoredBatch(node.findtext(f"{S3_NS}Key") or "", written))
                if written >= cutoff:
                    return batches
        return batches

    async def _pages(
        self, session: aiohttp.ClientSession, params: dict[str, str]
    ) -> AsyncIterator[ET.Element]:
        token = ""
        while True:
            query = params | {"list-type": "2", "max-keys": "1000"}
            if token:
                query["continuation-token"] = token
            async with session.get(self._base, params=query) as response:
                page = ET.fromstring(await response.read())  # noqa: S314 - our own store
            yield page
            if page.findtext(f"{S3_NS}IsTruncated") != "true":
                return
            token = page.findtext(f"{S3_NS}NextContinuationToken") or ""

    async def _delete(self, session: aiohttp.ClientSession, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            body = _delete_request(keys[start : start + DELETE_BATCH])
            digest = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 - S3 asks for it
            async with session.post(
                self._base, params={"delete": ""}, data=body, headers={"Content-MD5": digest}
            ) as response:
                await response.read()


def _delete_request(keys: list[str]) -> bytes:
    root = ET.Element("Delete")
    ET.SubElement(root, "Quiet").text = "true"
    for key in keys:
        ET.SubElement(ET.SubElement(root, "Object"), "Key").text = key
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
