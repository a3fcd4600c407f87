"""The embedded object store's S3 subset over HTTP (streams/s3_server.py),
served for real on 127.0.0.1: what Tansu's engine and retention send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree

import aiohttp
import pytest

from hookstream.testing.loopback import LoopbackServer
from streams.object_log import ObjectLog
from streams.s3_server import XMLNS, create_app

NS = {"s3": XMLNS}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[str]:
    objects = ObjectLog(tmp_path)
    objects.open()
    async with LoopbackServer(create_app(objects)) as server:
        yield f"{server.url}/bucket"
    objects.close()


async def test_objects_with_conditions_ranges_and_errors(
    store: str, http: aiohttp.ClientSession
) -> None:
    async with http.put(f"{store}", data=b"") as created:  # create bucket
        assert created.status == 200
    async with http.put(f"{store}/wm.json", data=b"{}", headers={"If-None-Match": "*"}) as put:
        assert put.status == 200
        etag = put.headers["ETag"]
    async with http.put(f"{store}/wm.json", data=b"{}", headers={"If-None-Match": "*"}) as again:
        assert again.status == 412
        assert b"<Code>PreconditionFailed</Code>" in await again.read()
    async with http.put(f"{store}/wm.json", data=b'{"n":1}', headers={"If-Match": etag}) as update:
        assert update.status == 200 and update.headers["ETag"] != etag
    async with http.put(f"{store}/wm.json", data=b"{}", headers={"If-Match": etag}) as stale:
        assert stale.status == 412

    async with http.get(f"{store}/wm.json") as got:
        assert got.status == 200 and await got.read() == b'{"n":1}'
        assert got.headers["Last-Modified"].endswith("GMT")
    async with http.get(f"{store}/wm.json", headers={"Range": "bytes=1-3"}) as part:
        assert part.status == 206 and await part.read() == b'"n"'
        assert part.headers["Content-Range"] == "bytes 1-3/7"
    async with http.head(f"{store}/wm.json") as head:
        assert head.status == 200 and head.headers["Content-Length"] == "7"
    async with http.get(f"{store}/missing") as missing:
        assert missing.status == 404 and b"NoSuchKey" in await missing.read()
    async with http.put(f"{store}/copy", headers={"x-amz-copy-source": "bucket/wm.json"}) as copy:
        assert copy.status == 501
    async with http.delete(f"{store}/wm.json") as deleted:
        assert deleted.status == 204
    async with http.get(f"{store}/wm.json") as gone:
        assert gone.status == 404


async def list_page(http: aiohttp.ClientSession, store: str, **query: str) -> ElementTree.Element:
    async with http.get(store, params={"list-type": "2", **query}) as answer:
        assert answer.status == 200, await answer.text()
        return ElementTree.fromstring(await answer.read())


async def test_listing_pages_and_multi_object_delete(
    store: str, http: aiohttp.ClientSession
) -> None:
    keys = [f"topics/t/partitions/0/records/{n:020d}.batch" for n in range(5)]
    for key in [*keys, "topics/t/metadata.json", "topics/u/metadata.json"]:
        async with http.put(f"{store}/{key}", data=b"x") as put:
            assert put.status == 200

    root = await list_page(http, store, prefix="topics/", delimiter="/")
    assert [p.text for p in root.findall("s3:CommonPrefixes/s3:Prefix", NS)] == [
        "topics/t/",
        "topics/u/",
    ]

    listed: list[str] = []
    token = None
    while True:
        query = {"prefix": "topics/t/partitions/0/records/", "max-keys": "2"}
        if token:
            query["continuation-token"] = token
        root = await list_page(http, store, **query)
        listed += [k.text or "" for k in root.findall("s3:Contents/s3:Key", NS)]
        stamps = [m.text or "" for m in root.findall("s3:Contents/s3:LastModified", NS)]
        assert all(stamp.endswith("Z") and "." in stamp for stamp in stamps)
        if root.findtext("s3:IsTruncated", namespaces=NS) != "true":
            break
        token = root.findtext("s3:NextContinuationToken", namespaces=NS)
    assert listed == keys

    request = "<Delete>" + "".join(f"<Object><Key>{k}</Key></Object>" for k in keys[:3])
    async with http.post(f"{store}?delete", data=request + "</Delete>") as deleted:
        assert deleted.status == 200
        result = ElementTree.fromstring(await deleted.read())
        assert len(result.findall("s3:Deleted", NS)) == 3
    root = await list_page(http, store, prefix="topics/t/partitions/0/records/")
    assert [k.text for k in root.findall("s3:Contents/s3:Key", NS)] == keys[3:]
