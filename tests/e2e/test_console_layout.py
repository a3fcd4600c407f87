"""The console on a phone (390 px wide): every main page, and the portal's,
fits the screen — tables scroll inside their own box, the navigation wraps —
so the page itself never scrolls sideways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from hookstream.testing.api import ApiClient, ApiServer
from hookstream.testing.receiver import Receiver
from tests.e2e.conftest import ConsolePage

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def phone(browser: Browser, api_server: ApiServer) -> AsyncIterator[ConsolePage]:
    context = await browser.new_context(viewport=PHONE, base_url=api_server.url)
    tab = ConsolePage(await context.new_page(), api_server.url)
    yield tab
    assert tab.problems() == []
    await context.close()


async def overflow(page: Page) -> dict[str, int] | None:
    """The document's width and the screen's when it is wider; else None."""
    widths: dict[str, int] = await page.evaluate(
        "({scroll: document.scrollingElement.scrollWidth,"
        " client: document.scrollingElement.clientWidth})"
    )
    return widths if widths["scroll"] > widths["client"] else None


async def seed(api: ApiClient, receiver: Receiver, unique: str) -> dict[str, Any]:
    """Long names and URLs, an attempt with its request and response, a
    listener with a flow, a tenant: what makes pages wide."""
    long_path = "/" + "a-rather-long-path-segment/" * 5 + unique
    webhook = await api.create_webhook(
        name=f"orders to the customer relationship management system {unique}",
        url=receiver.url + long_path,
        events=[f"layout.{unique}"],
        headers={"X-Some-Rather-Long-Custom-Header-Name": "and-an-even-longer-value-" * 4},
    )
    status, ping = await api.call("POST", f"/api/v1/webhooks/{webhook['id']}/ping")
    assert status == 200, ping
    status, listener = await api.call(
        "POST",
        "/api/v1/listeners",
        json={"name": f"payments from the provider {unique}", "provider": "github",
              "verification": {"secret": "s"}},
    )  # fmt: skip
    assert status == 201, listener
    status, flow = await api.call(
        "POST",
        "/api/v1/flows",
        json={"name": f"payments into the ledger {unique}", "listenerId": listener["id"],
              "destinationTopic": f"ledger.{unique}"},
    )  # fmt: skip
    assert status == 201, flow
    tenant = f"layout-{unique}"
    status, _ = await api.call("PUT", f"/api/v1/tenants/{tenant}", json={"name": "Phone Co"})
    assert status == 201
    return {"webhook": webhook, "ping": ping, "listener": listener, "flow": flow,
            "tenant": tenant}  # fmt: skip


async def test_no_page_scrolls_sideways_at_390_px(
    phone: ConsolePage, api: ApiClient, receiver: Receiver, unique: str
) -> None:
    world = await seed(api, receiver, unique)
    page = phone.page
    wh, listener, flow = world["webhook"], world["listener"], world["flow"]
    first_attempt = page.locator("details.attempt").first
    pages: list[tuple[str, Locator]] = [
        ("#/overview", page.get_by_text("Updated ")),
        ("#/webhooks", page.get_by_role("row").filter(has_text=wh["name"])),
        ("#/webhooks/new", page.get_by_role("button", name="Create webhook")),
        (f"#/webhooks/{wh['id']}", page.get_by_role("button", name="Save webhook")),
        (f"#/webhooks/{wh['id']}/events", first_attempt),
        (f"#/deliveries/{world['ping']['eventId']}", page.locator("section.found")),
        ("#/send", page.get_by_role("button", name="Send event")),
        ("#/listeners", page.get_by_role("row").filter(has_text=listener["name"])),
        (f"#/listeners/{listener['id']}", page.get_by_role("region", name="Inbound log")),
        ("#/flows", page.get_by_role("row").filter(has_text=flow["name"])),
        (f"#/flows/{flow['id']}", page.get_by_role("region", name="Executions")),
        ("#/tenants", page.get_by_role("row").filter(has_text=world["tenant"])),
        ("#/event-types", page.get_by_role("heading", name="Event types")),
    ]
    await phone.sign_in(hash_path="#/overview")
    wide: list[str] = []
    for hash_path, loaded in pages:
        await phone.open(hash_path)
        await expect(loaded).to_be_visible()
        if hash_path.endswith("/events"):
            # Opened: its headers, bodies and long URL are the widest content.
            await first_attempt.locator(":scope > summary").click()
            await expect(first_attempt.get_by_label("Response body")).to_be_visible()
            await phone.screenshot("mobile-view-events")
        if hash_path == "#/overview":
            await phone.screenshot("mobile-overview")
        if (widths := await overflow(page)) is not None:
            wide.append(f"{hash_path}: {widths}")
    assert not wide, wide
    # The navigation wraps above the page instead of taking a column.
    nav = await page.get_by_role("navigation", name="Main").bounding_box()
    assert nav is not None and nav["width"] <= PHONE["width"]

    # The portal, as a customer opens it on a phone.
    status, link = await api.call("POST", f"/api/v1/tenants/{world['tenant']}/portal", json={})
    assert status == 201, link
    status, theirs = await api.call(
        "PATCH", f"/api/v1/webhooks/{wh['id']}", json={"tenantId": world["tenant"]}
    )
    assert status == 200, theirs
    await page.goto(f"{phone.base_url}/ui/portal#{link['url'].split('#', 1)[1]}")
    for hash_path, loaded in [
        ("portal#/webhooks", page.get_by_role("row").filter(has_text=wh["name"])),
        (f"portal#/webhooks/{wh['id']}/events", first_attempt),
        ("portal#/deliveries", page.get_by_role("button", name="Find", exact=True)),
    ]:
        await phone.open(hash_path)
        await expect(loaded).to_be_visible()
        if (widths := await overflow(page)) is not None:
            wide.append(f"{hash_path}: {widths}")
    assert not wide, wide
    await api.call("DELETE", f"/api/v1/tenants/{world['tenant']}")  # its webhook with it
    await api.call("DELETE", f"/api/v1/flows/{flow['id']}")
    await api.call("DELETE", f"/api/v1/listeners/{listener['id']}")
