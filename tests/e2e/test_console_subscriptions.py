"""The webhook form's filter editor (test on a sample, try on recent
traffic) and rate limit, and the Replay dialog on View events."""

from __future__ import annotations

import re

from aiokafka import AIOKafkaProducer
from playwright.async_api import expect

from hookstream.testing.api import ApiClient
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event
from tests.e2e.conftest import ConsolePage


async def test_filter_editor_rate_limit_and_replay(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    event_type = f"order.console.{unique}"
    for n, total in enumerate((5, 500), start=1):
        await send_event(
            producer,
            {
                "eventId": f"e-{unique}-{n}",
                "eventType": event_type,
                "entityId": str(n),
                "entity": {"total": total},
            },
        )
    page = console.page
    await console.sign_in(hash_path="#/webhooks/new")
    await page.get_by_label("Name", exact=True).fill(f"big orders {unique}")
    await page.get_by_label("URL", exact=True).fill(f"{receiver.url}/console")
    await page.locator("#events-some").check()
    await page.get_by_label("Other event types (comma-separated)").fill(event_type)
    await page.get_by_label("Filter (JSON)").fill('{"entity": {"total": {"$gte": 100}}}')
    await page.get_by_role("button", name="Test on a sample").click()
    await expect(page.get_by_role("status").filter(has_text="sample matches")).to_be_visible()
    await page.get_by_role("button", name="Try on recent traffic").click()
    await expect(page.get_by_text("Matched 1 of 2 recent events.")).to_be_visible()
    await console.screenshot("webhook-filter")
    # Nothing matching says so, rather than leaving the examples blank.
    await page.get_by_label("Filter (JSON)").fill('{"entity": {"total": {"$gte": 100000}}}')
    await page.get_by_role("button", name="Try on recent traffic").click()
    await expect(page.get_by_text("Matched 0 of 2 recent events.")).to_be_visible()
    await expect(page.get_by_text("No recent event matches this filter.")).to_be_visible()
    await page.get_by_label("Filter (JSON)").fill('{"entity": {"total": {"$gte": 100}}}')
    await page.get_by_label("Requests").fill("10")
    await page.get_by_role("button", name="Create webhook").click()
    await expect(page).to_have_url(re.compile(r"#/webhooks$"))
    _, listed = await api.call("GET", "/api/v1/webhooks")
    [webhook] = [w for w in listed["data"] if w["name"] == f"big orders {unique}"]
    api.created.append(webhook["id"])
    assert webhook["filter"] == {"entity": {"total": {"$gte": 100}}}
    assert webhook["rateLimit"] == {"requests": 10, "perSeconds": 1.0}

    # Replay: the event sent before the webhook existed reaches it.
    await worker.wait_knows(webhook)
    await console.open(f"#/webhooks/{webhook['id']}/events")
    await page.get_by_role("button", name=f"Replay events of {webhook['name']}").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Start replay").click()
    await expect(dialog.get_by_role("status")).to_contain_text("done: ")
    await expect(dialog.get_by_role("status")).to_contain_text("1 matched")
    await console.screenshot("replay-dialog")
    [delivered] = await receiver.wait_for("/console")
    assert f"e-{unique}-2".encode() in delivered.body
    assert console.problems() == []


async def test_an_invalid_filter_shows_at_the_field(
    console: ConsolePage, api: ApiClient, receiver: Receiver, unique: str
) -> None:
    page = console.page
    await console.sign_in(hash_path="#/webhooks/new")
    await page.get_by_label("Name", exact=True).fill(f"bad filter {unique}")
    await page.get_by_label("URL", exact=True).fill(f"{receiver.url}/bad")
    await page.get_by_label("Filter (JSON)").fill('{"status": {"$regex": "^a"}}')
    await page.get_by_role("button", name="Create webhook").click()
    await expect(page.locator('[data-field="filter"] .field-error').first).to_contain_text(
        "$regex is not offered"
    )
