"""Security keys in a real browser: register one with Chromium's virtual authenticator (CDP WebAuthn
domain), then sign in with it as the second factor; allauth's WebAuthn scripts under Tertulia's CSP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.processes import run_tertulia, tertulia_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]


@pytest.fixture
def person(demo: Demo) -> tuple[str, str]:
    """A person of their own (not the demo login, which the other browser tests sign in with)."""
    email = f"keys-{secrets.token_hex(4)}@example.com"
    password = f"clave-{secrets.token_urlsafe(12)}"
    made = run_tertulia(
        "createadmin",
        "--email",
        email,
        "--organization",
        "Llaves de Prueba",
        "--password-stdin",
        env=tertulia_env(demo.data_dir),
        stdin=password + "\n",
    )
    assert made.returncode == 0, made.stderr[-2000:]
    return email, password


@pytest.fixture
def authenticator(page: Page) -> Iterator[Any]:
    """A virtual FIDO2 security key plugged into the tab (user presence and verification automatic)."""
    tab, _log = page
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    try:
        yield cdp, added["authenticatorId"]
    finally:
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": added["authenticatorId"]})
        cdp.detach()


def _sign_in(tab: Any, base: str, email: str, password: str) -> None:
    tab.goto(f"{base}/login/")
    tab.fill("#login-form input[name=login]", email)
    tab.fill("#login-form input[name=password]", password)
    with tab.expect_navigation():
        tab.click("#login-form button[type=submit]")


def test_register_a_security_key_and_sign_in_with_it(
    page: Page, authenticator: Any, demo: Demo, person: tuple[str, str], ci_logs: Path
) -> None:
    tab, log = page
    cdp, authenticator_id = authenticator
    email, password = person
    # WebAuthn needs a domain (not an IP address) as the relying party: localhost is a secure context.
    base = demo.base_url.replace("127.0.0.1", "localhost")
    _sign_in(tab, base, email, password)
    assert tab.locator("#main-nav").is_visible()

    # Adding a key asks for the password again first (allauth's reauthentication).
    tab.goto(f"{base}/accounts/2fa/webauthn/add/")
    if "/accounts/reauthenticate/" in tab.url:
        tab.fill("input[name=password]", password)
        with tab.expect_navigation():
            tab.click("main form button[type=submit]")
    assert "/accounts/2fa/webauthn/add/" in tab.url, tab.url
    tab.fill("input[name=name]", "Llave USB ✓")
    tab.screenshot(path=str(ci_logs / screenshot_name(40, "webauthn-add")), full_page=True)
    with tab.expect_navigation():
        tab.click("#mfa_webauthn_add")  # the key answers navigator.credentials.create()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1, "the page did not register a credential on the key"

    tab.goto(f"{base}/accounts/security/")
    assert tab.locator("#second-factor-status").inner_text().strip() == "On"
    assert "Llave USB ✓" in tab.locator("main").inner_text()
    events = tab.goto(f"{base}/accounts/organization/security/")
    assert events is not None and events.status == 200
    assert "person.second_factor_add" in tab.locator("#sign-in-events").inner_text()

    # Sign out, then in again: the password is not enough any more, the key is.
    tab.context.clear_cookies()
    _sign_in(tab, base, email, password)
    assert "/accounts/2fa/authenticate/" in tab.url, tab.url
    assert tab.locator("#main-nav").count() == 0
    tab.screenshot(path=str(ci_logs / screenshot_name(41, "webauthn-second-factor")), full_page=True)
    with tab.expect_navigation():
        tab.click("#mfa_webauthn_authenticate")  # navigator.credentials.get()
    tab.wait_for_load_state("load")
    assert tab.locator("#main-nav").is_visible(), tab.url
    assert any(c["name"] == "tertulia_session" for c in tab.context.cookies())
    used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert used[0]["signCount"] >= 1

    # allauth's WebAuthn scripts ran under the strict CSP without a single violation.
    assert not log.errors, f"the browser console reported errors: {log.errors}"
