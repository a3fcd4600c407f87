"""Send an event from the console, watch it delivered in View events, expand
it, redeliver it; a hostile payload stays text; the Overview page."""

from __future__ import annotations

import re

import orjson
from aiokafka import AIOKafkaProducer
from playwright.async_api import expect

from hookstream.testing.api import PUBLISHER_TOKEN, ApiClient, live_webhook
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event
from tests.e2e.conftest import ConsolePage

HOSTILE = '<script>window.__owned = 1</script><img src="x" onerror="window.__owned = 2">'


async def test_send_event_see_it_delivered_expand_and_redeliver(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    unique: str,
) -> None:
    event_type = f"order.{unique}"
    webhook = await live_webhook(
        api,
        worker,
        name=f"shop {unique}",
        url=f"{receiver.url}/{unique}",
        events=[event_type],
        includeEntity=True,
    )
    page = console.page
    await console.sign_in(hash_path="#/send")
    # The API's refusal shows at the field it names.
    await page.get_by_label("Event type").fill("not valid!")
    await page.get_by_label("Entity ID").fill("42")
    await page.get_by_role("button", name="Send event").click()
    await expect(page.locator('[data-field="eventType"] .field-error')).to_contain_text(
        "eventType may only contain"
    )
    await page.get_by_label("Event type").fill(event_type)
    await page.get_by_label("Entity ID").fill("42")
    await page.get_by_label("Entity (JSON, optional)").fill(
        orjson.dumps({"id": 42, "note": HOSTILE}).decode()
    )
    await page.get_by_role("button", name="Send event").click()
    await expect(page.get_by_role("status").filter(has_text="Published event")).to_be_visible()
    await console.screenshot("send-event")

    await receiver.wait_for(f"/{unique}")
    await console.open(f"#/webhooks/{webhook['id']}/events")
    attempt = page.locator("details.attempt").first
    await expect(attempt).to_contain_text("success")  # auto-refresh brings it in
    await attempt.locator("summary").click()
    request_body = attempt.get_by_label("Request body")
    await expect(request_body).to_contain_text('"note": "<script>window.__owned = 1</script>')
    await expect(attempt.get_by_role("region", name="Response")).to_contain_text("HTTP 200")
    # The hostile markup stayed text: no element was made from it, nothing ran.
    await expect(page.locator("details.attempt script")).to_have_count(0)
    await expect(page.locator('img[src="x"]')).to_have_count(0)
    assert await page.evaluate("window.__owned === undefined")
    await console.screenshot("view-events")

    await attempt.get_by_role("button", name=re.compile("^Redeliver")).click()
    await expect(page.get_by_text(re.compile("Redelivery of dlv_.* queued"))).to_be_visible()
    await receiver.wait_for(f"/{unique}", count=2)
    await expect(page.locator("details.attempt")).to_have_count(2)
    first, second = receiver.on_path(f"/{unique}")[:2]
    assert first.headers["X-Etl-Webhook-Event-Id"] == second.headers["X-Etl-Webhook-Event-Id"]

    # The outcome filter hides what does not match.
    await page.get_by_label("Outcome").select_option("http_error")
    await expect(page.locator("details.attempt:visible")).to_have_count(0)
    await page.get_by_label("Outcome").select_option("")
    await expect(page.locator("details.attempt:visible")).to_have_count(2)

    # The dead letters tab of a healthy webhook.
    await page.get_by_role("tab", name="Dead letters").click()
    panel = page.get_by_role("tabpanel", name="Dead letters")
    await expect(panel.get_by_text("No dead letters.")).to_be_visible()
    await expect(panel.get_by_label("Recover since")).to_be_visible()


async def test_ping_from_the_webhooks_list(
    console: ConsolePage, api: ApiClient, receiver: Receiver, unique: str
) -> None:
    # Subscribed to nothing else that is routed, so the one request is the ping.
    await api.create_webhook(
        name=f"ping {unique}", url=f"{receiver.url}/p-{unique}", events=[f"ping.{unique}"]
    )
    page = console.page
    await console.sign_in(hash_path="#/webhooks")
    row = page.get_by_role("row").filter(has_text=f"ping {unique}")
    await row.get_by_role("button", name=f"Ping ping {unique}").click()
    await expect(page.get_by_role("status").filter(has_text=f"Ping ping {unique}")).to_contain_text(
        "success (HTTP 200"
    )
    assert len(receiver.on_path(f"/p-{unique}")) == 1
    await console.screenshot("webhooks")


async def test_overview_page(
    console: ConsolePage, api: ApiClient, receiver: Receiver, unique: str
) -> None:
    webhook = await api.create_webhook(name=f"stats {unique}", url=f"{receiver.url}/s-{unique}")
    status, attempt = await api.call("POST", f"/api/v1/webhooks/{webhook['id']}/ping")
    assert status == 200 and attempt["outcome"] == "success", attempt
    page = console.page
    await console.sign_in(hash_path="#/overview")
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.get_by_role("group", name="Events/s")).to_be_visible()
    deliveries = page.get_by_role("group", name="Deliveries (5 min)")
    # The ping's attempt is counted once the API has read it back (the page polls).
    await expect(deliveries.locator(".value")).not_to_have_text("0")
    await expect(deliveries.get_by_role("img")).to_be_visible()
    await expect(page.get_by_role("region", name="Deliveries by outcome")).to_contain_text(
        "success"
    )
    await expect(page.get_by_role("region", name="Consumer lag")).to_be_visible()
    await expect(page.get_by_text(re.compile("^Updated "))).to_be_visible()
    await console.screenshot("overview")


async def test_dead_letters_and_recover_since(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"dl.{unique}"
    webhook = await live_webhook(
        api, worker, name=f"flaky {unique}", url=f"{receiver.url}/{unique}", events=[event_type]
    )
    receiver.status = 500  # every attempt fails until the endpoint "recovers"
    await send_event(producer, {"eventId": f"e-{unique}", "eventType": event_type, "entityId": "7"})
    page = console.page
    await console.sign_in(hash_path=f"#/webhooks/{webhook['id']}/events")
    await page.get_by_role("tab", name="Dead letters").click()
    panel = page.get_by_role("tabpanel", name="Dead letters")
    letter = panel.locator("details.attempt")
    # The retry schedule of the test worker is short; the tab refreshes itself.
    await expect(letter).to_have_count(1, timeout=60_000)
    await letter.locator("summary").click()
    await expect(letter).to_contain_text("http_error")
    await console.screenshot("dead-letters")

    receiver.status = 200
    failed = len(receiver.on_path(f"/{unique}"))
    await panel.get_by_role("button", name="Recover").click()
    await expect(panel.get_by_role("status")).to_contain_text("Recovery queued: 1 dead letters")
    await receiver.wait_for(f"/{unique}", count=failed + 1)
    await page.get_by_role("tab", name="Attempts").click()
    attempts = page.get_by_role("tabpanel", name="Attempts")
    await expect(attempts.locator('details.attempt[data-outcome="success"]')).to_have_count(1)


async def test_a_publisher_gets_only_the_send_event_page(console: ConsolePage) -> None:
    page = console.page
    await console.sign_in(PUBLISHER_TOKEN, hash_path="#/webhooks")
    await expect(page.get_by_text("signed in as publisher")).to_be_visible()
    await expect(page.get_by_role("heading", name="Send event")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link")).to_have_count(1)
    await expect(nav.get_by_role("link", name="Send event")).to_be_visible()
