"""E-mail settings as an operator meets them: a malformed TERTULIA_SMTP_URL stops every command with
one line (never the password), and `tertulia check` signs in to the real SMTP server and says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.process.test_configuration_errors import assert_one_line_error
from tests.processes import free_port, run_tertulia, tertulia_env

pytestmark = pytest.mark.slow

SECRET = "smtp-pw-5e1d0c"


@pytest.mark.parametrize(
    ("url", "must_mention"),
    [
        (f"http://u:{SECRET}@127.0.0.1:25", ("TERTULIA_SMTP_URL", "'http'", "smtps://")),
        (f"smtp://u:{SECRET}@127.0.0.1:notaport", ("TERTULIA_SMTP_URL", "port")),
        (f"smtp://u:{SECRET}@127.0.0.1:25?tls=yes", ("TERTULIA_SMTP_URL", "unknown option 'tls'")),
        (f"smtps://u:{SECRET}@127.0.0.1?starttls=true", ("TERTULIA_SMTP_URL", "TLS already")),
    ],
)
@pytest.mark.parametrize("command", ["check", "migrate"])
def test_a_malformed_smtp_url_stops_with_one_line(
    command: str, url: str, must_mention: tuple[str, ...], data_dir: Path
) -> None:
    env = tertulia_env(data_dir, TERTULIA_SMTP_URL=url, TERTULIA_EMAIL_FROM="Tertulia <s@example.com>")
    result = run_tertulia(command, env=env)
    line = assert_one_line_error(result, *must_mention)
    assert SECRET not in line and SECRET not in result.stdout


def test_a_server_without_a_sender_is_an_error(data_dir: Path) -> None:
    result = run_tertulia("check", env=tertulia_env(data_dir, TERTULIA_SMTP_URL="smtp://127.0.0.1:25"))
    assert_one_line_error(result, "TERTULIA_EMAIL_FROM")


class _Accept:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 that accepts user "tertulia" with SECRET."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword) and data.login == b"tertulia" and data.password == SECRET.encode()
        )
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        _Accept(), hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_check_signs_in_to_the_mail_server(smtp_port: int, data_dir: Path) -> None:
    sender = {"TERTULIA_EMAIL_FROM": "Tertulia <s@example.com>"}
    assert run_tertulia("migrate", env=tertulia_env(data_dir)).returncode == 0
    good = tertulia_env(
        data_dir, TERTULIA_SMTP_URL=f"smtp://tertulia:{SECRET}@127.0.0.1:{smtp_port}", **sender
    )
    result = run_tertulia("check", env=good)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if "e-mail" in line)
    assert "ok" in line and f"smtp://tertulia@127.0.0.1:{smtp_port}" in line
    bad = tertulia_env(
        data_dir, TERTULIA_SMTP_URL=f"smtp://tertulia:wrong-{SECRET}@127.0.0.1:{smtp_port}", **sender
    )
    result = run_tertulia("check", env=bad)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if "e-mail" in line)
    assert "FAIL" in line and "user name or password" in line
    assert SECRET not in result.stdout + result.stderr
