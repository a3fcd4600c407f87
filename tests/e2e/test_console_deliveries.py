"""Send an event from the console, watch it delivered in View events, expand
it, redeliver it; a hostile payload stays text; the Overview page."""

from __future__ import annotations

import re

import orjson
from aiokafka import AIOKafkaProducer
from playwright.async_api import Route, expect

from hookstream.testing.api import PUBLISHER_TOKEN, ApiClient, live_webhook
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event
from tests.e2e.conftest import ConsolePage

# Connection refused at once.
REFUSING = "http://127.0.0.1:9/down"
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
    await check_marked_filtered_and_found(console, unique, orjson.loads(first.body)["eventId"])

    # The dead letters tab of a healthy webhook.
    await console.open(f"#/webhooks/{webhook['id']}/events")
    await page.get_by_role("tab", name="Dead letters").click()
    panel = page.get_by_role("tabpanel", name="Dead letters")
    await expect(panel.get_by_text("No dead letters.")).to_be_visible()
    await expect(panel.get_by_label("Recover since")).to_be_visible()


async def check_marked_filtered_and_found(console: ConsolePage, unique: str, event_id: str) -> None:
    """The redelivery is marked, the outcome filter says when nothing
    matches, and the event's link finds it in every webhook."""
    page = console.page
    # Attempt 1 again, but marked as the manual redelivery it was; the original is not.
    redelivered = page.locator('details.attempt[data-trigger="redelivery"]')
    await expect(redelivered.locator(":scope > summary")).to_contain_text("attempt 1")
    await expect(redelivered.locator(":scope > summary")).to_contain_text("manual redelivery")
    original = page.locator('details.attempt[data-trigger="event"]')
    await expect(original.get_by_text("manual redelivery")).to_have_count(0)

    # The outcome filter hides what does not match, and says so.
    await page.get_by_label("Outcome").select_option("http_error")
    await expect(page.locator("details.attempt:visible")).to_have_count(0)
    await expect(page.get_by_text("No attempts match the outcome “http_error”.")).to_be_visible()
    await page.get_by_label("Outcome").select_option("")
    await expect(page.locator("details.attempt:visible")).to_have_count(2)
    await expect(page.get_by_text(re.compile("^No attempts match"))).to_be_hidden()

    # The event's link finds it in every webhook (Find delivery).
    # (The original is still open from before: the list keeps what one opened.)
    await original.get_by_role("link", name="find it in every webhook").click()
    found = page.get_by_role("region", name=f"Attempts to shop {unique}")
    await expect(found.locator("details.attempt")).to_have_count(2)
    search = page.get_by_role("searchbox", name="Event id or delivery id")
    await expect(search).to_have_value(event_id)
    await console.screenshot("find-delivery")
    await search.fill(f"nothing-{unique}")
    await page.get_by_role("button", name="Find", exact=True).click()
    await expect(page.get_by_text(f"No delivery matches “nothing-{unique}”.")).to_be_visible()


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
    await expect(page.get_by_text(re.compile("^Updated "))).to_be_visible()
    # Consumer-group internals and the broker's note are folded away.
    lag = page.get_by_role("region", name="Consumer lag")
    await expect(lag).to_be_hidden()
    await expect(page.get_by_text(re.compile("Tansu"))).to_be_hidden()
    await expect(page.get_by_role("region", name="Getting started")).to_have_count(0)
    await console.screenshot("overview")
    await page.get_by_text("Advanced: consumer lag by group and topic").click()
    await expect(lag.get_by_role("columnheader", name="Group")).to_be_visible()
    await expect(page.get_by_text(re.compile("^Updated "))).to_be_visible()
    # Open it stays, refresh after refresh (the page polls every 3 s).
    await expect(page.get_by_text(re.compile(r"^Updated .* every 3 s"))).to_be_visible()
    await expect(lag).to_be_visible()


async def test_an_empty_overview_says_where_to_start(console: ConsolePage) -> None:
    """A server without webhooks (the stats answer faked: this server has
    other tests' webhooks) shows the first steps, with commands to copy."""
    page = console.page

    async def no_webhooks(route: Route) -> None:
        response = await route.fetch()
        stats = await response.json()
        await route.fulfill(response=response, json={**stats, "webhooks": []})

    await page.route("**/api/v1/stats", no_webhooks)
    await console.sign_in(hash_path="#/overview")
    start = page.get_by_role("region", name="Getting started")
    await expect(start).to_be_visible()
    await expect(start.get_by_role("link", name="Add webhook")).to_be_visible()
    await expect(start.get_by_label("Create a webhook with curl", exact=True)).to_contain_text(
        f"{console.base_url}/api/v1/webhooks"
    )
    await expect(start.get_by_label("Send an event with curl", exact=True)).to_contain_text(
        '"eventType"'
    )
    await expect(
        start.get_by_label("Send an event with the hookstream command", exact=True)
    ).to_contain_text("hookstream send-event order.created")
    await start.get_by_role("button", name="Copy: Send an event with curl").click()
    assert "/api/v1/events" in await page.evaluate("navigator.clipboard.readText()")
    await console.screenshot("overview-empty")
    await start.get_by_role("link", name="Add webhook").click()
    await expect(page.get_by_role("heading", name="New webhook")).to_be_visible()


async def test_a_failing_delivery_says_why_in_plain_words_and_when_it_retries(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"fail.{unique}"
    # An endpoint nothing listens on: refused at once, dead-lettered after
    # the test worker's short schedule (four attempts).
    down = await live_webhook(api, worker, name=f"down {unique}", url=REFUSING, events=[event_type])
    # An endpoint asking for two minutes' patience: its next attempt is due then.
    later = await live_webhook(
        api, worker, name=f"later {unique}", url=f"{receiver.url}/{unique}", events=[event_type]
    )
    receiver.scripts[f"/{unique}"] = [(503, {"Retry-After": "120"})]
    await send_event(producer, {"eventId": f"f-{unique}", "eventType": event_type, "entityId": "1"})

    page = console.page
    await console.sign_in(hash_path=f"#/webhooks/{later['id']}/events")
    attempt = page.locator("details.attempt").first
    await expect(attempt.locator(":scope > summary")).to_contain_text("Answered HTTP 503")
    await expect(attempt.locator(":scope > summary > .next-step")).to_contain_text("next attempt")

    await console.open(f"#/webhooks/{down['id']}/events")
    attempts = page.locator("details.attempt")
    await expect(attempts).to_have_count(4, timeout=60_000)
    last = attempts.first
    summary = last.locator(":scope > summary")
    await expect(summary).to_contain_text("Could not connect to 127.0.0.1:9")
    await expect(summary).to_contain_text("no more attempts")
    # The earlier attempts were retried: none of them announces a next one.
    await expect(page.locator(".next-step:visible")).to_have_count(1)
    await summary.click()
    await expect(last.get_by_text(re.compile("^No more attempts: gave up after 4"))).to_be_visible()
    # The raw error once, folded away until asked for.
    raw = last.get_by_text(re.compile("ClientConnectorError"))
    await expect(raw).to_have_count(1)
    await expect(raw).to_be_hidden()
    await last.get_by_text("Technical detail").click()
    await expect(raw).to_be_visible()
    await expect(last.get_by_role("region", name="Response")).to_contain_text("No response.")
    await console.screenshot("failing-delivery")
    await api.call("DELETE", f"/api/v1/webhooks/{later['id']}")  # its retry waits two minutes


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
