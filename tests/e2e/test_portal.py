"""The tenant portal in a real browser: an admin creates a tenant and opens a
portal link from the Tenants page; the link opens the console in tenant mode
(the token taken from the fragment, kept out of the address bar), where the
tenant manages its webhooks, sees and redelivers events, finds an event
among its webhooks, recovers dead letters, reads the event types, and
reaches nothing else; a revoked link stops working."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import BrowserContext, expect

from hookstream.testing.api import ApiClient
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event
from tests.e2e.conftest import ConsolePage

# Connection refused at once: a webhook there dead-letters after the test schedule.
REFUSING = "http://127.0.0.1:9/down"


@pytest.fixture
async def tenant_ids(api: ApiClient, unique: str) -> AsyncIterator[tuple[str, str]]:
    mine, other = f"cus_{unique}", f"other_{unique}"
    yield mine, other
    for tenant_id in (mine, other):
        await api.call("DELETE", f"/api/v1/tenants/{tenant_id}")


async def admin_opens_a_portal_link(console: ConsolePage, mine: str) -> str:
    """The admin creates the tenant and a portal link on the Tenants page."""
    admin = console.page
    await console.sign_in(hash_path="#/tenants")
    await admin.get_by_label("Tenant id").fill(mine)
    await admin.get_by_label("Name", exact=True).fill("Acme Corp")
    await admin.get_by_role("button", name="Create tenant").click()
    await expect(admin.get_by_role("status")).to_contain_text("Tenant Acme Corp saved.")
    row = admin.get_by_role("row").filter(has_text=mine)
    await row.get_by_role("button", name="Portal link for Acme Corp").click()
    await admin.get_by_role("button", name="Create link").click()
    link = admin.get_by_role("link", name="Open portal")
    await expect(link).to_be_visible()
    await console.screenshot("tenants")
    url = await link.get_attribute("href")
    assert url is not None and "/ui/portal#token=" in url and "?" not in url
    return url


async def tenant_manages_a_webhook(
    portal: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    unique: str,
    url: str,
    mine: str,
) -> dict[str, object]:
    """The customer opens the link (the portal, in its own tab), creates a
    webhook, disables and enables it, and rotates its secret."""
    page = portal.page
    event_type = f"invoice.{unique}"
    # The link is built on HOOKSTREAM_API_URL; this test's API listens elsewhere.
    fragment = url.split("#", 1)[1]
    await page.goto(f"{portal.base_url}/ui/portal#{fragment}")
    await expect(page.get_by_text("Acme Corp", exact=True)).to_be_visible()
    assert "token" not in page.url  # out of the address bar and the history
    assert page.url.endswith("/ui/portal#/webhooks")
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Webhooks")).to_be_visible()
    await expect(nav.get_by_role("link", name="Event types")).to_be_visible()
    for hidden in ("Overview", "Listeners", "Flows", "Tenants", "Send event"):
        await expect(nav.get_by_role("link", name=hidden)).to_be_hidden()
    await expect(page.get_by_text("theirs", exact=False)).to_have_count(0)

    # Create a webhook; the server puts it in the tenant.
    await page.get_by_role("link", name="Add webhook").click()
    await page.get_by_label("Name", exact=True).fill(f"acme hook {unique}")
    await page.get_by_label("URL").fill(f"{receiver.url}/{unique}")
    await page.get_by_label("Select individual events").check()
    await page.get_by_label("Other event types (comma-separated)").fill(event_type)
    await page.get_by_role("button", name="Create webhook").click()
    row = page.get_by_role("row").filter(has_text=f"acme hook {unique}")
    await expect(row).to_be_visible()
    _, listing = await api.call("GET", "/api/v1/webhooks")
    ours = next(w for w in listing["data"] if w["name"] == f"acme hook {unique}")
    assert ours["tenantId"] == mine
    api.created.append(ours["id"])
    await portal.screenshot("portal-webhooks")

    # Disable and enable it; rotate its secret from the edit form.
    await row.get_by_role("button", name=f"Disable acme hook {unique}").click()
    await expect(row).to_contain_text("disabled")
    await row.get_by_role("button", name=f"Enable acme hook {unique}").click()
    await expect(row).to_contain_text("enabled")
    await row.get_by_role("link", name=f"Edit acme hook {unique}").click()
    await page.get_by_role("button", name="Generate whsec_ secret").click()
    await page.get_by_role("button", name="Save webhook").click()
    await expect(page.get_by_role("row").filter(has_text=f"acme hook {unique}")).to_be_visible()
    _, saved = await api.call("GET", f"/api/v1/webhooks/{ours['id']}")
    assert saved["hasSecret"] is True and saved["signatureScheme"] == "standard-webhooks"
    await worker.wait_knows(saved)
    return saved  # type: ignore[no-any-return]


async def tenant_sees_events_and_dead_letters(
    portal: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
    mine: str,
) -> None:
    """An event of this tenant is delivered; View events shows it and
    redelivers it; a webhook whose endpoint is down dead-letters and the
    tenant recovers it; the event types page lists the type."""
    page = portal.page
    event_type = f"invoice.{unique}"
    await send_event(
        producer,
        {"eventId": f"e-{unique}", "eventType": event_type, "entityId": "1", "tenantId": mine},
    )
    await receiver.wait_for(f"/{unique}")
    row = page.get_by_role("row").filter(has_text=f"acme hook {unique}")
    await row.get_by_role("link", name=f"View events of acme hook {unique}").click()
    attempt = page.locator("details.attempt").first
    await expect(attempt).to_contain_text("success")
    await attempt.locator("summary").click()
    await attempt.get_by_role("button", name=re.compile("^Redeliver")).click()
    await expect(page.get_by_text(re.compile("Redelivery of dlv_.* queued"))).to_be_visible()
    await receiver.wait_for(f"/{unique}", count=2)
    await portal.screenshot("portal-events")

    # Find delivery: the event's attempts among the tenant's own webhooks.
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Find delivery").click()
    await page.get_by_role("searchbox", name="Event id or delivery id").fill(f"e-{unique}")
    await page.get_by_role("button", name="Find", exact=True).click()
    found = page.get_by_role("region", name=f"Attempts to acme hook {unique}")
    await expect(found.locator("details.attempt")).to_have_count(2)
    await expect(page.locator("section.found")).to_have_count(1)
    await expect(found.get_by_text("manual redelivery")).to_have_count(1)
    await portal.screenshot("portal-find-delivery")

    status, down = await api.call(
        "POST",
        "/api/v1/webhooks",
        json={"name": f"down {unique}", "url": REFUSING, "events": [event_type], "tenantId": mine},
    )
    assert status == 201, down
    api.created.append(down["id"])
    await worker.wait_knows(down)
    await send_event(
        producer,
        {"eventId": f"d-{unique}", "eventType": event_type, "entityId": "2", "tenantId": mine},
    )
    await portal.open(f"portal#/webhooks/{down['id']}/events")
    await page.get_by_role("tab", name="Dead letters").click()
    panel = page.get_by_role("tabpanel", name="Dead letters")
    await expect(panel.locator("details.attempt")).to_have_count(1, timeout=60_000)
    await panel.get_by_role("button", name="Recover").click()
    await expect(panel.get_by_role("status")).to_contain_text("Recovery queued: 1 dead letters.")
    await portal.screenshot("portal-dead-letters")

    await (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Event types").click()
    )
    await expect(page.get_by_role("cell", name=event_type)).to_be_visible()


async def test_tenants_page_and_the_portal(
    console: ConsolePage,
    context: BrowserContext,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    tenant_ids: tuple[str, str],
    unique: str,
) -> None:
    mine, other = tenant_ids
    status, _ = await api.call("PUT", f"/api/v1/tenants/{other}", json={"name": "Other Co"})
    assert status == 201
    theirs = await api.create_webhook(
        name=f"theirs {unique}", url=f"{receiver.url}/theirs", tenantId=other
    )
    url = await admin_opens_a_portal_link(console, mine)
    portal = ConsolePage(await context.new_page(), console.base_url)
    page = portal.page
    await tenant_manages_a_webhook(portal, api, worker, receiver, unique, url, mine)
    await tenant_sees_events_and_dead_letters(portal, api, worker, receiver, producer, unique, mine)

    # Nothing else is reachable: other pages fall back to its webhooks, and
    # another tenant's webhook is not found.
    for hash_path in ("#/tenants", "#/listeners", "#/overview", "#/send"):
        await portal.open(f"portal{hash_path}")
        await expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    await portal.open(f"portal#/webhooks/{theirs['id']}/events")
    await expect(page.get_by_text(f"webhook {theirs['id']} not found")).to_be_visible()

    # Delete, with confirmation.
    await portal.open("portal#/webhooks")
    row = page.get_by_role("row").filter(has_text=f"acme hook {unique}")
    await row.get_by_role("button", name=f"Delete acme hook {unique}").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(row).to_have_count(0)

    # The admin revokes the links; the portal stops working.
    admin = console.page
    admin_row = admin.get_by_role("row").filter(has_text=mine)
    await admin_row.get_by_role("button", name="Revoke portal links of Acme Corp").click()
    await admin.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    await expect(admin.get_by_role("status")).to_contain_text("Portal links of Acme Corp revoked.")
    await page.reload()
    await expect(page.get_by_text("This portal link no longer works")).to_be_visible()
    assert portal.problems() == []
