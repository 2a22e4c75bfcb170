"""The inbox in a real browser against `tertulia demo`: hostile messages arrive live and stay inert,
the layout holds, and a conversation is triaged, assigned and answered on the sandbox network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.browser.test_demo_tour import sign_in
from tests.processes import run_tertulia, tertulia_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]
BRAND = "despensadelsur"

# Each would run script if it were ever inserted as HTML; the marker word finds them in the page.
HOSTILE = [
    ("script", f"@{BRAND} marcador-script <script>window.__xss = 'script'</script>"),
    ("img", f"@{BRAND} marcador-img <img src=x onerror=\"window.__xss = 'img'\">"),
    ("svg", f"@{BRAND} marcador-svg <svg onload=\"window.__xss = 'svg'\"></svg> <b>negrita</b>"),
    ("zero-width", f"@{BRAND} marcador-zw ze\u200bro\u200d wi\u2060dth\ufeff"),
    ("rtl", f"@{BRAND} marcador-rtl \u202eesrever ni txet\u202c مرحبا بالعالم"),
    ("emoji", f"@{BRAND} marcador-emoji " + "🧀😡👍🏽" * 100),
    # Posts stop at 500 characters; a direct message carries the huge one (over 5,000).
    ("huge", "marcador-huge " + "👨‍👩‍👧‍👦🏳️‍🌈" * 450 + "x" * 300),
]


def sandbox_post(demo: Demo, author: str, text: str, dm: bool = False) -> None:
    extra = ["--dm", BRAND] if dm else []
    done = run_tertulia(
        "manage",
        "sandbox_post",
        "--as",
        author,
        *extra,
        env=tertulia_env(demo.data_dir),
        stdin=text,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_hostile_messages_arrive_live_inert_and_the_layout_holds(
    page: Page, demo: Demo, ci_logs: Path
) -> None:
    tab, log = page
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", refuse)
    sign_in(tab, demo)
    tab.goto(f"{demo.base_url}/inbox/")
    tab.wait_for_function(
        "() => { const s = document.getElementById('live-status');"
        " return s && s.classList.contains('connected'); }",
        timeout=30_000,
    )
    for label, text in HOSTILE:
        sandbox_post(demo, f"hostil_{label.replace('-', '_')}", text, dm=label == "huge")

    # Live: every one shows up without a reload.
    for label, _text in HOSTILE:
        marker = f"marcador-{'zw' if label == 'zero-width' else label}"
        tab.wait_for_selector(f"#conversation-rows li:has-text('{marker}')", timeout=90_000)
    assert tab.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    tab.screenshot(path=str(ci_logs / screenshot_name(20, "inbox-hostile")), full_page=True)

    assert tab.evaluate("() => window.__xss === undefined"), "a message ran script"
    assert not dialogs
    assert (
        tab.locator("#conversation-rows img, #conversation-rows svg, #conversation-rows script").count() == 0
    )
    # The layout holds: no horizontal scrolling, and no row wider than the list.
    assert tab.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert tab.evaluate(
        """() => { const list = document.getElementById('conversation-rows').getBoundingClientRect();
                   return [...document.querySelectorAll('#conversation-rows li')]
                     .every(li => li.getBoundingClientRect().right <= list.right + 1); }"""
    )

    # Open the script one: the text is shown verbatim, as text.
    tab.click("#conversation-rows li:has-text('marcador-script') a.conv-link")
    tab.wait_for_selector("#conversation-live .thread .text")
    shown = tab.locator("#conversation-live .thread .text").first.inner_text()
    assert shown == HOSTILE[0][1]
    tab.click("#conversation-rows li:has-text('marcador-huge') a.conv-link")
    tab.wait_for_selector("#conversation-live .thread .text:has-text('marcador-huge')")
    huge = tab.locator("#conversation-live .thread .text").first.inner_text()
    assert huge == HOSTILE[-1][1], "the direct message was not shown verbatim"
    assert tab.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    tab.screenshot(path=str(ci_logs / screenshot_name(21, "conversation-emoji")), full_page=True)
    assert tab.evaluate("() => window.__xss === undefined") and not dialogs
    assert not log.errors, f"the browser console reported errors: {log.errors}"


def test_triage_assign_and_answer_a_customer(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    sign_in(tab, demo)
    tab.goto(f"{demo.base_url}/inbox/")
    sandbox_post(
        demo, "clienta_navegador", f"@{BRAND} marcador-pedido ¿Mi pedido 4411 llega antes del sábado?"
    )
    row = "#conversation-rows li:has-text('marcador-pedido')"
    tab.wait_for_selector(row, timeout=90_000)
    assert tab.locator(f"{row} .sla").count() == 1, "no SLA timer on the conversation"
    tab.click(f"{row} a.conv-link")
    tab.wait_for_selector("#conversation-live .conv-title")
    assert "/inbox/c/" in tab.url

    tab.click("#conversation-live button[data-shortcut='a']")  # assign to me
    # Assigned: the button goes for good (its flash may be replaced at once by a live refresh of the pane).
    tab.wait_for_selector("#conversation-live button[data-shortcut='a']", state="detached", timeout=60_000)
    tab.fill("#conversation-live input[name=add]", "pedidos")
    tab.press("#conversation-live input[name=add]", "Enter")
    tab.wait_for_selector("#conversation-live .chip.tag:has-text('pedidos')")

    tab.fill("#reply-text", "¡Hola! Sí, sale hoy y llega el viernes. 🧀")
    tab.click("#reply-form button[value='']")
    # Delivered by the worker; the thread shows it as sent without a reload.
    tab.wait_for_selector("#conversation-live .dir-out .delivery-sent", timeout=60_000)
    assert tab.locator("#reply-text").input_value() == "", "the reply box was not emptied"
    tab.keyboard.press("Escape")
    tab.keyboard.press("e")  # close
    tab.wait_for_selector("#conversation-live .chip.status-closed", timeout=20_000)
    tab.screenshot(path=str(ci_logs / screenshot_name(22, "conversation-answered")), full_page=True)
    assert not log.errors, f"the browser console reported errors: {log.errors}"
