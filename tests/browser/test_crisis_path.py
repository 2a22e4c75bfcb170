"""The whole crisis path in `tertulia demo`, in chromium: the demo's playbook and past report; then a
rehearsal surge → a rehearsal alert → crisis mode (posts paused) → the playbook's checklist → resolution
→ the post-incident report. See docs/crisis-playbooks.md ("The demo")."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.browser.test_demo_tour import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]
# The detector runs every minute and needs a few minutes of the staged surge (docs/crisis-detection.md).
ALERT_TIMEOUT = 8 * 60


def _shot(tab: Any, ci_logs: Path, index: int, label: str) -> None:
    tab.screenshot(path=str(ci_logs / screenshot_name(index, f"crisis-{label}")), full_page=True)


def test_surge_alert_crisis_mode_checklist_resolution_report(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    sign_in(tab, demo)
    # The page's text is checked by ids and structure: another test may have switched the demo to Spanish.

    # What the demo loaded: a default playbook with approved statements, and a past crisis's report.
    tab.goto(f"{demo.base_url}/crisis/playbooks/")
    assert tab.locator("#playbooks tbody a").count() >= 1, "the demo brand has no playbook"
    tab.locator("#playbooks tbody a").first.click()
    tab.wait_for_load_state("load")
    assert tab.locator("#playbook-steps li").count() >= 5
    assert tab.locator("#playbook-statements .status-approved").count() >= 2, "demo statements not approved"
    _shot(tab, ci_logs, 1, "playbook")
    tab.goto(f"{demo.base_url}/crisis/playbooks/")
    tab.locator("#crisis-reports a").first.click()
    tab.wait_for_load_state("load")
    assert tab.locator("#crisis-report h3").count() >= 4, "the past crisis has no written report"
    _shot(tab, ci_logs, 2, "past-report")

    # A rehearsal surge on the sandbox channels.
    tab.goto(f"{demo.base_url}/crisis/playbooks/")
    with tab.expect_navigation():
        tab.click("#rehearse-form button[type=submit]")
    _shot(tab, ci_logs, 3, "rehearsal-staged")

    # The detector finds it and a rehearsal alert is raised.
    deadline = time.monotonic() + ALERT_TIMEOUT
    while True:
        tab.goto(f"{demo.base_url}/crisis/alerts/")
        rows = tab.locator("#alert-list tbody tr.alert-open:has(.badge)")
        if rows.count():
            break
        assert time.monotonic() < deadline, "no rehearsal alert within the time the detector should need"
        time.sleep(10)
    _shot(tab, ci_logs, 4, "alert")
    rows.first.locator("th a").click()
    tab.wait_for_load_state("load")
    assert tab.locator("#alert-explanation").is_visible()

    # Crisis mode from the alert: publishing pauses, the checklist opens.
    tab.click("#crisis-start-link")
    tab.wait_for_load_state("load")
    assert tab.locator("#start-alert").is_visible()
    with tab.expect_navigation():
        tab.click("#crisis-start-form button[type=submit]")
    assert "/crisis/rooms/" in tab.url, f"crisis mode did not open its room: {tab.url}"
    room_url = tab.url
    steps = tab.locator("#crisis-checklist li")
    assert steps.count() >= 5, "the playbook's steps did not become the checklist"
    _shot(tab, ci_logs, 5, "room")

    # Posts are paused (a crisis pause of the brand), and every page says crisis mode is on.
    tab.goto(f"{demo.base_url}/crisis/")
    assert tab.locator("#active-pauses tbody tr").count() >= 1, "publishing is not paused"
    assert tab.locator("#crisis-banner .crisis-banner .badge").count() >= 1, "no rehearsal crisis banner"
    _shot(tab, ci_logs, 6, "paused")

    # The checklist, ticked through htmx.
    tab.goto(room_url)
    first = tab.locator("#crisis-checklist li").first
    first.locator("button[type=submit]").click()
    tab.wait_for_selector("#crisis-checklist li.done")
    _shot(tab, ci_logs, 7, "checklist")

    # Resolution: crisis mode off, publishing resumes, the report is written.
    with tab.expect_navigation():
        tab.click("#crisis-end-form button[type=submit]")
    tab.goto(room_url)
    tab.locator("a[href*='/crisis/reports/']").first.click()
    tab.wait_for_load_state("load")
    report = tab.locator("#crisis-report")
    assert report.locator("h3").count() >= 5
    assert report.locator("li").count() >= 8
    assert "✔" in report.inner_text(), "the ticked step is not in the report"
    _shot(tab, ci_logs, 8, "report")
    download = tab.locator("a[href$='report.md']")
    assert download.count() == 1

    assert not log.errors, f"the browser console reported errors: {log.errors}"
