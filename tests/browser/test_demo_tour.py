"""A first visit to `tertulia demo`: sign in, switch to Spanish, open every section, watch it live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

SECTIONS = ["inbox", "publish", "listen", "crisis", "analytics", "team", "settings"]
SPANISH_NAV = ["Bandeja de entrada", "Publicar", "Escucha", "Crisis", "Analítica", "Equipo", "Ajustes"]

Page = tuple[Any, ConsoleLog]


def sign_in(tab: Any, demo: Demo, password: str | None = None) -> None:
    tab.goto(f"{demo.base_url}/login/")
    tab.fill("input[name=login]", demo.email)
    tab.fill("input[name=password]", password if password is not None else demo.password)
    with tab.expect_navigation():
        tab.click("#login-form button[type=submit]")


def session_cookie(tab: Any) -> str | None:
    return next((c["value"] for c in tab.context.cookies() if c["name"] == "tertulia_session"), None)


def test_wrong_password_is_refused(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, _log = page
    sign_in(tab, demo, password="not-the-demo-password")
    assert tab.url.startswith(f"{demo.base_url}/login/")
    alert = tab.locator("[role=alert]")
    assert alert.is_visible(), "no error message after a wrong password"
    assert alert.inner_text().strip()
    assert session_cookie(tab) is None, "a wrong password must not create a session"
    tab.screenshot(path=str(ci_logs / screenshot_name(0, "wrong-password")), full_page=True)

    # And the app stays closed.
    tab.goto(f"{demo.base_url}/inbox/")
    assert tab.url.startswith(f"{demo.base_url}/login/")


def test_sign_in_switch_to_spanish_and_open_every_section(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    sign_in(tab, demo)
    assert session_cookie(tab), "no session after signing in with the demo login"
    assert tab.locator("#main-nav").is_visible()
    tab.screenshot(path=str(ci_logs / screenshot_name(1, "signed-in")), full_page=True)

    # Set the choice without firing `change` (which auto-submits through tertulia.js),
    # then press the form's own button: the path that works without JavaScript too.
    tab.eval_on_selector("#language-form select[name=language]", "select => { select.value = 'es'; }")
    with tab.expect_navigation():
        tab.click("#language-form button[type=submit]")
    assert tab.get_attribute("html", "lang") == "es"
    nav = tab.locator("#main-nav").inner_text()
    missing = [word for word in SPANISH_NAV if word not in nav]
    assert not missing, f"the navigation is not in Spanish; missing {missing} in {nav!r}"

    for index, section in enumerate(SECTIONS, start=2):
        response = tab.goto(f"{demo.base_url}/{section}/")
        assert response is not None and response.status == 200, (
            f"/{section}/ answered {response and response.status}"
        )
        tab.wait_for_load_state("networkidle") if section != "inbox" else tab.wait_for_load_state("load")
        assert tab.get_attribute("html", "lang") == "es", f"/{section}/ is not in Spanish"
        heading = tab.locator("h1").first
        assert heading.is_visible() and heading.inner_text().strip(), f"/{section}/ has no visible h1"
        link = tab.locator(f'#main-nav a[href="/{section}/"]')
        assert link.get_attribute("aria-current") == "page", f"/{section}/ is not marked current in the nav"
        tab.screenshot(path=str(ci_logs / screenshot_name(index, section)), full_page=True)

    assert not log.errors, f"the browser console reported errors: {log.errors}"


def test_live_updates_arrive_without_a_reload(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    sign_in(tab, demo)
    tab.goto(f"{demo.base_url}/inbox/")

    # The stream answers for this session and starts with the reconnect delay.
    status, content_type, first_chunk = tab.evaluate(
        """async () => {
            const response = await fetch('/live/stream', {headers: {Accept: 'text/event-stream'}});
            const reader = response.body.getReader();
            const {value} = await reader.read();
            await reader.cancel();
            return [response.status, response.headers.get('content-type'), new TextDecoder().decode(value)];
        }"""
    )
    assert status == 200 and content_type.startswith("text/event-stream"), (status, content_type)
    assert first_chunk.startswith("retry:"), first_chunk

    # The page's own EventSource connects (tertulia.js shows it in #live-status).
    tab.wait_for_function(
        "() => { const s = document.getElementById('live-status');"
        " return s && s.textContent.trim() === s.dataset.connected; }",
        timeout=30_000,
    )

    # The demo's simulated community keeps writing; the inbox shows it without a reload.
    tab.wait_for_selector("#conversation-rows", state="attached", timeout=30_000)
    before = tab.evaluate(
        "() => { const a = document.getElementById('conversation-rows');"
        " return [a.querySelectorAll('li').length, a.innerText]; }"
    )
    tab.wait_for_function(
        """([count, text]) => {
            const a = document.getElementById('conversation-rows');
            return a && (a.querySelectorAll('li').length !== count || a.innerText !== text);
        }""",
        arg=before,
        timeout=60_000,
    )
    assert tab.evaluate("() => performance.getEntriesByType('navigation').length") == 1, (
        "the page was reloaded"
    )
    tab.screenshot(path=str(ci_logs / screenshot_name(9, "inbox-live")), full_page=True)
    assert not log.errors, f"the browser console reported errors: {log.errors}"
