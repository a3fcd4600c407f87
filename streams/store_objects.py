"""How Tansu's ``s3://`` engine lays a partition out in the embedded
broker's store, and the few S3 requests hookstream makes there itself
(streams/retention.py).

A partition is one object per batch, ``clusters/<cluster>/topics/<topic>/
partitions/<partition, 10 digits>/records/<first offset, 20 digits>.batch``,
holding the batch as the producer sent it (Kafka's record batch format), so
listing a partition's records in key order lists its batches in offset order.

The store has no identities configured, so these requests go unsigned."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

import aiohttp
from aiokafka.structs import TopicPartition

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
DELETE_BATCH = 1000  # the most keys one S3 DeleteObjects request takes


@dataclass(frozen=True)
class StoredBatch:
    key: str
    written: datetime
    size: int = 0


class S3Store:
    """The bucket at ``endpoint``/``bucket``; each call takes the caller's session."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        self._base = f"{endpoint}/{bucket}"

    async def topics(self, session: aiohttp.ClientSession) -> dict[str, str]:
        """topic → ``clusters/<cluster>/topics/<topic>/``, every cluster's."""
        topics: dict[str, str] = {}
        for cluster in await self.prefixes(session, "clusters/"):
            for prefix in await self.prefixes(session, cluster + "topics/"):
                topics[prefix.rstrip("/").rsplit("/", 1)[-1]] = prefix
        return topics

    async def partitions(self, session: aiohttp.ClientSession) -> dict[TopicPartition, str]:
        """Every partition → the prefix of its batch objects."""
        found: dict[TopicPartition, str] = {}
        for topic, prefix in (await self.topics(session)).items():
            for partition in await self.prefixes(session, prefix + "partitions/"):
                number = int(partition.rstrip("/").rsplit("/", 1)[-1])
                found[TopicPartition(topic, number)] = partition + "records/"
        return found

    async def prefixes(self, session: aiohttp.ClientSession, prefix: str) -> list[str]:
        """The "folders" directly under ``prefix``."""
        found: list[str] = []
        async for page in self._pages(session, {"prefix": prefix, "delimiter": "/"}):
            found += [
                node.findtext(f"{S3_NS}Prefix") or ""
                for node in page.iter(f"{S3_NS}CommonPrefixes")
            ]
        return found

    async def batches(
        self, session: aiohttp.ClientSession, prefix: str, until: datetime | None = None
    ) -> list[StoredBatch]:
        """The batch objects under ``prefix`` in offset order; with ``until``,
        only up to and including the first written at or after it (the rest
        are younger still, so there is no need to list them)."""
        batches: list[StoredBatch] = []
        async for page in self._pages(session, {"prefix": prefix}):
            for node in page.iter(f"{S3_NS}Contents"):
                written = datetime.fromisoformat(node.findtext(f"{S3_NS}LastModified") or "")
                key = node.findtext(f"{S3_NS}Key") or ""
                batches.append(StoredBatch(key, written, int(node.findtext(f"{S3_NS}Size") or 0)))
                if until is not None and written >= until:
                    return batches
        return batches

    async def get(self, session: aiohttp.ClientSession, key: str) -> bytes:
        async with session.get(f"{self._base}/{key}") as response:
            return await response.read()

    async def put(self, session: aiohttp.ClientSession, key: str, body: bytes) -> None:
        async with session.put(f"{self._base}/{key}", data=body) as response:
            await response.read()

    async def delete(self, session: aiohttp.ClientSession, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            body = _delete_request(keys[start : start + DELETE_BATCH])
            digest = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 - S3 asks for it
            async with session.post(
                self._base, params={"delete": ""}, data=body, headers={"Content-MD5": digest}
            ) as response:
                await response.read()

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


def _delete_request(keys: list[str]) -> bytes:
    root = ET.Element("Delete")
    ET.SubElement(root, "Quiet").text = "true"
    for key in keys:
        ET.SubElement(ET.SubElement(root, "Object"), "Key").text = key
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
