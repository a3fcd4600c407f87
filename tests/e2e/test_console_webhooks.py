"""The console in a real browser: serving, sign-in, webhooks (create through the
form, field errors, toggle, delete), and what a viewer sees."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaProducer
from playwright.async_api import expect

from hookstream.console.app import Assets
from hookstream.testing.api import VIEWER_TOKEN, ApiClient, ApiServer, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from tests.conftest import send_event
from tests.e2e.conftest import ConsolePage


async def test_console_is_public_with_csp_and_cached_assets(
    api_server: ApiServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(api_server.url + "/", allow_redirects=False) as root:
        assert root.status == 302
        assert root.headers["Location"] == "/ui/"
    async with http.get(api_server.url + "/ui/") as page:
        assert page.status == 200
        html = await page.text()
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert page.headers["Cache-Control"] == "no-cache"
    assert "<script>" not in html  # only <script type="module" src=…>
    asset = re.search(r'src="(/ui/assets/[0-9a-f]+/js/main\.js)"', html)
    assert asset is not None, html
    async with http.get(api_server.url + asset.group(1)) as js:
        assert js.status == 200
        assert js.headers["Content-Type"].startswith("text/javascript")
        assert "immutable" in js.headers["Cache-Control"]
    async with http.get(api_server.url + "/ui/assets/0000/js/nope.js") as missing:
        assert missing.status == 404
    # The API itself still needs a token, and whoami tells the role.
    async with http.get(api_server.url + "/api/v1/webhooks") as api:
        assert api.status == 401
    async with http.get(api_server.url + "/api/v1/whoami") as anonymous:
        assert anonymous.status == 401
    headers = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
    async with http.get(api_server.url + "/api/v1/whoami", headers=headers) as me:
        assert me.status == 200
        assert await me.json() == {"role": "viewer"}


async def test_sign_in_rejects_an_unknown_token_and_keeps_it_out_of_the_url(
    console: ConsolePage,
) -> None:
    page = console.page
    await console.open()
    await page.get_by_label("API token").fill("not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("That token was not accepted.")).to_be_visible()
    await console.screenshot("sign-in")
    await console.sign_in()
    await expect(page.get_by_text("signed in as admin")).to_be_visible()
    assert "token" not in page.url
    stored = await page.evaluate("sessionStorage.getItem('hookstream.token')")
    assert stored == "test-admin-token"
    assert await page.evaluate("localStorage.length") == 0
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API token")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('hookstream.token')") is None


async def test_create_a_webhook_through_the_form(
    console: ConsolePage, api: ApiClient, unique: str
) -> None:
    page = console.page
    await console.sign_in(hash_path="#/webhooks")
    await page.get_by_role("link", name="Add webhook").click()
    await page.get_by_label("Name", exact=True).fill(f"crm {unique}")
    # An invalid URL: the API's 422 shows at the URL field.
    await page.get_by_label("URL", exact=True).fill("ftp://example.com/hook")
    await page.get_by_label("Select individual events").check()
    await page.get_by_label("Other event types (comma-separated)").fill(f"order.{unique}")
    await page.get_by_label("Include entity").check()
    await page.get_by_role("button", name="Generate whsec_ secret").click()
    await expect(page.get_by_label("Signature scheme")).to_have_value("standard-webhooks")
    await page.get_by_label("Username").fill("hook")
    await page.get_by_label("Password").fill("pw")
    await page.get_by_role("button", name="Add custom header").click()
    await page.get_by_label("Header name 1").fill("X-Tenant")
    await page.get_by_label("Header value 1").fill("acme")
    await page.get_by_label("Description").fill("made in the browser")
    await page.get_by_role("button", name="Create webhook").click()
    url_error = page.locator('[data-field="url"] .field-error')
    await expect(url_error).to_contain_text("http:// or https://")
    await expect(page.get_by_label("URL", exact=True)).to_have_attribute("aria-invalid", "true")
    await console.screenshot("webhook-form")

    await page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/hook")
    await page.get_by_role("button", name="Create webhook").click()
    await expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    # The confirmation made it across the navigation to the list; it can be dismissed.
    created_note = page.get_by_role("status").filter(has_text=f"Webhook “crm {unique}” created.")
    await expect(created_note).to_be_visible()
    await created_note.get_by_role("button", name="Dismiss").click()
    await expect(created_note).to_have_count(0)
    row = page.get_by_role("row").filter(has_text=f"crm {unique}")
    await expect(row).to_contain_text("enabled")

    status, body = await api.call("GET", "/api/v1/webhooks")
    created = next(w for w in body["data"] if w["name"] == f"crm {unique}")
    api.created.append(created["id"])
    assert created["events"] == [f"order.{unique}"]
    assert created["includeEntity"] is True
    assert created["hasSecret"] is True
    assert created["signatureScheme"] == "standard-webhooks"
    assert created["basicAuth"] == {"username": "hook", "hasPassword": True}
    assert created["headers"] == {"X-Tenant": "acme"}
    assert created["description"] == "made in the browser"

    # Disable, then delete with confirmation.
    await row.get_by_role("button", name=f"Disable crm {unique}").click()
    await expect(row).to_contain_text("disabled")
    await row.get_by_role("button", name=f"Delete crm {unique}").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"crm {unique}")
    await dialog.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("row").filter(has_text=f"crm {unique}")).to_have_count(0)
    status, _ = await api.call("GET", f"/api/v1/webhooks/{created['id']}")
    assert status == 404


async def test_a_viewer_sees_no_edit_buttons(
    console: ConsolePage, api: ApiClient, unique: str
) -> None:
    await api.create_webhook(name=f"view {unique}", url="http://127.0.0.1:9/x")
    page = console.page
    await console.sign_in(VIEWER_TOKEN, hash_path="#/webhooks")
    await expect(page.get_by_text("signed in as viewer")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=f"view {unique}")
    await expect(row.get_by_role("link", name=f"View events of view {unique}")).to_be_visible()
    for name in ("Ping", "Disable", "Delete"):
        await expect(row.get_by_role("button", name=re.compile(name))).to_have_count(0)
    await expect(page.get_by_role("link", name="Add webhook")).to_have_count(0)
    await page.get_by_role("link", name=f"view {unique}", exact=True).click()
    await expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    await expect(page.get_by_role("button", name="Save webhook")).to_have_count(0)
    for path in ("#/listeners", "#/flows"):
        await console.open(path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await expect(page.get_by_role("link", name=re.compile("^Add "))).to_have_count(0)


def test_asset_urls_change_with_any_file(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text('<script type="module" src="{{assets}}/js/a.js">')
    (tmp_path / "js" / "a.js").write_text("export const a = 1;")
    first = Assets.load(tmp_path)
    assert (
        first.index.decode() == f'<script type="module" src="/ui/assets/{first.version}/js/a.js">'
    )
    assert first.files["js/a.js"].content_type == "text/javascript"
    assert "index.html" not in first.files
    (tmp_path / "js" / "a.js").write_text("export const a = 2;")
    assert Assets.load(tmp_path).version != first.version


async def test_edit_rotates_the_secret_and_keeps_basic_auth(
    console: ConsolePage, api: ApiClient, unique: str
) -> None:
    webhook = await api.create_webhook(
        name=f"rotate {unique}",
        url="http://127.0.0.1:9/r",
        secret="first-secret",
        basicAuth={"username": "u", "password": "p"},
    )
    page = console.page
    await console.sign_in(hash_path=f"#/webhooks/{webhook['id']}")
    await expect(page.get_by_text("A secret is set.")).to_be_visible()
    await expect(page.get_by_label("Username")).to_have_value("u")
    await page.get_by_label("Secret", exact=True).fill("second-secret")
    await page.get_by_label("Name", exact=True).fill(f"rotated {unique}")
    await page.get_by_role("button", name="Save webhook").click()
    await expect(page.get_by_role("row").filter(has_text=f"rotated {unique}")).to_be_visible()
    saved_note = page.get_by_text(f"Webhook “rotated {unique}” saved.")
    await expect(saved_note).to_be_visible()
    status, stored = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}")
    assert status == 200
    assert stored["hasSecret"] is True
    assert stored["previousSecretExpiresAt"] is not None  # the old one signs for 24 h
    assert stored["basicAuth"] == {"username": "u", "hasPassword": True}
    await console.open(f"#/webhooks/{webhook['id']}")
    await expect(page.get_by_text("the previous one signs until")).to_be_visible()
    await expect(saved_note).to_have_count(0)  # shown once, by the page after the save


async def test_a_410_disables_the_webhook_and_the_list_says_why(
    console: ConsolePage,
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    path = f"/gone-{unique}"
    receiver.scripts[path] = [(410, {})]
    webhook = await live_webhook(
        api, worker, name=f"gone {unique}", url=receiver.url + path, events=[f"g.{unique}"]
    )
    await send_event(
        producer, {"eventId": f"e-{unique}", "eventType": f"g.{unique}", "entityId": "1"}
    )
    await receiver.wait_for(path)

    async def disabled() -> bool:
        _, body = await api.call("GET", f"/api/v1/webhooks/{webhook['id']}")
        return body["enabled"] is False

    await eventually(disabled, timeout=30, message="the 410 never disabled the webhook")
    page = console.page
    await console.sign_in(hash_path="#/webhooks")
    row = page.get_by_role("row").filter(has_text=f"gone {unique}")
    await expect(row.get_by_text(re.compile("^disabled: .*410"))).to_be_visible()
    await row.get_by_role("button", name=f"Enable gone {unique}").click()
    await expect(row.get_by_text("enabled", exact=True)).to_be_visible()
