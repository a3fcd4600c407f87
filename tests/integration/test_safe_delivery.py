"""Secrets are encrypted in Kafka, rotate gracefully, and private targets are
refused at connect time."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

from hookstream.delivery.payloads import OutboundRequest
from hookstream.delivery.sender import AttemptResult, Sender
from hookstream.testing.api import ApiClient
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import keyed, read_records
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from streams.ports import free_port
from streams.topics import WEBHOOKS
from tests.conftest import send_event


async def stored_records(kafka: str, webhook_id: str) -> list[bytes]:
    # Every record acknowledged before the call, so an extra copy would show up.
    records = await read_records(kafka, WEBHOOKS, where=keyed(webhook_id))
    return [record.value for record in records]


async def test_secrets_are_encrypted_in_the_config_topic(api: ApiClient, kafka: str) -> None:
    webhook = await api.create_webhook(
        name="enc",
        url="https://crm.example/h",
        secret="plain-secret-value",
        basicAuth={"username": "u", "password": "plain-password-value"},
    )
    [record] = await stored_records(kafka, webhook["id"])
    assert b"plain-secret-value" not in record and b"plain-password-value" not in record
    assert orjson.loads(record)["secret"].startswith("enc:v1:")


async def test_rotated_secret_signs_alongside_the_new_one(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    webhook = await api.create_webhook(
        name="rot", url=f"{receiver.url}/rot", events=[f"rot.{unique}"], secret="old-secret"
    )
    status, changed = await api.call(
        "PATCH", f"/api/v1/webhooks/{webhook['id']}", json={"secret": "new-secret"}
    )
    assert status == 200 and changed["previousSecretExpiresAt"]
    await worker.wait_knows(changed)
    await send_event(
        producer, {"eventId": f"r-{unique}", "eventType": f"rot.{unique}", "entityId": "1"}
    )
    [request] = await receiver.wait_for("/rot")
    expect_new = hmac.new(b"new-secret", request.body, hashlib.sha1).hexdigest()
    expect_old = hmac.new(b"old-secret", request.body, hashlib.sha1).hexdigest()
    assert request.headers["X-Etl-Webhook-Signature"] == expect_new
    assert request.headers["X-Etl-Webhook-Signature-Previous"] == expect_old


async def test_connect_time_guard_refuses_private_addresses(receiver: Receiver) -> None:
    sender = Sender(timeout=3, allow_private_targets=False)
    await sender.start()
    try:
        for url in (f"http://localhost:{receiver.port}/x", f"http://127.0.0.1:{receiver.port}/x"):
            result = await sender.send(OutboundRequest("POST", url, {}, b"{}"))
            assert result.outcome == "refused", (url, result)
            assert "127.0.0.1" in (result.error or "") or "::1" in (result.error or "")
    finally:
        await sender.close()
    assert receiver.requests == []

    allowed = Sender(timeout=3, allow_private_targets=True)
    await allowed.start()
    try:
        result = await allowed.send(OutboundRequest("POST", f"{receiver.url}/x", {}, b"{}"))
        assert result.ok
    finally:
        await allowed.close()


async def test_cookies_an_endpoint_sets_are_never_sent_back(receiver: Receiver) -> None:
    """One connection pool serves every webhook: a cookie jar would hand one
    customer's cookies to any other webhook on the same host."""
    receiver.response_headers = {"Set-Cookie": "session=secret-of-customer-a; Path=/"}
    sender = Sender(timeout=3, allow_private_targets=True)
    await sender.start()
    try:
        for path in ("/customer-a", "/customer-b"):
            # A host name: aiohttp's jar would keep cookies from it (not from IPs).
            url = f"http://localhost:{receiver.port}{path}"
            result = await sender.send(OutboundRequest("POST", url, {}, b"{}"))
            assert result.ok, result
    finally:
        await sender.close()
    assert [request.path for request in receiver.requests] == ["/customer-a", "/customer-b"]
    assert all("Cookie" not in request.headers for request in receiver.requests)


async def test_only_the_logged_part_of_a_response_body_is_read() -> None:
    """One endpoint's endless (or gzip-bomb) answer must not fill the memory
    of a worker that every webhook shares."""

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        while True:  # until the client goes away
            await response.write(b"x" * 65536)

    async def bomb(request: web.Request) -> web.Response:
        body = gzip.compress(b"0" * 20_000_000)  # 20 MB behind ~20 KB
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="y" * 5000)  # read whole: the connection is kept

    async def large(request: web.Request) -> web.Response:
        return web.Response(text="z" * 1_000_000)  # read in part: the connection closed

    app = web.Application()
    app.router.add_post("/endless", endless)
    app.router.add_post("/bomb", bomb)
    app.router.add_post("/plain", plain)
    app.router.add_post("/large", large)
    app.router.add_post("/small", lambda request: web.json_response({"ok": True}))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sender = Sender(timeout=30, allow_private_targets=True)
    await sender.start()
    try:
        results = {
            path: await sender.send(
                OutboundRequest("POST", f"http://127.0.0.1:{port}/{path}", {}, b"{}")
            )
            for path in ("endless", "bomb", "plain", "large", "small", "small")
        }
    finally:
        await sender.close()
        await runner.cleanup()
    for path, byte in (("endless", "x"), ("bomb", "0")):
        assert results[path].ok, results[path]
        assert results[path].body == byte * 4096 + "… [more bytes, not read]"
    assert results["plain"].body == "y" * 4096 + "… [904 more bytes]"
    assert results["large"].body == "z" * 4096 + "… [995904 more bytes]"
    assert results["small"].ok and results["small"].body == '{"ok": true}'


async def test_endpoints_that_hang_delay_others_but_never_fail_them() -> None:
    """Waiting for a connection is not the endpoint's time: with every slot
    held by an endpoint that does not answer, another webhook's request
    waits for one, then has its whole timeout (it used to time out while
    queued, or with what was left of its timeout once it got a connection)."""
    hanging: list[web.Request] = []
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        hanging.append(request)
        await release.wait()  # past the client's timeout: set at the end
        return web.json_response({})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)  # an endpoint that needs half of the timeout
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hang", hang)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sender = Sender(timeout=1.0, allow_private_targets=True, limit=2)
    await sender.start()

    def send(path: str) -> asyncio.Task[AttemptResult]:
        request = OutboundRequest("POST", f"http://127.0.0.1:{port}{path}", {}, b"{}")
        return asyncio.create_task(sender.send(request))

    try:
        stuck = [send("/hang"), send("/hang")]
        await eventually(
            lambda: len(hanging) == 2, timeout=10, interval=0.01, message="both slots held"
        )
        healthy = await send("/slow")
        outcomes = [result.outcome for result in await asyncio.gather(*stuck)]
    finally:
        release.set()
        await sender.close()
        await runner.cleanup()
    assert outcomes == ["timeout", "timeout"]
    assert healthy.ok, healthy


async def test_a_request_aiohttp_cannot_write_is_a_failed_attempt(receiver: Receiver) -> None:
    """Not an exception: the lane would retry the record forever."""
    sender = Sender(timeout=3, allow_private_targets=True)
    await sender.start()
    try:
        bad = OutboundRequest("POST", f"{receiver.url}/x", {"X-Id": "1\r\nX-Injected: 1"}, b"{}")
        result = await sender.send(bad)
    finally:
        await sender.close()
    assert result.outcome == "refused" and "not sendable" in (result.error or "")
    assert receiver.requests == []
