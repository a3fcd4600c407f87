"""Inbound webhooks: listeners, every verification type, bodies, failures,
and the flow-trigger message read back from Kafka."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hookstream.api.app import create_api_from_settings
from hookstream.inbound.app import create_ingress
from hookstream.inbound.receive import INGRESS_KEY
from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.testing.api import TOKENS, ApiClient, ApiServer
from hookstream.testing.eventually import eventually
from hookstream.testing.kafka_reader import keyed, read_records, values
from hookstream.testing.processes import SECRET_KEY
from streams.broker import EmbeddedBroker
from streams.ports import free_port
from streams.topics import FLOW_TRIGGERS

BODY = orjson.dumps({"action": "opened", "number": 7})


async def make_listener(api: ApiClient, **fields: Any) -> dict[str, Any]:
    status, body = await api.call("POST", "/api/v1/listeners", json={"name": "l", **fields})
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes = BODY,
    content_type: str = "application/json",
    **headers: str,
) -> tuple[int, dict[str, Any]]:
    async with http.post(url, data=body, headers={"Content-Type": content_type, **headers}) as r:
        return r.status, await r.json(content_type=None)


async def triggers_for(kafka: str, listener_id: str, expect: int) -> list[dict[str, Any]]:
    """Every flow trigger for the listener written before the call (at least
    ``expect``): the ingress answers after its write is acknowledged, so any
    request already answered that wrote a trigger is counted."""
    records = await read_records(kafka, FLOW_TRIGGERS, where=keyed(listener_id), count=expect)
    return values(records)


def hook_url(ingress: ApiServer, listener: dict[str, Any], token: str | None = None) -> str:
    base = f"{ingress.url}/hooks/{listener['id']}"
    return f"{base}/{token}" if token else base


async def test_github_delivery_becomes_one_flow_trigger(
    api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession, kafka: str, unique: str
) -> None:
    listener = await make_listener(api, provider="github", verification={"secret": "gh-secret"})
    assert listener["verification"]["type"] == "hmac"
    assert (
        listener["verification"]["hasSecret"] is True and "secret" not in listener["verification"]
    )
    url = hook_url(ingress_server, listener)
    signature = "sha256=" + hmac.new(b"gh-secret", BODY, hashlib.sha256).hexdigest()

    status, body = await post(
        http,
        url,
        **{"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Delivery": f"bad-{unique}"},
    )
    assert status == 401 and "does not match" in body["error"]["message"]
    headers = {"X-Hub-Signature-256": signature, "X-GitHub-Delivery": f"gh-{unique}"}
    status, body = await post(http, url, **headers)
    assert status == 202 and body["deliveryId"] == f"gh-{unique}"
    status, body = await post(http, url, **headers)  # GitHub redelivers the same id
    assert status == 202 and body["duplicate"] is True

    [trigger] = await triggers_for(kafka, listener["id"], 1)
    assert trigger["listenerId"] == listener["id"]
    assert trigger["payload"] == {"action": "opened", "number": 7}
    assert trigger["deliveryId"] == f"gh-{unique}"
    assert trigger["contentType"] == "application/json"
    assert "X-Hub-Signature-256" not in trigger["headers"]
    assert trigger["headers"]["X-GitHub-Delivery"] == f"gh-{unique}"
    assert trigger["receivedAt"].endswith("Z")


async def test_every_verification_type_accepts_right_and_refuses_wrong(
    api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession, kafka: str
) -> None:
    now = int(time.time())
    whsec = "whsec_" + base64.b64encode(b"s" * 32).decode()

    def mac(secret: str, message: bytes, algo: Any = hashlib.sha256) -> bytes:
        return hmac.new(secret.encode(), message, algo).digest()

    sw_sig = StandardWebhook(whsec).sign(
        "msg_1", datetime.fromtimestamp(now, tz=UTC), BODY.decode()
    )
    cases: list[tuple[dict[str, Any], dict[str, str], dict[str, str]]] = [
        ({"verification": {"type": "none"}}, {}, {}),  # wrong: n/a (shown accepted below)
        (
            {"verification": {"type": "basic", "username": "u", "password": "p"}},
            {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()},
            {"Authorization": "Basic " + base64.b64encode(b"u:nope").decode()},
        ),
        (
            {
                "verification": {
                    "type": "hmac",
                    "algorithm": "sha1",
                    "encoding": "base64",
                    "header": "X-Sig",
                    "secret": "k",
                }
            },
            {"X-Sig": base64.b64encode(mac("k", BODY, hashlib.sha1)).decode()},
            {"X-Sig": base64.b64encode(mac("j", BODY, hashlib.sha1)).decode()},
        ),
        (
            {"provider": "shopify", "verification": {"secret": "shp"}},
            {
                "X-Shopify-Hmac-Sha256": base64.b64encode(mac("shp", BODY)).decode(),
                "X-Shopify-Webhook-Id": "s1",
            },
            {"X-Shopify-Hmac-Sha256": base64.b64encode(mac("bad", BODY)).decode()},
        ),
        (
            {"provider": "stripe", "verification": {"secret": "whsec_st"}},
            {"Stripe-Signature": f"t={now},v1={mac('whsec_st', f'{now}.'.encode() + BODY).hex()}"},
            {
                "Stripe-Signature": f"t={now - 900},v1={mac('whsec_st', f'{now - 900}.'.encode() + BODY).hex()}"
            },
        ),
        (
            {"provider": "slack", "verification": {"secret": "sl"}},
            {
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": "v0=" + mac("sl", f"v0:{now}:".encode() + BODY).hex(),
            },
            {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64},
        ),
        (
            {"provider": "standard-webhooks", "verification": {"secret": whsec}},
            {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": sw_sig},
            {"webhook-id": "msg_2", "webhook-timestamp": str(now), "webhook-signature": sw_sig},
        ),
    ]
    for fields, good, bad in cases:
        listener = await make_listener(api, **fields)
        url = hook_url(ingress_server, listener)
        if bad:
            status, body = await post(http, url, **bad)
            assert status == 401, (fields, body)
        status, body = await post(http, url, **good)
        assert status == 202, (fields, body)
        triggers = await triggers_for(kafka, listener["id"], 1)
        assert len(triggers) == 1, fields  # the refused request wrote nothing


async def test_secret_url_and_token_are_generated(
    api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession
) -> None:
    secret_url = await make_listener(api, verification={"type": "secret_url"})
    status, generated = await api.call("POST", f"/api/v1/listeners/{secret_url['id']}/generate-url")
    assert status == 200 and generated["url"].endswith(
        f"/hooks/{secret_url['id']}/{generated['token']}"
    )
    token = generated["token"]

    async def token_accepted() -> bool:  # a new token reaches the ingress within a fetch round
        return (await post(http, hook_url(ingress_server, secret_url, token)))[0] == 202

    await eventually(token_accepted, timeout=30, interval=0.1, message="generated token accepted")
    assert (await post(http, hook_url(ingress_server, secret_url, "wrong")))[0] == 401
    assert (await post(http, hook_url(ingress_server, secret_url)))[0] == 401
    status, shown = await api.call("GET", f"/api/v1/listeners/{secret_url['id']}")
    assert shown["verification"]["hasToken"] is True and token not in orjson.dumps(shown).decode()

    in_body = await make_listener(api, verification={"type": "token", "path": "myAuth.token"})
    status, generated = await api.call("POST", f"/api/v1/listeners/{in_body['id']}/generate-url")
    value = generated["token"]
    url = hook_url(ingress_server, in_body)
    good = orjson.dumps({"myAuth": {"token": value}, "order": 1})

    async def body_token_accepted() -> bool:
        return (await post(http, url, good))[0] == 202

    await eventually(body_token_accepted, timeout=30, interval=0.1, message="body token accepted")
    assert (await post(http, url, orjson.dumps({"myAuth": {"token": value + "x"}})))[0] == 401
    assert (await post(http, url, BODY))[0] == 401


async def test_bodies_and_bad_requests(
    api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession, kafka: str
) -> None:
    listener = await make_listener(api, sampleData="<order><id>1</id></order>")
    assert listener["sampleData"] == {"order": {"id": "1"}}
    url = hook_url(ingress_server, listener)
    assert (await post(http, url, b"<order id='9'><total>5</total></order>", "application/xml"))[
        0
    ] == 202
    assert (await post(http, url, b"a=1&a=2&b=x", "application/x-www-form-urlencoded"))[0] == 202
    triggers = await triggers_for(kafka, listener["id"], 2)
    assert [t["payload"] for t in triggers] == [
        {"order": {"@id": "9", "total": "5"}},
        {"a": ["1", "2"], "b": "x"},
    ]

    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><l>&b;</l>'
    for body, content_type, expected in [
        (b"{broken", "application/json", 400),
        (b"<a><b></a>", "application/xml", 400),
        (bomb, "application/xml", 400),
        (b"hello", "text/plain", 415),
        (b"x" * (1024 * 1024 + 1), "application/json", 413),
        # Within the body limit, but not with its headers in one Kafka record:
        # refused with the reason, not a 503 from the broker's refusal.
        (b'{"pad": "' + b"x" * (1024 * 1024 - 64) + b'"}', "application/json", 413),
    ]:
        status, answer = await post(http, url, body, content_type)
        assert status == expected, (content_type, answer)
        assert answer["error"]["code"]
    assert (await post(http, f"{ingress_server.url}/hooks/ls_unknown"))[0] == 404
    status, _ = await api.call(
        "PATCH", f"/api/v1/listeners/{listener['id']}", json={"enabled": False}
    )
    assert status == 200
    # Configuration reaches the ingress within a fetch round; wait for it.
    assert await ingress_server.app[INGRESS_KEY].listeners.catch_up(timeout=10)
    assert (await post(http, url))[0] == 404
    assert len(await triggers_for(kafka, listener["id"], 2)) == 2  # nothing more written

    async with http.get(f"{ingress_server.url}/metrics") as response:
        metrics = await response.text()
    assert (
        f'hookstream_ingress_requests_total{{listener="{listener["id"]}",status="202"}} 2.0'
        in metrics
    )
    assert 'listener="unknown",status="404"' in metrics


async def test_listener_api_keeps_secrets_on_update(api: ApiClient) -> None:
    listener = await make_listener(api, provider="stripe", verification={"secret": "whsec_keep"})
    status, updated = await api.call(
        "PATCH", f"/api/v1/listeners/{listener['id']}", json={"name": "renamed"}
    )
    assert status == 200 and updated["verification"]["hasSecret"] is True
    status, body = await api.call(
        "POST", "/api/v1/listeners", json={"name": "x", "provider": "github"}
    )
    assert status == 422 and "secret" in body["error"]["message"]
    status, listing = await api.call("GET", "/api/v1/listeners")
    assert listener["id"] in {item["id"] for item in listing["data"]}
    status, _ = await api.call("DELETE", f"/api/v1/listeners/{listener['id']}")
    assert status == 204


async def test_switching_provider_applies_its_preset(
    api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession
) -> None:
    listener = await make_listener(api)  # custom, verifying nothing
    url = hook_url(ingress_server, listener)
    status, updated = await api.call(
        "PATCH",
        f"/api/v1/listeners/{listener['id']}",
        json={"provider": "github", "verification": {"secret": "gh-later"}},
    )
    # Merged over the stored verification, the preset lost to its "none":
    # the listener said github and accepted unsigned requests.
    assert status == 200, updated
    assert updated["verification"]["type"] == "hmac"
    assert updated["verification"]["header"] == "X-Hub-Signature-256"

    async def unsigned_refused() -> bool:  # once the ingress has read the update
        status, _ = await post(http, url)
        return status == 401

    await eventually(unsigned_refused, timeout=30, interval=0.2, message="unsigned is 401")
    signature = "sha256=" + hmac.new(b"gh-later", BODY, hashlib.sha256).hexdigest()
    status, _ = await post(http, url, **{"X-Hub-Signature-256": signature})
    assert status == 202

    # The secret is write-only: switching again keeps it unless a new one is given.
    status, again = await api.call(
        "PATCH", f"/api/v1/listeners/{listener['id']}", json={"provider": "shopify"}
    )
    assert status == 200, again
    assert again["verification"]["header"] == "X-Shopify-Hmac-Sha256"
    assert again["verification"]["hasSecret"] is True
    # "custom" has no preset: what was verified stays verified.
    status, custom = await api.call(
        "PATCH", f"/api/v1/listeners/{listener['id']}", json={"provider": "custom"}
    )
    assert status == 200, custom
    assert custom["verification"]["type"] == "hmac"
    assert custom["verification"]["header"] == "X-Shopify-Hmac-Sha256"


async def test_broker_down_is_503_never_202(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    broker = EmbeddedBroker("127.0.0.1", free_port(), log_file=tmp_path / "broker.log")
    await broker.start()
    settings = Settings(
        kafka_bootstrap_servers=broker.bootstrap,
        api_tokens=TOKENS,
        secret_key=SECRET_KEY,
        allow_private_targets=True,
    )
    api = ApiServer(create_api_from_settings(settings, Metrics()))
    ingress = ApiServer(create_ingress(settings, Metrics()))
    await api.start()
    await ingress.start()
    try:
        listener = await make_listener(ApiClient(api.url, http))

        async def accepted() -> bool:  # once the ingress has seen the new listener
            status, _ = await post(http, hook_url(ingress, listener))
            return status == 202

        await eventually(accepted, timeout=30, interval=0.2, message="ingress accepts (202)")
        async with http.get(f"{ingress.url}/readyz") as response:
            assert response.status == 200
        await broker.stop()
        status, body = await post(http, hook_url(ingress, listener))
        assert status == 503 and body["error"]["code"] == "unavailable"
        async with http.get(f"{ingress.url}/readyz") as response:
            assert response.status == 503  # readiness follows the broker
        async with http.get(f"{ingress.url}/healthz") as response:
            assert response.status == 200  # alive all the same
    finally:
        await ingress.stop()
        await api.stop()
        await broker.stop()
