"""The embedded broker's object store: the part of the S3 API that Tansu's
``s3://`` engine and hookstream's retention use, served over an
:class:`~streams.object_log.ObjectLog`. Run as its own process
(``python -m streams.s3_server --dir DIR --port PORT``) by
streams/object_store.py.

What it answers: create bucket (``PUT /b``), ``PUT`` an object (with
``If-Match`` / ``If-None-Match``), ``GET`` / ``HEAD`` (with a byte range and
conditions), ``DELETE``, ListObjectsV2 (prefix, delimiter, start-after,
continuation) and multi-object delete (``POST /b?delete``). Anything else is
answered ``501 NotImplemented``, never guessed at. Requests are not
authenticated: the store listens on 127.0.0.1 only, like the embedded broker.
Buckets are namespaces of keys (``bucket/key``); one store serves one broker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web
from defusedxml import ElementTree

from streams.object_log import Entry, ObjectLog, PreconditionFailedError, etag_text
from streams.queue_trim import TRIM_SECONDS, trim_consumed

log = logging.getLogger(__name__)

LOG_KEY: web.AppKey[ObjectLog] = web.AppKey("object_log", ObjectLog)
SYNC_SECONDS = 1.0
COMPACT_SECONDS = 30.0
MAX_OBJECT_BYTES = 64 * 1024 * 1024
MAX_LIST_KEYS = 1000
XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _xml(body: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode(),
        content_type="application/xml",
    )


def s3_error(status: int, code: str, message: str) -> web.Response:
    return _xml(f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>", status)


def _iso(entry: Entry) -> str:
    return datetime.fromtimestamp(entry.mtime_us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ListingCache:
    """Each object's ``<Contents>`` element, made once. Tansu lists every
    batch of a partition on each fetch that finds records, so the same
    elements go out again and again; formatting them each time was most of
    the store's CPU."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Entry, str]] = {}

    def contents(self, key: str, entry: Entry, cut: int) -> str:
        made = self._made.get(key)
        if made is not None and made[0] is entry:
            return made[1]
        element = (
            f"<Contents><Key>{escape(key[cut:])}</Key><LastModified>{_iso(entry)}</LastModified>"
            f"<ETag>{escape(etag_text(entry))}</ETag><Size>{entry.size}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
        self._made[key] = (entry, element)
        return element

    def forget(self, key: str) -> None:
        self._made.pop(key, None)


CACHE_KEY: web.AppKey[ListingCache] = web.AppKey("listing_cache", ListingCache)
QUEUES_KEY: web.AppKey[re.Pattern[str] | None] = web.AppKey("queues")


def _delete(app: web.Application, key: str) -> None:
    app[LOG_KEY].delete(key)
    app[CACHE_KEY].forget(key)


def _object_headers(entry: Entry) -> dict[str, str]:
    moment = datetime.fromtimestamp(entry.mtime_us // 1_000_000, UTC)
    return {
        "ETag": etag_text(entry),
        "Last-Modified": format_datetime(moment, usegmt=True),
        "Accept-Ranges": "bytes",
    }


def _split(request: web.Request) -> tuple[str, str]:
    return request.match_info["bucket"], request.match_info.get("key", "")


def _range(header: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` as [start, end); None if
    it cannot be satisfied. One range only: that is all object stores send."""
    unit, _, spec = header.partition("=")
    first, dash, last = spec.partition("-")
    if unit.strip() != "bytes" or not dash or "," in spec:
        raise ValueError(header)
    if not first:
        start, end = max(size - int(last), 0), size
    else:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    return (start, end) if start < end else None


def _conditions_fail(request: web.Request, entry: Entry) -> web.Response | None:
    tag = etag_text(entry)
    if_match = request.headers.get("If-Match")
    if if_match is not None and if_match not in ("*", tag):
        return s3_error(412, "PreconditionFailed", "If-Match does not hold")
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and if_none_match in ("*", tag):
        return web.Response(status=304, headers={"ETag": tag})
    return None


async def get_object(request: web.Request) -> web.StreamResponse:
    bucket, key = _split(request)
    if not key:
        return await list_objects(request)
    objects = request.app[LOG_KEY]
    entry = objects.head(f"{bucket}/{key}")
    if entry is None:
        return s3_error(404, "NoSuchKey", f"no object {key}")
    failed = _conditions_fail(request, entry)
    if failed is not None:
        return failed
    headers = _object_headers(entry)
    if request.method == "HEAD":
        headers["Content-Length"] = str(entry.size)
        return web.Response(headers=headers)
    wanted = request.headers.get("Range")
    if wanted is None:
        return web.Response(body=objects.read(entry), headers=headers)
    try:
        span = _range(wanted, entry.size)
    except ValueError:
        return s3_error(400, "InvalidArgument", f"unsupported Range {wanted}")
    if span is None:
        return s3_error(416, "InvalidRange", f"{wanted} is outside {entry.size} bytes")
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
    return web.Response(status=206, body=objects.read(entry, start, end), headers=headers)


async def put_object(request: web.Request) -> web.Response:
    bucket, key = _split(request)
    if not key:
        return web.Response()  # create bucket: buckets are key namespaces
    if "x-amz-copy-source" in request.headers or request.query.keys() & {"uploads", "partNumber"}:
        return s3_error(501, "NotImplemented", "copy and multipart uploads are not supported")
    if (request.content_length or 0) > MAX_OBJECT_BYTES:
        return s3_error(400, "EntityTooLarge", f"objects are at most {MAX_OBJECT_BYTES} bytes")
    body = await request.read()
    try:
        entry = request.app[LOG_KEY].put(
            f"{bucket}/{key}",
            body,
            if_match=request.headers.get("If-Match"),
            if_none_match=request.headers.get("If-None-Match"),
        )
    except PreconditionFailedError:
        return s3_error(412, "PreconditionFailed", f"the condition on {key} does not hold")
    except ValueError as exc:
        return s3_error(400, "KeyTooLongError", str(exc))
    return web.Response(headers={"ETag": etag_text(entry)})


async def delete_object(request: web.Request) -> web.Response:
    bucket, key = _split(request)
    if not key:
        return s3_error(501, "NotImplemented", "buckets are not deleted")
    _delete(request.app, f"{bucket}/{key}")
    return web.Response(status=204)


async def list_objects(request: web.Request) -> web.Response:
    bucket, _ = _split(request)
    query = request.query
    if query.get("list-type") != "2":
        return s3_error(501, "NotImplemented", "only ListObjectsV2 (list-type=2) is supported")
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    token = query.get("continuation-token")
    after = token if token is not None else query.get("start-after", "")
    try:
        limit = min(int(query.get("max-keys", MAX_LIST_KEYS)), MAX_LIST_KEYS)
    except ValueError:
        return s3_error(400, "InvalidArgument", "max-keys must be an integer")
    namespace = f"{bucket}/"
    listing = request.app[LOG_KEY].list(
        namespace + prefix,
        after=namespace + after if after else "",
        delimiter=delimiter,
        limit=limit,
    )
    cut = len(namespace)
    parts = [
        f'<ListBucketResult xmlns="{XMLNS}">',
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
        f"<KeyCount>{len(listing.keys) + len(listing.common_prefixes)}</KeyCount>",
        f"<MaxKeys>{limit}</MaxKeys>",
    ]
    if delimiter:
        parts.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
    if token is not None:
        parts.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
    parts.append(f"<IsTruncated>{'true' if listing.truncated else 'false'}</IsTruncated>")
    if listing.next_after is not None:
        parts.append(
            f"<NextContinuationToken>{escape(listing.next_after[cut:])}</NextContinuationToken>"
        )
    cache = request.app[CACHE_KEY]
    parts.extend(cache.contents(key, entry, cut) for key, entry in listing.keys)
    parts.extend(
        f"<CommonPrefixes><Prefix>{escape(common[cut:])}</Prefix></CommonPrefixes>"
        for common in listing.common_prefixes
    )
    parts.append("</ListBucketResult>")
    return _xml("".join(parts))


async def post_bucket(request: web.Request) -> web.Response:
    bucket, key = _split(request)
    if key or "delete" not in request.query:
        return s3_error(501, "NotImplemented", "only multi-object delete (POST ?delete)")
    try:
        document = ElementTree.fromstring(await request.read())
    except ElementTree.ParseError as exc:
        return s3_error(400, "MalformedXML", str(exc))
    deleted = []
    for element in document.iter():
        if element.tag.rsplit("}", 1)[-1] == "Key" and element.text:
            _delete(request.app, f"{bucket}/{element.text}")
            deleted.append(element.text)
    items = "".join(f"<Deleted><Key>{escape(key)}</Key></Deleted>" for key in deleted)
    return _xml(f'<DeleteResult xmlns="{XMLNS}">{items}</DeleteResult>')


def _trim_queues(app: web.Application) -> None:
    pattern = app[QUEUES_KEY]
    if pattern is None:
        return
    deleted = trim_consumed(app[LOG_KEY], lambda topic: pattern.match(topic) is not None)
    for key in deleted:
        app[CACHE_KEY].forget(key)
    if deleted:
        log.debug("object store: %d consumed queue batches deleted", len(deleted))


async def _keep_up(app: web.Application) -> None:
    """fsync at most ``SYNC_SECONDS`` after a write; drop consumed queue
    batches every ``TRIM_SECONDS``; compact now and then."""
    objects = app[LOG_KEY]
    loop = asyncio.get_running_loop()
    next_compaction = loop.time() + COMPACT_SECONDS
    next_trim = loop.time() + TRIM_SECONDS
    while True:
        await asyncio.sleep(SYNC_SECONDS)
        target = objects.sync_target()
        if target is not None:
            # Off the loop: writes go on meanwhile. A segment rolled during
            # it is fsynced by the roll itself.
            await asyncio.to_thread(os.fsync, target)
        if loop.time() >= next_trim:
            next_trim = loop.time() + TRIM_SECONDS
            _trim_queues(app)
        if loop.time() >= next_compaction:
            next_compaction = loop.time() + COMPACT_SECONDS
            while (segment := objects.compactable()) is not None:
                freed = objects.compact(segment)
                log.info("object store: compacted segment %d, %d bytes freed", segment, freed)
                await asyncio.sleep(0)


def create_app(objects: ObjectLog, queues: str | None = None) -> web.Application:
    """``queues``: a pattern of the topics that are queues (streams/queue_trim.py)."""
    app = web.Application(client_max_size=MAX_OBJECT_BYTES)
    app[LOG_KEY] = objects
    app[QUEUES_KEY] = re.compile(queues) if queues else None
    app[CACHE_KEY] = ListingCache()
    for path in ("/{bucket}", "/{bucket}/{key:.+}"):
        app.router.add_get(path, get_object)  # HEAD too
        app.router.add_put(path, put_object)
        app.router.add_delete(path, delete_object)
        app.router.add_post(path, post_bucket)

    async def background(app: web.Application) -> object:
        task = asyncio.create_task(_keep_up(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(background)  # type: ignore[arg-type]
    return app


async def serve(directory: Path, port: int, queues: str | None) -> None:
    objects = ObjectLog(directory)
    objects.open()
    log.info(
        "object store: %d objects, %d bytes in %s",
        objects.objects,
        objects.bytes_on_disk,
        directory,
    )
    runner = web.AppRunner(create_app(objects, queues), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        objects.close()  # fsyncs what is not yet on disk


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="where the segments are kept")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--queues", help="regex of the queue topics: consumed batches go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(args.dir, args.port, args.queues))


if __name__ == "__main__":
    main()
