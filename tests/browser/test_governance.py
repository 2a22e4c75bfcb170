"""Invitations and offboarding in real browsers against `tertulia demo`: an owner invites someone by
e-mail (the demo has no mail server, so the e-mail is an .eml file in the data directory's outbox),
the person accepts in a browser of their own and works; then the owner offboards them, and their
browser is signed out at once."""

from __future__ import annotations

import re
import secrets
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.processes import run_tertulia, tertulia_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]
HOSTILE_NAME = "<b>Invitada</b> \u202eRTL\u202c ze\u200bro 🧀"


@pytest.fixture
def owner(demo: Demo) -> tuple[str, str]:
    """An owner of an organization of their own (the other browser tests use the demo login)."""
    email = f"gov-{secrets.token_hex(4)}@example.com"
    password = f"clave-{secrets.token_urlsafe(12)}"
    made = run_tertulia(
        "createadmin",
        "--email",
        email,
        "--organization",
        "Gobierno de Prueba",
        "--password-stdin",
        env=tertulia_env(demo.data_dir),
        stdin=password + "\n",
    )
    assert made.returncode == 0, made.stderr[-2000:]
    return email, password


def sign_in(tab: Any, base: str, email: str, password: str) -> None:
    tab.goto(f"{base}/login/")
    tab.fill("#login-form input[name=login]", email)
    tab.fill("#login-form input[name=password]", password)
    with tab.expect_navigation():
        tab.click("#login-form button[type=submit]")


def invitation_link(outbox: Path, to: str, timeout: float = 30) -> str:
    """The link in the newest e-mail to `to` in the outbox (written by the web process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml"), reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == to:
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                found = re.search(r"https?://\S+/invitation/[A-Za-z0-9_-]+/", body.get_content())
                assert found is not None, body.get_content()
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {to} in {outbox}")


def test_invite_accept_in_another_browser_then_offboard_signs_them_out(
    page: Page, second_browser: Any, demo: Demo, owner: tuple[str, str], ci_logs: Path
) -> None:
    tab, log = page
    email, password = owner
    invitee = f"invitada-{secrets.token_hex(4)}@example.com"

    # The owner invites someone from the Team page.
    sign_in(tab, demo.base_url, email, password)
    tab.goto(f"{demo.base_url}/team/")
    tab.fill("#invite-form input[name=email]", invitee)
    tab.select_option("#invite-form select[name=role]", "community_manager")
    with tab.expect_navigation():
        tab.click("#invite-form button[type=submit]")
    tab.wait_for_selector(f"#invitations tr:has-text('{invitee}')")
    assert "temporary-password" not in tab.content()
    tab.screenshot(path=str(ci_logs / screenshot_name(60, "governance-invited")), full_page=True)

    # The e-mail: no mail server in the demo, so it is a file only its owner can read.
    outbox = demo.data_dir / "outbox"
    link = invitation_link(outbox, invitee)
    assert link.startswith(demo.base_url)
    assert oct(outbox.stat().st_mode & 0o777) == "0o700"

    # The person accepts in a browser of their own, choosing their password.
    theirs = second_browser.new_page()
    theirs_errors: list[str] = []
    theirs.on("pageerror", lambda error: theirs_errors.append(str(error)))
    theirs.goto(link)
    theirs.fill("#invitation-form input[name=display_name]", HOSTILE_NAME)
    theirs.fill("#invitation-form input[name=password1]", "una clave bastante larga 42")
    theirs.fill("#invitation-form input[name=password2]", "una clave bastante larga 42")
    with theirs.expect_navigation():
        theirs.click("#invitation-form button[type=submit]")
    assert "/login/" not in theirs.url
    theirs.goto(f"{demo.base_url}/team/")
    assert "/login/" not in theirs.url
    assert "Gobierno de Prueba" in theirs.content()
    theirs.screenshot(path=str(ci_logs / screenshot_name(61, "governance-joined")), full_page=True)
    # The link worked once.
    again = second_browser.new_page()
    response = again.goto(link)
    assert response is not None and response.status == 410
    again.close()

    # The owner offboards them: the preview first, then the confirmation.
    tab.goto(f"{demo.base_url}/team/")
    row = tab.locator("tr", has_text=invitee)
    assert row.locator("b").count() == 0, "a name was rendered as HTML"
    with tab.expect_navigation():
        row.locator("a.offboard-link").click()
    assert tab.locator("#offboard-access").is_visible()
    tab.screenshot(path=str(ci_logs / screenshot_name(62, "governance-offboard-preview")), full_page=True)
    with tab.expect_navigation():
        tab.click("#offboard-form button[type=submit]")
    heading = tab.locator("#offboarded-heading").inner_text()
    assert "Invitada" in heading and "<b>" in heading  # the name shown as typed, as text
    assert tab.locator("#offboarded-heading b").count() == 0
    assert "1 session" in tab.locator("#done-access").inner_text()
    tab.screenshot(path=str(ci_logs / screenshot_name(63, "governance-offboarded")), full_page=True)

    # The access review lists them as inactive; its CSV and the coverage page open.
    tab.goto(f"{demo.base_url}/team/access/?state=")
    row = tab.locator("#access-table tr", has_text=invitee)
    assert "Inactive" in row.inner_text()
    assert tab.locator("#access-table b").count() == 0
    tab.screenshot(path=str(ci_logs / screenshot_name(64, "governance-access-review")), full_page=True)
    with tab.expect_download() as download:
        tab.click("#access-csv")
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert invitee in csv_text and "'<b>" not in csv_text
    tab.goto(f"{demo.base_url}/team/coverage/")
    assert tab.locator("#coverage-status").is_visible()
    tab.screenshot(path=str(ci_logs / screenshot_name(65, "governance-coverage")), full_page=True)

    # Their browser is signed out: the next page they open is the sign-in page.
    theirs.goto(f"{demo.base_url}/team/")
    assert theirs.url.startswith(f"{demo.base_url}/login/")
    theirs.goto(f"{demo.base_url}/inbox/")
    assert theirs.url.startswith(f"{demo.base_url}/login/")
    theirs.close()
    assert not theirs_errors
    assert not [e for e in log.errors if "favicon" not in e], log.errors
