"""The admin API running in-process on a real TCP port, and a small client."""

from __future__ import annotations

from typing import Any

import aiohttp

from hookstream.testing.loopback import LoopbackServer

ADMIN_TOKEN = "test-admin-token"
VIEWER_TOKEN = "test-viewer-token"
PUBLISHER_TOKEN = "test-publisher-token"
TOKENS = f"{ADMIN_TOKEN}:admin,{VIEWER_TOKEN}:viewer,{PUBLISHER_TOKEN}:publisher"


class ApiServer(LoopbackServer):
    """The admin API (or the ingress) in-process on a free port."""


class ApiClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session
        self.created: list[str] = []

    async def delete_created(self) -> None:
        """Remove this test's webhooks so later tests' events never reach them."""
        for webhook_id in self.created:
            await self.call("DELETE", f"/api/v1/webhooks/{webhook_id}")

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = ADMIN_TOKEN,
        data: bytes | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(
            method, self.base_url + path, json=json, data=data, headers=headers
        ) as response:
            body = await response.read()
            parsed = await response.json(content_type=None) if body else None
            return response.status, parsed

    async def create_webhook(self, **fields: Any) -> dict[str, Any]:
        status, body = await self.call("POST", "/api/v1/webhooks", json=fields)
        assert status == 201, body
        self.created.append(body["id"])
        return body  # type: ignore[no-any-return]


async def live_webhook(api: ApiClient, worker: Any, **fields: Any) -> dict[str, Any]:
    """Create a webhook and wait until the worker's table holds it, so the next
    event produced is routed to it."""
    webhook = await api.create_webhook(**fields)
    await worker.wait_knows(webhook)
    return webhook
