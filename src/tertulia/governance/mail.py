"""E-mail for every app: one small sending helper, and the outbox used when there is no SMTP server.

Where e-mail goes is configured once (`tertulia.config`, docs/operations.md#e-mail):

- `TERTULIA_SMTP_URL` set: Django's SMTP backend (`smtps://` for TLS, `?starttls=true` to upgrade);
- unset: `OutboxBackend` writes each e-mail as an `.eml` file into the data directory's `outbox/`,
  so the demo and a one-person install work without a mail server (open the file in any mail program).

Everything that sends goes through Django's `EMAIL_BACKEND`, so allauth's e-mails (password reset,
sign-in codes) and `send_email` below end up in the same place.

Use `send_email(to, subject, body)`: plain text, one line of subject (names people typed cannot add
headers or flip the text direction), and `EmailNotSent` with a reason fit to show when the server
refuses or cannot be reached. Nothing here ever logs or repeats the SMTP password.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend as FileBasedBackend
from django.core.mail.message import EmailMessage as MessageType

logger = logging.getLogger(__name__)

MAX_SUBJECT = 200


class EmailNotSent(Exception):
    """The e-mail could not be handed to the server; `reason` says why (never with a password)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """`text` safe for a header or a line of plain text: control and format characters dropped (the
    bidirectional overrides that would reverse what follows, zero-width ones, NUL), every run of
    whitespace (line breaks too) one space, at most `limit` characters."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in str(text)
        if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf"}
    )
    line = " ".join(kept.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def send_email(
    to: str | Sequence[str],
    subject: str,
    body: str,
    *,
    reply_to: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> None:
    """Send a plain-text e-mail from `DEFAULT_FROM_EMAIL` (TERTULIA_EMAIL_FROM), or raise `EmailNotSent`."""
    recipients = [to] if isinstance(to, str) else list(to)
    message = EmailMessage(
        subject=one_line(subject),
        body=body.replace("\x00", ""),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=list(reply_to),
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError, ssl.SSLError, ValueError) as exc:
        reason = describe_failure(exc)
        # The reason names the server and what it said; the SMTP password is never part of it.
        logger.warning("e-mail to %d recipient(s) not sent: %s", len(recipients), reason)
        raise EmailNotSent(reason) from None


def describe_failure(exc: BaseException) -> str:
    """A one-line reason for an SMTP failure, without credentials (server replies are kept short)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the mail server refused the user name or password (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the mail server refused the recipient address"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "the mail server refused the sender address (TERTULIA_EMAIL_FROM)"
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
        return one_line(f"the mail server answered {exc.smtp_code} {said}", 200)
    if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        return one_line(f"TLS with the mail server failed ({exc.__class__.__name__})", 200)
    if isinstance(exc, socket.timeout | TimeoutError):
        return "the mail server did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "the mail server refused the connection"
    if isinstance(exc, OSError):
        return one_line(f"the mail server could not be reached ({exc.strerror or exc.__class__.__name__})")
    return one_line(f"the e-mail could not be sent ({exc.__class__.__name__})")


def describe_destination() -> str:
    """Where e-mail goes, for `tertulia check` and the docs' examples (never with the password)."""
    config = settings.CONFIG
    if config.smtp is not None:
        return f"SMTP {config.smtp.describe()}, from {config.email_from}"
    return f".eml files in {config.outbox_path} (TERTULIA_SMTP_URL is not set)"


def smtp_problem() -> str | None:
    """Connect to the configured SMTP server, say hello, upgrade and sign in, without sending anything.

    None when it all works (or when there is no SMTP server: the outbox needs none); otherwise why not.
    """
    smtp = settings.CONFIG.smtp
    if smtp is None:
        return None
    client: smtplib.SMTP | None = None
    try:
        if smtp.use_ssl:
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        client.ehlo()
        if smtp.use_starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return f"{describe_failure(exc)}: check TERTULIA_SMTP_URL ({smtp.describe()})"
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return None


class OutboxBackend(FileBasedBackend):
    """Django's file-based backend, one standard `.eml` file per e-mail, readable by its owner only
    (an invitation e-mail holds a sign-up link)."""

    file_path: str  # set by Django's __init__: EMAIL_FILE_PATH, made absolute

    def send_messages(self, email_messages: Sequence[MessageType]) -> int:
        if not email_messages:
            return 0
        folder = Path(self.file_path)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # e-mails hold sign-up links: nobody else on the machine reads them
        sent = 0
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
                path = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(message.message().as_bytes())
                sent += 1
        return sent

    def open(self) -> Any:
        return False  # each e-mail opens its own file

    def close(self) -> None:
        return None
