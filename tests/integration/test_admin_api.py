"""Admin API contract: auth roles, validation, write-only secrets, errors."""

from __future__ import annotations

import aiohttp

from hookstream.testing.api import VIEWER_TOKEN, ApiClient

VALID = {"name": "crm", "url": "https://crm.example/hook", "events": ["order.created"]}


async def test_missing_or_unknown_token_is_401(api: ApiClient) -> None:
    status, body = await api.call("GET", "/api/v1/webhooks", token=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.call("GET", "/api/v1/webhooks", token="not-a-token")
    assert status == 401 and body["error"]["message"] == "unknown token"


async def test_viewer_reads_but_cannot_write(api: ApiClient) -> None:
    webhook = await api.create_webhook(**VALID)
    status, body = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}", token=VIEWER_TOKEN)
    assert status == 200 and body["id"] == webhook["id"]
    for method, path in [
        ("POST", "/api/v1/webhooks"),
        ("PATCH", f"/api/v1/webhooks/{webhook['id']}"),
        ("PUT", f"/api/v1/webhooks/{webhook['id']}"),
        ("DELETE", f"/api/v1/webhooks/{webhook['id']}"),
    ]:
        status, body = await api.call(method, path, json=VALID, token=VIEWER_TOKEN)
        assert status == 403, (method, path)
        assert body["error"]["code"] == "forbidden"


async def test_secrets_are_write_only_and_kept_across_put(api: ApiClient) -> None:
    webhook = await api.create_webhook(
        **VALID, secret="s3cret", basicAuth={"username": "u", "password": "p"}
    )
    assert "secret" not in webhook and webhook["hasSecret"] is True
    assert webhook["basicAuth"] == {"username": "u", "hasPassword": True}

    # A GET → PUT round trip (secrets omitted) keeps them.
    replaced = {k: webhook[k] for k in ("name", "url", "events", "method", "contentType")}
    replaced["name"] = "renamed"
    status, body = await api.call("PUT", f"/api/v1/webhooks/{webhook['id']}", json=replaced)
    assert status == 200
    assert body["name"] == "renamed" and body["hasSecret"] is True
    assert body["basicAuth"]["username"] == "u"

    # A new username alone keeps the stored password (the console sends just that).
    status, body = await api.call(
        "PATCH", f"/api/v1/webhooks/{webhook['id']}", json={"basicAuth": {"username": "u2"}}
    )
    assert status == 200, body
    assert body["basicAuth"] == {"username": "u2", "hasPassword": True}

    # null removes them.
    status, body = await api.call(
        "PATCH", f"/api/v1/webhooks/{webhook['id']}", json={"secret": None, "basicAuth": None}
    )
    assert status == 200 and body["hasSecret"] is False and body["basicAuth"] is None

    status, listing = await api.call("GET", "/api/v1/webhooks")
    assert status == 200
    assert all("secret" not in item for item in listing["data"])
    assert webhook["id"] in {item["id"] for item in listing["data"]}


async def test_validation_errors_name_the_field(api: ApiClient) -> None:
    cases = [
        ({**VALID, "url": "ftp://x"}, "url"),
        ({**VALID, "method": "DELETE"}, "method"),
        ({**VALID, "contentType": "text/plain"}, "contentType"),
        ({**VALID, "events": []}, "events"),
        ({**VALID, "events": ["*", "order.created"]}, "events"),
        ({**VALID, "headers": {"X-Etl-Webhook-Id": "spoof"}}, "headers"),
        ({**VALID, "headers": {"Bad Header": "x"}}, "headers"),
        ({**VALID, "basicAuth": {"username": "u"}}, "basicAuth.password"),
        ({**VALID, "unknownField": 1}, "unknownField"),
        ({"url": "https://x.example"}, "name"),
    ]
    for payload, field in cases:
        status, body = await api.call("POST", "/api/v1/webhooks", json=payload)
        assert status == 422, (payload, body)
        assert body["error"]["code"] == "validation_failed"
        assert field in {d["field"] for d in body["error"]["details"]}, (field, body)


async def test_malformed_unknown_and_oversized_requests(api: ApiClient) -> None:
    status, body = await api.call("POST", "/api/v1/webhooks", data=b"{not json")
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = await api.call("POST", "/api/v1/webhooks", json=["a", "list"])
    assert status == 400 and "JSON object" in body["error"]["message"]
    status, body = await api.call("GET", "/api/v1/webhooks/wh_doesnotexist")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api.call("PATCH", "/api/v1/webhooks/wh_doesnotexist", json={"name": "x"})
    assert status == 404
    status, body = await api.call(
        "POST", "/api/v1/webhooks", data=b"{" + b" " * (1024 * 1024 + 10) + b"}"
    )
    assert status == 413 and body["error"]["code"] == "payload_too_large"


async def test_health_ready_metrics_and_openapi_need_no_token(
    api: ApiClient, http: aiohttp.ClientSession
) -> None:
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
        status, _ = await api.call("GET", path, token=None)
        assert status == 200, path
    status, doc = await api.call("GET", "/api/v1/openapi.json", token=None)
    assert "/api/v1/webhooks" in doc["paths"]
    assert "url" in doc["components"]["schemas"]["WebhookSpec"]["properties"]
    await api.call("GET", "/api/v1/webhooks/wh_nope")
    async with http.get(api.base_url + "/metrics") as response:
        assert response.status == 200
        text = await response.text()
    assert (
        'hookstream_api_requests_total{method="GET",route="/api/v1/webhooks/{webhook_id}",status="404"}'
        in text
    )


async def test_private_targets_refused_when_not_allowed(
    kafka: str, http: aiohttp.ClientSession
) -> None:
    from hookstream.api.app import create_api_from_settings
    from hookstream.metrics import Metrics
    from hookstream.settings import Settings
    from hookstream.testing.api import TOKENS, ApiServer

    strict = Settings(
        kafka_bootstrap_servers=kafka,
        api_tokens=TOKENS,
        allow_private_targets=False,
        secret_key="test-secret-key",
    )
    server = ApiServer(create_api_from_settings(strict, Metrics()))
    await server.start()
    try:
        client = ApiClient(server.url, http)
        for url in (
            "http://127.0.0.1:9000/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/hook",
            "http://localhost:8080/hook",
        ):
            status, body = await client.call("POST", "/api/v1/webhooks", json={**VALID, "url": url})
            assert status == 422, url
            assert body["error"]["details"][0]["field"] == "url"
    finally:
        await server.stop()


async def test_openapi_describes_every_route(api: ApiClient, api_server) -> None:  # type: ignore[no-untyped-def]
    import re

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    status, doc = await api.call("GET", "/api/v1/openapi.json", token=None)
    assert status == 200
    described = {
        (shape(path), method.upper()) for path, ops in doc["paths"].items() for method in ops
    }
    served = {
        (shape(route.resource.canonical), route.method)
        for route in api_server.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method not in ("HEAD", "OPTIONS")
        and not route.resource.canonical.endswith("openapi.json")
    }
    assert served <= described, served - described
