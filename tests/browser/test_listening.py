"""Listening in a real browser against `tertulia demo`: write a query with a mistake, see the live
check point at it, fix it, save, and land on the query's page.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium
from tests.browser.test_publishing import record_dialogs, shot, sign_in_in_english

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]


def test_a_query_is_checked_as_typed_fixed_and_saved(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    dialogs = record_dialogs(tab)
    sign_in_in_english(tab, demo)
    tab.goto(f"{demo.base_url}/listen/")
    assert tab.locator("h1", has_text="Listen").is_visible()
    tab.click("text=New query")
    tab.wait_for_selector("#query-text")

    name = f"Browser check {time.time_ns()}"  # the demo's data survives between runs of a session
    tab.fill("#query-name", name)
    box = tab.locator("#query-text")
    box.click()
    # Typed key by key, as a person would: the check runs on input, after a pause.
    box.press_sequentially('("vino tinto" OR #rioja) NEAR/x <script>alert(1)</script>', delay=10)
    error = tab.locator("#query-check [data-query-error]")
    error.wait_for()
    assert "Line 1, column 26:" in error.inner_text()
    assert "NEAR needs a number of words" in error.inner_text()
    assert tab.locator("#query-check .caret mark").inner_text() == "NEAR/x"
    assert box.get_attribute("aria-invalid") == "true"
    assert "query-check" in (box.get_attribute("aria-describedby") or "")
    shot(tab, ci_logs, 1, "listening editor with an error")

    box.fill("")
    box.press_sequentially('("vino tinto" OR #rioja) NEAR/3 cata', delay=10)
    tab.locator("#query-check .query-ok").wait_for()
    assert box.get_attribute("aria-invalid") is None
    outline = tab.locator("#query-outline pre.outline")
    outline.wait_for()
    assert "NEAR/3" in outline.inner_text()
    assert "hashtag #rioja" in outline.inner_text()

    with tab.expect_navigation():
        tab.click("button[name=action][value=save]")
    assert "/listen/queries/" in tab.url
    assert tab.locator("h1").inner_text() == name
    assert tab.locator("#volume-chart-title").count() == 1
    assert tab.locator("pre.query-text-block").inner_text() == '("vino tinto" OR #rioja) NEAR/3 cata'
    shot(tab, ci_logs, 2, "listening query page")
    assert dialogs == []
    assert log.errors == []
