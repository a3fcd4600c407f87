"""Listeners and flows in the console: create a listener with a preset, copy
its URL, post a signed request to it and find it in the inbound log with a
link to the flow run it started, dry-run a sample; generate a secret URL;
edit a flow, test it on sample data, and watch its runs come in."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import urlsplit

import aiohttp
import orjson
from playwright.async_api import Page, expect

from hookstream.testing.api import ApiClient, ApiServer
from hookstream.testing.processes import WorkerProcess
from tests.e2e.conftest import ConsolePage

SECRET = "gh-console-secret"


async def test_listener_copy_url_post_and_inbound_log(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    ingress_server: ApiServer,
    http: aiohttp.ClientSession,
    unique: str,
) -> None:
    page = console.page
    await console.sign_in(hash_path="#/listeners")
    await page.get_by_role("link", name="Add listener").click()
    await page.get_by_label("Name", exact=True).fill(f"github {unique}")
    await page.get_by_label("Description").fill("pushes from the org")
    # The provider preset fills the verification fields; only hmac's are shown.
    await page.get_by_label("Provider").select_option("github")
    await expect(page.get_by_label("Verification type")).to_have_value("hmac")
    await expect(page.get_by_label("Header (containing the HMAC)")).to_have_value(
        "X-Hub-Signature-256"
    )
    await expect(page.get_by_label("Token path in the body")).to_be_hidden()
    await page.get_by_label("Secret key").fill(SECRET)
    await page.get_by_label("Sample data (JSON or XML)").fill('{"action": "opened", "number": 1}')
    await console.screenshot("listener-form")
    await page.get_by_role("button", name="Create listener").click()
    await expect(page.get_by_role("heading", name=f"Listener github {unique}")).to_be_visible()
    await expect(page.get_by_text(f"Listener “github {unique}” created.")).to_be_visible()
    listener_id = page.url.rsplit("/", 1)[-1]

    # An HMAC listener's URL is fixed: nothing to generate, and it says so.
    url_section = page.get_by_role("region", name="Public URL")
    await expect(url_section.get_by_text("This URL does not change")).to_be_visible()
    await expect(url_section.get_by_role("button", name=re.compile("^Generate"))).to_have_count(0)
    # A flow on it, whose run the inbound log links to.
    status, flow = await api.call(
        "POST",
        "/api/v1/flows",
        json={
            "name": f"copy {unique}",
            "listenerId": listener_id,
            "destinationTopic": f"gh.{unique}",
        },
    )
    assert status == 201, flow
    await page.get_by_role("button", name="Copy URL").click()
    await expect(page.get_by_text("URL copied.")).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert urlsplit(copied).path == f"/hooks/{listener_id}"

    # A sender posts a signed request to that URL (on the test's ingress).
    body = orjson.dumps({"action": "opened", "number": 7, "title": "<b>bold</b>"})
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    target = ingress_server.url + urlsplit(copied).path
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature,
        "X-GitHub-Delivery": f"gh-{unique}",
    }
    async with http.post(target, data=body, headers=headers) as response:
        assert response.status == 202, await response.text()
    bad = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Delivery": "x"}
    async with http.post(target, data=body, headers=bad) as response:
        assert response.status == 401

    await check_sample_test(page, body, signature)
    await check_inbound_log(page)
    await console.screenshot("listener")
    await check_flow_run_link(page, flow, unique)

    await console.open("#/listeners")
    row = page.get_by_role("row").filter(has_text=f"github {unique}")
    await expect(row).to_contain_text("hmac")
    await console.screenshot("listeners")
    status, stored = await api.call("GET", f"/api/v1/listeners/{listener_id}")
    assert status == 200
    assert stored["verification"]["hasSecret"] is True
    assert stored["sampleData"] == {"action": "opened", "number": 1}
    assert await api.call("DELETE", f"/api/v1/flows/{flow['id']}") == (204, None)
    assert await api.call("DELETE", f"/api/v1/listeners/{listener_id}") == (204, None)


async def check_inbound_log(page: Page) -> None:
    log = page.get_by_role("region", name="Inbound log")
    accepted = log.locator('details[data-status="202"]')
    await expect(accepted).to_have_count(1)  # the page refreshes the log itself
    await expect(log.locator('details[data-status="401"]')).to_have_count(1)
    await expect(accepted.locator("summary code.method")).to_have_text("POST")
    await accepted.locator("summary").click()
    await expect(accepted.get_by_label("Inbound body")).to_contain_text("<b>bold</b>")
    await expect(log.locator("b")).to_have_count(0)
    await expect(log).not_to_contain_text(SECRET)
    # The run it started appears beside it (the worker runs the flow).
    await expect(accepted.get_by_role("link", name=re.compile("^Flow run: copy"))).to_contain_text(
        "executed"
    )


async def check_flow_run_link(page: Page, flow: dict[str, object], unique: str) -> None:
    """The inbound log's link opens the flow on that run, marked and unfolded."""
    log = page.get_by_role("region", name="Inbound log")
    accepted = log.locator('details[data-status="202"]')
    await accepted.get_by_role("link", name=re.compile("^Flow run: copy")).click()
    await expect(page.get_by_role("heading", name=f"Flow copy {unique}")).to_be_visible()
    assert f"#/flows/{flow['id']}/executions/fx_" in page.url
    executions = page.get_by_role("region", name="Executions")
    chosen = executions.locator('tr[aria-current="true"]')
    await expect(chosen).to_have_count(1)
    await expect(chosen).to_contain_text("flow.executed")
    await expect(chosen.locator("details")).to_have_attribute("open", "")


async def test_a_secret_url_listener_shows_the_url_it_generates(
    console: ConsolePage, api: ApiClient, ingress_server: ApiServer, http: aiohttp.ClientSession
) -> None:
    status, listener = await api.call(
        "POST",
        "/api/v1/listeners",
        json={"name": "secret url", "verification": {"type": "secret_url"}},
    )
    assert status == 201, listener
    page = console.page
    await console.sign_in(hash_path=f"#/listeners/{listener['id']}")
    section = page.get_by_role("region", name="Public URL")
    await expect(section.get_by_text("No secret URL yet")).to_be_visible()
    url = section.get_by_label("Public URL")
    await expect(url).to_have_value(re.compile(f"/hooks/{listener['id']}$"))
    await section.get_by_role("button", name="Generate URL").click()
    await expect(section.get_by_role("status")).to_contain_text("New URL generated")
    await expect(section.get_by_text("The URL ends with a secret token")).to_be_visible()
    await expect(url).to_have_value(re.compile(f"/hooks/{listener['id']}/[A-Za-z0-9_-]{{20,}}$"))
    token = await section.get_by_label("Token (shown once)").input_value()
    assert (await url.input_value()).endswith(f"/{token}")
    await console.screenshot("listener-secret-url")
    target = f"{ingress_server.url}/hooks/{listener['id']}/{token}"
    async with http.post(target, json={"ok": True}) as response:
        assert response.status == 202
    await api.call("DELETE", f"/api/v1/listeners/{listener['id']}")


async def check_sample_test(page: Page, body: bytes, signature: str) -> None:
    sample = page.get_by_role("region", name="Test with sample data")
    await sample.get_by_label("Sample headers").fill(f"X-Hub-Signature-256: {signature}")
    await sample.get_by_label("Sample body").fill(body.decode())
    await sample.get_by_role("button", name="Run test").click()
    await expect(sample.get_by_role("status")).to_contain_text("Verification: passed")
    await expect(sample.get_by_label("Parsed JSON")).to_contain_text('"number": 7')
    await sample.get_by_label("Sample headers").fill("X-Hub-Signature-256: sha256=00")
    await sample.get_by_role("button", name="Run test").click()
    await expect(sample.get_by_role("status")).to_contain_text("Verification: failed")


async def test_flow_editor_tests_on_sample_and_saves(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    ingress_server: ApiServer,
    http: aiohttp.ClientSession,
    unique: str,
) -> None:
    status, listener = await api.call(
        "POST",
        "/api/v1/listeners",
        json={"name": f"shop {unique}", "sampleData": {"data": {"id": 5, "amount": 9.5}}},
    )
    assert status == 201, listener
    page = console.page
    await console.sign_in(hash_path="#/flows")
    await page.get_by_role("link", name="Add flow").click()
    await page.get_by_label("Name", exact=True).fill(f"orders {unique}")
    await page.get_by_label("Listener").select_option(listener["id"])
    await page.get_by_label("Destination topic").fill(f"orders.{unique}")
    await page.get_by_label("Filter (JMESPath)").fill("payload.data.amount > `1`")
    await page.get_by_role("button", name="Add mapping").click()
    await page.get_by_label("To 1", exact=True).fill("order.id")
    await page.get_by_label("From 1").fill("data.id")
    await page.get_by_role("button", name="Add constant").click()
    await page.get_by_role("group", name="Constants").get_by_label("To 1").fill("source")
    await page.get_by_label("Value (JSON or text) 1").fill("shop")

    await check_flow_preview(console)

    # An invalid filter is refused at the field.
    await page.get_by_label("Filter (JMESPath)").fill("payload.[")
    await page.get_by_role("button", name="Create flow").click()
    await expect(page.locator('[data-field="filter"] .field-error')).to_contain_text("JMESPath")
    await page.get_by_label("Filter (JMESPath)").fill("payload.data.amount > `1`")
    await page.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_role("heading", name=f"Flow orders {unique}")).to_be_visible()
    await expect(page.get_by_text(f"Flow “orders {unique}” created.")).to_be_visible()
    executions = page.get_by_role("region", name="Executions")
    await expect(executions).to_contain_text("No executions yet.")
    flow_id = page.url.rsplit("/", 1)[-1]
    # A request to the listener runs the flow: the open page shows the run by itself.
    hook = f"{ingress_server.url}/hooks/{listener['id']}"
    async with http.post(hook, json={"data": {"id": 5, "amount": 9.5}}) as response:
        assert response.status == 202
    await expect(executions.get_by_role("cell", name="flow.executed")).to_be_visible()
    await console.screenshot("flow")
    status, flow = await api.call("GET", f"/api/v1/flows/{flow_id}")
    assert status == 200
    assert flow["mappings"] == [{"to": "order.id", "from": "data.id"}]
    assert flow["constants"] == [{"to": "source", "value": "shop"}]
    await console.open("#/flows")
    await expect(page.get_by_role("row").filter(has_text=f"orders {unique}")).to_be_visible()
    await console.screenshot("flows")
    await api.call("DELETE", f"/api/v1/flows/{flow_id}")
    await api.call("DELETE", f"/api/v1/listeners/{listener['id']}")


async def check_flow_preview(console: ConsolePage) -> None:
    page = console.page
    preview = page.get_by_role("region", name="Test on sample")
    await expect(preview.get_by_label("Sample trigger payload (JSON)")).to_have_value(
        re.compile('"amount": 9.5')
    )
    await preview.get_by_role("button", name="Test on sample").click()
    output = preview.get_by_label("Flow output")
    await expect(output).to_contain_text('"id": 5')
    await expect(output).to_contain_text('"source": "shop"')
    await expect(preview.get_by_role("status")).to_contain_text("Result: executed")
    await page.get_by_label("Filter (JMESPath)").fill("payload.data.amount > `100`")
    await preview.get_by_role("button", name="Test on sample").click()
    await expect(preview.get_by_role("status")).to_contain_text("Result: skipped")
    await expect(output).to_contain_text("(none)")
    await page.get_by_label("Filter (JMESPath)").fill("payload.[")
    await preview.get_by_role("button", name="Test on sample").click()
    filter_error = page.locator('[data-field="filter"] .field-error')
    await expect(filter_error).to_contain_text("JMESPath")
    await console.screenshot("flow-preview")
