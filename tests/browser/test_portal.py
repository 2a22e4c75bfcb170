"""The contributor portal in real browsers against `tertulia demo`: Jordi (a contributor from
another department) proposes an idea; Lucía (community manager) turns it into a draft post in a
browser of her own; Jordi sees the answer. The demo's team members have no password, so the test
gives these two one through `tertulia manage shell`."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.processes import run_tertulia, tertulia_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]
CONTRIBUTOR = "jordi@example.com"
COMMUNITY_MANAGER = "lucia@example.com"
HOSTILE = '<img src=x onerror="alert(1)"> Castañas asadas \u202eRTL\u202c 🌰'


@pytest.fixture(scope="module")
def password(demo: Demo) -> str:
    chosen = f"clave-{secrets.token_urlsafe(12)}"
    code = (
        "from tertulia.core.models import User\n"
        f"for email in ({CONTRIBUTOR!r}, {COMMUNITY_MANAGER!r}):\n"
        "    user = User.objects.get(email=email)\n"
        f"    user.set_password({chosen!r})\n"
        "    user.save()\n"
    )
    done = run_tertulia("manage", "shell", "-c", code, env=tertulia_env(demo.data_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    return chosen


def sign_in(tab: Any, demo: Demo, email: str, password: str) -> None:
    tab.goto(f"{demo.base_url}/login/")
    tab.fill("#login-form input[name=login]", email)
    tab.fill("#login-form input[name=password]", password)
    with tab.expect_navigation():
        tab.click("#login-form button[type=submit]")


def test_a_contributor_proposes_and_a_community_manager_drafts_it(
    page: Page, second_browser: Any, demo: Demo, password: str, ci_logs: Path
) -> None:
    tab, log = page
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)

    # Jordi lands on the portal, reads the guidelines' titles, sends an idea.
    sign_in(tab, demo, CONTRIBUTOR, password)
    tab.wait_for_url(f"{demo.base_url}/contribute/")
    assert tab.locator("#portal-guidelines a", has_text="Cómo hablamos en redes").count() == 1
    tab.fill("#idea-form textarea[name=idea-text]", HOSTILE)
    tab.fill("#idea-form input[name=idea-link]", "javascript:alert(2)")
    with tab.expect_navigation():
        tab.click("#idea-form button[type=submit]")
    assert tab.locator("#idea-errors").is_visible()
    assert "http://" in tab.locator("#idea-errors").inner_text()
    tab.fill("#idea-form input[name=idea-link]", "https://example.com/castanas")
    tab.fill("#idea-form textarea[name=idea-why]", "Cada otoño nos lo preguntan.")
    with tab.expect_navigation():
        tab.click("#idea-form button[type=submit]")
    mine = tab.locator("#my-contributions li", has_text="Castañas asadas").first
    assert "New" in mine.inner_text()
    assert mine.locator("img").count() == 0, "hostile text was rendered as HTML"
    assert mine.locator('a[href="https://example.com/castanas"][rel~="nofollow"]').count() == 1
    tab.screenshot(path=str(ci_logs / screenshot_name(80, "portal-proposed")), full_page=True)

    # Lucía, in her own browser, turns it into a draft post.
    theirs = second_browser.new_page()
    sign_in(theirs, demo, COMMUNITY_MANAGER, password)
    theirs.goto(f"{demo.base_url}/contribute/queue/")
    item = theirs.locator("#queue li", has_text="Castañas asadas").first
    assert item.locator("img").count() == 0
    assert "Cada otoño nos lo preguntan." in item.inner_text()
    with theirs.expect_navigation():
        item.locator("button.make-draft").click()
    assert "/publish/posts/" in theirs.url and theirs.url.endswith("/edit/")
    assert theirs.locator("#compose-form textarea[name=text]").input_value() == HOSTILE
    assert theirs.locator(".guideline-links a", has_text="Voice and tone").count() == 1
    theirs.screenshot(path=str(ci_logs / screenshot_name(81, "portal-drafted")), full_page=True)

    # Jordi sees the answer and is notified.
    tab.goto(f"{demo.base_url}/contribute/")
    mine = tab.locator("#my-contributions li", has_text="Castañas asadas").first
    assert "Accepted" in mine.inner_text() and "draft post" in mine.inner_text()
    tab.goto(f"{demo.base_url}/inbox/notifications/")
    assert "is now a draft post" in tab.content()
    assert not dialogs, dialogs
    # The refused javascript: link answered 400 on purpose; nothing else may fail.
    unexpected = [e for e in log.errors if "status of 400" not in e or "/contribute/" not in e]
    assert not unexpected, unexpected
    assert len(log.errors) <= 1, log.errors
