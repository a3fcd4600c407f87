"""The console's payload format: a webhook made through the form with
"CloudEvents 1.0" sends CloudEvents, and View events shows the body as one."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from playwright.async_api import expect

from hookstream.testing.api import ApiClient
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event
from tests.e2e.conftest import ConsolePage


async def test_a_cloudevents_webhook_from_the_form_and_its_body_in_view_events(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    page = console.page
    await console.sign_in(hash_path="#/webhooks/new")
    await page.get_by_label("Name", exact=True).fill(f"ce {unique}")
    await page.get_by_label("URL", exact=True).fill(f"{receiver.url}/{unique}")
    await page.get_by_label("Select individual events").check()
    await page.get_by_label("Other event types (comma-separated)").fill(f"order.{unique}")
    await page.get_by_label("Payload format").select_option("cloudevents")
    await page.get_by_role("button", name="Create webhook").click()
    await expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()

    status, body = await api.call("GET", "/api/v1/webhooks")
    assert status == 200
    created = next(w for w in body["data"] if w["name"] == f"ce {unique}")
    api.created.append(created["id"])
    assert created["payloadFormat"] == "cloudevents"
    await worker.wait_knows(created)

    await send_event(
        producer, {"eventId": f"e-{unique}", "eventType": f"order.{unique}", "entityId": "42"}
    )
    [request] = await receiver.wait_for(f"/{unique}")
    assert request.headers["Content-Type"] == "application/cloudevents+json"

    await console.open(f"#/webhooks/{created['id']}/events")
    attempt = page.locator("details.attempt").first
    await expect(attempt).to_contain_text("success")
    await attempt.locator("summary").click()
    await expect(attempt.get_by_text("Request body: CloudEvent (structured mode)")).to_be_visible()
    await expect(attempt.get_by_label("Request body")).to_contain_text('"specversion": "1.0"')
    await console.screenshot("cloudevents-view-events")

    await console.open(f"#/webhooks/{created['id']}")
    await expect(page.get_by_label("Payload format")).to_have_value("cloudevents")
