"""E-mail: configuration from TERTULIA_SMTP_URL, the outbox without a server, and real SMTP (plain,
STARTTLS with sign-in, and TLS from the start) against aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import logging
import stat
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.mail import send_mail

from tertulia.config import (
    DEFAULT_EMAIL_FROM,
    ConfigError,
    SmtpSettings,
    load_config,
    parse_email_from,
    parse_smtp_url,
)
from tertulia.governance.mail import (
    EmailNotSent,
    OutboxBackend,
    describe_destination,
    one_line,
    send_email,
    smtp_problem,
)
from tertulia.governance.tests.conftest import SMTP_PASSWORD, SMTP_USER, StartSmtp, free_port

NAME = "TERTULIA_SMTP_URL"


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpSettings("mail.example.com", 25)),
        ("smtps://mail.example.com", SmtpSettings("mail.example.com", 465, use_ssl=True)),
        (
            "smtp://u:p@mail.example.com?starttls=true",
            SmtpSettings("mail.example.com", 587, "u", "p", use_starttls=True),
        ),
        (
            "SMTP://social%40example.com:p%3A%2Fw%40rd@Mail.Example.com:2525/?starttls=1&timeout=30",
            SmtpSettings(
                "mail.example.com", 2525, "social@example.com", "p:/w@rd", use_starttls=True, timeout=30
            ),
        ),
        ("smtps://u:@[::1]:1465", SmtpSettings("::1", 1465, "u", "", use_ssl=True)),
    ],
)
def test_smtp_urls_that_work(url: str, expected: SmtpSettings) -> None:
    assert parse_smtp_url(NAME, url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://u:hunter2@mail.example.com", "scheme 'http'"),
        ("mail.example.com:25", "scheme"),
        ("smtp://u:hunter2@", "no server name"),
        ("smtp://u:hunter2@mail.example.com:notaport", "invalid port"),
        ("smtp://u:hunter2@mail.example.com:99999", "invalid port"),
        ("smtp://u:hunter2@mail.example.com/inbox", "path"),
        ("smtp://u:hunter2@mail.example.com#x", "path"),
        ("smtp://u:hunter2@mail.example.com?tls=on", "unknown option 'tls'"),
        ("smtp://u:hunter2@mail.example.com?starttls=maybe", "not a boolean"),
        ("smtp://u:hunter2@mail.example.com?timeout=-3", "whole number"),
        ("smtps://u:hunter2@mail.example.com?starttls=true", "TLS already"),
        ("smtp://:hunter2@mail.example.com", "no user name"),
        ("smtp://u:hunter2@[::1", "not a valid URL"),
    ],
)
def test_a_malformed_smtp_url_is_a_clear_error_without_the_password(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url(NAME, url)
    message = str(caught.value)
    assert says in message
    assert NAME in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_an_empty_smtp_url_means_the_outbox() -> None:
    assert parse_smtp_url(NAME, "  ") is None
    assert parse_smtp_url(NAME, None) is None


def test_the_sender_is_required_with_a_server_and_checked(tmp_path: Path) -> None:
    base = {"TERTULIA_DATA_DIR": str(tmp_path), "TERTULIA_SECRET_KEY": "k"}
    assert load_config(base).email_from == DEFAULT_EMAIL_FROM
    assert load_config(base).smtp is None
    with pytest.raises(ConfigError, match="TERTULIA_EMAIL_FROM is not set"):
        load_config({**base, NAME: "smtp://mail.example.com"})
    config = load_config(
        {**base, NAME: "smtps://u:hunter2@mail.example.com", "TERTULIA_EMAIL_FROM": "S <s@x.org>"}
    )
    assert config.email_from == "S <s@x.org>"
    assert config.smtp is not None and config.smtp.password == "hunter2"
    # Printing the configuration (a debugger, a log line) never shows the password.
    assert "hunter2" not in repr(config)
    assert "hunter2" not in config.smtp.describe()
    assert config.smtp.describe() == "smtps://u@mail.example.com:465"
    assert config.outbox_path == tmp_path.resolve() / "outbox"


@pytest.mark.parametrize(
    "value",
    ["nobody", "@example.com", "Tertulia <>", "a b@example.com", "x@y.org\r\nBcc: evil@z.org", "x@y.org\x00"],
)
def test_a_bad_sender_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="TERTULIA_EMAIL_FROM"):
        parse_email_from("TERTULIA_EMAIL_FROM", value, required=True)


def test_the_settings_follow_the_configuration() -> None:
    # The test run has no TERTULIA_SMTP_URL: e-mails would go to the data directory's outbox.
    assert django_settings.CONFIG.smtp is None
    assert Path(django_settings.EMAIL_FILE_PATH) == django_settings.CONFIG.outbox_path
    assert django_settings.CONFIG.email_from == django_settings.DEFAULT_FROM_EMAIL
    assert ".eml files in" in describe_destination()


# --- the outbox ----------------------------------------------------------------------------------


def test_without_a_server_each_email_is_an_eml_file_only_its_owner_reads(tmp_path: Path, settings) -> None:
    settings.EMAIL_BACKEND = "tertulia.governance.mail.OutboxBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "outbox")
    settings.DEFAULT_FROM_EMAIL = "Tertulia <social@example.com>"
    send_email("ana@example.com", "Hola\r\nBcc: evil@example.com", "Cuerpo ñ 🧀\n")
    send_mail("Otro", "Dos", None, ["b@example.com", "c@example.com"])  # Django's own helper lands here too
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    parsed = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    first = next(m for m in parsed if m["To"] == "ana@example.com")
    assert first["Subject"] == "Hola Bcc: evil@example.com"  # one line: no header was injected
    assert first["Bcc"] is None
    assert first["From"] == "Tertulia <social@example.com>"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first.get_content() == "Cuerpo ñ 🧀\n"
    assert any(m["To"] == "b@example.com, c@example.com" for m in parsed)


def test_the_outbox_backend_sends_nothing_for_nothing(tmp_path: Path) -> None:
    backend = OutboxBackend(file_path=str(tmp_path / "o"))
    assert backend.send_messages([]) == 0


def test_one_line_drops_controls_bidi_overrides_and_zero_width() -> None:
    assert one_line("a\u202eb\u200bc\nd\x00e\tf") == "abc de f"
    assert one_line("x" * 300, 10) == "xxxxxxxxx…"


# --- a real SMTP server --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_email_arrives_at_a_real_smtp_server(smtp_server: StartSmtp) -> None:
    server = smtp_server()
    send_email(["ana@example.com"], "Invitación a 🧀 \u202eevil", "Hola, أهلا\n")
    assert len(server.messages) == 1
    arrived = server.messages[0]
    assert arrived.mail_from == "social@example.com"
    assert arrived.rcpt_tos == ["ana@example.com"]
    assert arrived.message["Subject"] == "Invitación a 🧀 evil"
    assert arrived.message.get_content().replace("\r\n", "\n") == "Hola, أهلا\n"


@pytest.mark.django_db
def test_starttls_and_sign_in_then_the_email_arrives(smtp_server: StartSmtp) -> None:
    server = smtp_server(tls="starttls", password=SMTP_PASSWORD)
    send_email("ana@example.com", "Con TLS", "Cuerpo\n")
    assert server.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert [m.rcpt_tos for m in server.messages] == [["ana@example.com"]]


@pytest.mark.django_db
def test_tls_from_the_start_smtps(smtp_server: StartSmtp) -> None:
    server = smtp_server(tls="smtps", password=SMTP_PASSWORD)
    send_email("ana@example.com", "SMTPS", "Cuerpo\n")
    assert [m.message["Subject"] for m in server.messages] == ["SMTPS"]


@pytest.mark.django_db
def test_a_refused_password_is_reported_without_the_password(
    smtp_server: StartSmtp, settings, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server(tls="starttls", password=SMTP_PASSWORD)
    settings.EMAIL_HOST_PASSWORD = "wrong-pass-0a9b8c"
    with caplog.at_level(logging.DEBUG), pytest.raises(EmailNotSent) as caught:
        send_email("ana@example.com", "No", "No\n")
    assert "user name or password" in caught.value.reason
    assert server.messages == []
    for secret in ("wrong-pass-0a9b8c", SMTP_PASSWORD):
        assert secret not in caught.value.reason
        assert secret not in caplog.text


@pytest.mark.django_db
def test_an_untrusted_certificate_is_refused(smtp_server: StartSmtp, monkeypatch: pytest.MonkeyPatch) -> None:
    server = smtp_server(tls="smtps")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent-ca.pem")  # the client no longer trusts the test CA
    with pytest.raises(EmailNotSent, match="TLS"):
        send_email("ana@example.com", "No", "No\n")
    assert server.messages == []


@pytest.mark.django_db
def test_no_server_listening_is_reported(smtp_server: StartSmtp, settings) -> None:
    smtp_server()
    settings.EMAIL_PORT = free_port()
    with pytest.raises(EmailNotSent, match=r"refused the connection|could not be reached"):
        send_email("ana@example.com", "No", "No\n")


# --- `tertulia check` ----------------------------------------------------------------------------


def _configured(settings, port: int, **extra: object) -> None:
    smtp = SmtpSettings("127.0.0.1", port, timeout=5, **extra)  # type: ignore[arg-type]  # a test passes a deliberately loose value
    settings.CONFIG = dataclasses.replace(django_settings.CONFIG, smtp=smtp, email_from="S <s@example.com>")


@pytest.mark.django_db
def test_the_check_signs_in_without_sending(smtp_server: StartSmtp, settings) -> None:
    server = smtp_server(tls="starttls", password=SMTP_PASSWORD)
    _configured(settings, server.port, username=SMTP_USER, password=SMTP_PASSWORD, use_starttls=True)
    assert smtp_problem() is None
    assert server.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert server.messages == []
    assert (
        describe_destination()
        == f"SMTP smtp://{SMTP_USER}@127.0.0.1:{server.port} with STARTTLS, from S <s@example.com>"
    )


@pytest.mark.django_db
def test_the_check_says_what_is_wrong_without_the_password(smtp_server: StartSmtp, settings) -> None:
    server = smtp_server(tls="smtps", password=SMTP_PASSWORD)
    _configured(settings, server.port, username=SMTP_USER, password="not-it-77", use_ssl=True)
    problem = smtp_problem()
    assert problem is not None
    assert "user name or password" in problem and "TERTULIA_SMTP_URL" in problem
    assert "not-it-77" not in problem
    _configured(settings, free_port())
    problem = smtp_problem()
    assert problem is not None and "connection" in problem


@pytest.mark.django_db
def test_password_reset_emails_go_through_the_same_server(smtp_server: StartSmtp) -> None:
    """allauth sends through Django's EMAIL_BACKEND: the settings here serve its e-mails too."""
    from django.test import Client
    from django.urls import reverse

    from tertulia.core.tests.factories import make_user

    server = smtp_server(tls="starttls", password=SMTP_PASSWORD)
    make_user("olvido@example.com")
    response = Client().post(reverse("account_reset_password"), {"email": "olvido@example.com"})
    assert response.status_code == 302
    assert [m.rcpt_tos for m in server.messages] == [["olvido@example.com"]]
    assert "/accounts/password/reset/key/" in server.messages[0].message.get_content()
