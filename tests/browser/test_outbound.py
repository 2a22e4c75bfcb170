"""Outbound requests in a real browser: the composer's link card and a webhook's test event.

A `tertulia demo` of its own, started with TERTULIA_OUTBOUND_ALLOW opening 127.0.0.1 (where this
test's page and webhook receiver listen): the shared demo keeps the default policy. Under the app's
strict Content Security Policy, the card must load lazily through htmx and its image must come from
Tertulia itself (a hot-linked image would be blocked and reported in the console).
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tertulia.core.tests.outbound_server import Site
from tertulia.webhooks import signing
from tests.browser.conftest import Demo, requires_chromium, screenshot_name
from tests.browser.test_publishing import sign_in_in_english
from tests.processes import TertuliaProcess, free_port, tertulia_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

TITLE = "Sevilla abre <b>su</b> despensa \u202eevil\u200b"


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with Site().running() as running:
        picture = BytesIO()
        Image.new("RGB", (1200, 630), (180, 60, 30)).save(picture, format="PNG")
        running.route("/card.png", picture.getvalue(), headers={"Content-Type": "image/png"})
        running.route(
            "/noticia",
            '<html><head><meta charset="utf-8">'
            f'<meta property="og:title" content="{html.escape(TITLE)}">'
            '<meta property="og:description" content="La tienda abre el lunes.">'
            '<meta property="og:site_name" content="Diario del Sur">'
            '<meta property="og:image" content="/card.png">'
            "<script>alert('never')</script></head><body></body></html>",
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        running.route("/hook", b"ok")
        yield running


@pytest.fixture(scope="module")
def outbound_demo(tmp_path_factory: pytest.TempPathFactory, ci_logs: Path) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("outbound-demo") / "data"
    port = free_port()
    process = TertuliaProcess(
        ["demo", "--port", str(port), "--data-dir", str(data_dir)],
        tertulia_env(data_dir, TERTULIA_OUTBOUND_ALLOW="127.0.0.1"),
        ci_logs / "outbound-demo.log",
    )
    try:
        email = process.wait_for_output(r"^\s+e-mail:\s+(\S+)\s*$", timeout=180).group(1)
        password = process.wait_for_output(r"^\s+password:\s+(\S+)\s*$", timeout=10).group(1)
        base_url = f"http://127.0.0.1:{port}"
        process.wait_healthy(base_url, timeout=60)
        yield Demo(base_url, email, password, process, data_dir)
    finally:
        process.stop()


@pytest.fixture
def tab(browser_context: Any) -> Iterator[tuple[Any, list[str]]]:
    browser_context.clear_cookies()
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    def refuse(dialog: Any) -> None:
        errors.append(f"dialog: {dialog.message}")  # hostile text must never open one
        dialog.dismiss()

    page.on("dialog", refuse)
    try:
        yield page, errors
    finally:
        page.close()


def test_the_composer_shows_the_link_card_fetched_by_the_server(
    tab: tuple[Any, list[str]], outbound_demo: Demo, site: Site, ci_logs: Path
) -> None:
    page, errors = tab
    sign_in_in_english(page, outbound_demo)
    page.goto(f"{outbound_demo.base_url}/publish/new/")
    channel = page.locator("#compose-channels input[name=channels]").first
    channel_id = channel.get_attribute("value")
    channel.check()
    page.wait_for_selector(f"#verdict-{channel_id}")
    page.fill("#id_text", f"Mira esto: {site.url}/noticia?utm_source=x")
    card = page.locator(f"#verdict-{channel_id} .link-card .link-card-title")
    card.wait_for()
    assert card.inner_text() == "Sevilla abre <b>su</b> despensa evil"  # tags as text, invisibles gone
    assert page.locator("#compose-check").count() == 1, "the card replaced more than its placeholder"
    assert page.locator(f"#verdict-{channel_id} .link-card-site").inner_text() == "Diario del Sur"
    image = page.locator(f"#verdict-{channel_id} .link-card-image")
    image.wait_for()
    assert image.get_attribute("src").startswith("/publish/link-preview/image/")
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
        arg=f"#verdict-{channel_id} .link-card-image",
    )
    assert image.evaluate("i => i.naturalWidth") <= 600
    assert [seen.path for seen in site.requests if seen.path.startswith("/noticia")] == ["/noticia"]
    page.screenshot(path=str(ci_logs / screenshot_name(60, "compose-link-card")), full_page=True)
    assert not errors, errors


def test_a_webhook_endpoint_receives_a_signed_test_event(
    tab: tuple[Any, list[str]], outbound_demo: Demo, site: Site, ci_logs: Path
) -> None:
    page, errors = tab
    sign_in_in_english(page, outbound_demo)
    page.goto(f"{outbound_demo.base_url}/settings/")
    with page.expect_navigation():
        page.click("#webhooks-link")
    page.fill("#id_name", "Seguridad <i>SOC</i>")
    page.fill("#id_url", f"{site.url}/hook")
    page.select_option("#id_format", "generic")
    page.check("input[name=event_types][value='security.post_held']")
    with page.expect_navigation():
        page.click("#webhook-form button[type=submit]")
    secret = page.locator("#new-secret").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret), secret
    page.screenshot(path=str(ci_logs / screenshot_name(61, "webhook-created")), full_page=True)
    with page.expect_navigation():
        page.click("text=Open the endpoint and send a test event")
    assert secret not in page.content()
    with page.expect_navigation():
        page.click("text=Send test event")
    deadline = time.monotonic() + 60
    while not site.seen("/hook"):
        assert time.monotonic() < deadline, "the demo's worker did not deliver the test event"
        page.wait_for_timeout(500)
    seen = site.seen("/hook")[0]
    signing.verify(secret, seen.headers, seen.body)
    assert json.loads(seen.body)["type"] == "webhook.test"
    deadline = time.monotonic() + 30
    while "Delivered" not in page.locator("#deliveries-heading + table").inner_text():
        assert time.monotonic() < deadline, "the delivery is not shown as delivered"
        page.wait_for_timeout(1_000)
        page.reload()
    page.screenshot(path=str(ci_logs / screenshot_name(62, "webhook-delivered")), full_page=True)
    assert not errors, errors
