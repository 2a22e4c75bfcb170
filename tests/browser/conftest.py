"""A running `tertulia demo` and Debian's chromium driven by Playwright (sync API).

`playwright install` cannot download a browser here, so Playwright drives the
system chromium (`apt-get install chromium`; .ci/run installs it). Without it these
tests skip, so the README's test command still passes on a machine without one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import TertuliaProcess, free_port, tertulia_env

CHROMIUM = Path("/usr/bin/chromium")

# Headless, and nothing that phones home: this machine has no route out, and chromium's
# background services would otherwise fill the log with refused connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",  # talk to 127.0.0.1 directly even if http_proxy is set
]

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


@dataclass(frozen=True)
class Demo:
    base_url: str
    email: str
    password: str
    process: TertuliaProcess
    data_dir: Path


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, ci_logs: Path) -> Iterator[Demo]:
    """`tertulia demo` on a free port, in a fresh data directory, embedded profile."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    port = free_port()
    process = TertuliaProcess(
        ["demo", "--port", str(port), "--data-dir", str(data_dir)],
        tertulia_env(data_dir),
        ci_logs / "demo.log",
    )
    try:
        email = process.wait_for_output(r"^\s+e-mail:\s+(\S+)\s*$", timeout=180).group(1)
        password = process.wait_for_output(r"^\s+password:\s+(\S+)\s*$", timeout=10).group(1)
        base_url = f"http://127.0.0.1:{port}"
        process.wait_healthy(base_url, timeout=60)
        yield Demo(base_url, email, password, process, data_dir)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Any]:
    """Playwright, started once: sync_playwright cannot be started twice in one thread."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory, playwright_session: Any) -> Iterator[Any]:
    """One chromium for the session, with a fresh profile (a persistent context owns its user-data-dir)."""
    context = playwright_session.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def second_browser(playwright_session: Any) -> Iterator[Any]:
    """Another person's browser: a separate chromium with cookies of its own (tests with two people)."""
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()
        browser.close()


@dataclass
class ConsoleLog:
    """Errors the page reported: console.error calls and uncaught exceptions."""

    errors: list[str]


@pytest.fixture
def page(browser_context: Any, demo: Demo) -> Iterator[tuple[Any, ConsoleLog]]:
    """A new tab, signed out, recording console errors."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    log = ConsoleLog(errors=[])
    tab.on(
        "console",
        lambda message: (
            log.errors.append(f"{message.text} at {message.location}") if message.type == "error" else None
        ),
    )
    tab.on("pageerror", lambda error: log.errors.append(f"uncaught: {error}"))
    try:
        yield tab, log
    finally:
        tab.close()


def screenshot_name(index: int, label: str) -> str:
    return f"{index:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}.png"
