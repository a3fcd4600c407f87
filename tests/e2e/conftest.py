"""Browser fixtures: Debian's Chromium driven by Playwright (from PyPI), against
the real API (``api_server``), worker, ingress and receivers of tests/conftest.py.

Chromium comes from ``apt-get install chromium`` (``make test`` installs it when
missing); ``playwright install`` is never used. Without the browser the tests
skip on a developer machine but fail under CI (``CI=true``)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)

from hookstream.testing.api import ADMIN_TOKEN, ApiServer

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 860}
# Conditions the pages reach by polling the API (deliveries, logs) on a busy
# machine: wait for them longer than Playwright's default 5 s.
expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        message = (
            f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield launched
        await launched.close()


async def has_route(http: aiohttp.ClientSession, server: ApiServer, method: str, path: str) -> bool:
    """Whether the API describes this route in its OpenAPI document (features
    still being added elsewhere: the page must then say so, not break)."""
    async with http.get(server.url + "/api/v1/openapi.json") as response:
        doc = await response.json()
    shape = re.sub(r"\{[^}]+\}", "{}", path)
    return any(
        re.sub(r"\{[^}]+\}", "{}", p) == shape and method.lower() in ops
        for p, ops in doc.get("paths", {}).items()
    )


class ConsolePage:
    """A browser tab on the console, with what the browser complained about."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    async def open(self, hash_path: str = "#/overview") -> None:
        await self.page.goto(f"{self.base_url}/ui/{hash_path}")

    async def sign_in(self, token: str = ADMIN_TOKEN, hash_path: str = "#/overview") -> None:
        await self.open(hash_path)
        await self.page.get_by_label("API token").fill(token)
        await self.page.get_by_role("button", name="Sign in").click()
        await expect(self.page.get_by_role("navigation", name="Main")).to_be_visible()

    async def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def problems(self) -> list[str]:
        """Uncaught exceptions and CSP violations (failed requests, such as
        the 401 of a wrong token, are expected and not counted)."""
        return [e for e in self.errors if e.startswith("page error") or "Content Security" in e]


@pytest.fixture
async def context(browser: Browser, api_server: ApiServer) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport=VIEWPORT, base_url=api_server.url)
    await ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=api_server.url)
    yield ctx
    await ctx.close()


@pytest.fixture
async def console(context: BrowserContext, api_server: ApiServer) -> AsyncIterator[ConsolePage]:
    page = await context.new_page()
    tab = ConsolePage(page, api_server.url)
    yield tab
    # Every page ran without an uncaught error, under the CSP (inline code,
    # inline styles or a foreign origin would show up here).
    assert tab.problems() == []
