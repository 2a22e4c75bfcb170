"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the e-mail tests, with TLS and sign-in when asked.

Nothing is mocked: Django's SMTP backend (or `tertulia check`'s probe) talks SMTP to it over a real
socket, TLS with a certificate issued for 127.0.0.1 by a throwaway authority that the test trusts
through SSL_CERT_FILE, and the server keeps what arrived.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tertulia.core.models import Brand, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user

SMTP_USER = "tertulia@mail.test"
SMTP_PASSWORD = "smtp-secret-9f2c41e7"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Arrived:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    port: int
    messages: list[Arrived] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def handle(self, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Arrived(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.server.handle(envelope)
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class TestAuthority:
    ca_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="session")
def tls_authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    """A certificate authority made for this run, and a server certificate for 127.0.0.1 it signed."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tertulia test mail CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file = folder / "server.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = folder / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return TestAuthority(ca_file=ca_file, server_context=context)


StartSmtp = Callable[..., SmtpServer]


@pytest.fixture
def smtp_server(
    tls_authority: TestAuthority, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> Iterator[StartSmtp]:
    """Start a real SMTP server and point Django's e-mail settings at it.

    `tls`: None (plain), "starttls" (upgrade required) or "smtps" (TLS from the start);
    `password`: require AUTH with SMTP_USER and this password (only after TLS).
    """
    controllers: list[Controller] = []

    def start(*, tls: str | None = None, password: str | None = None) -> SmtpServer:
        server = SmtpServer(port=free_port())

        def authenticate(
            smtp: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            assert isinstance(data, LoginPassword)
            login, given = data.login.decode(), data.password.decode()
            server.logins.append((login, given))
            return AuthResult(success=login == SMTP_USER and given == password, handled=False)

        options: dict[str, Any] = {}
        if tls == "smtps":
            options["ssl_context"] = tls_authority.server_context
        elif tls == "starttls":
            options.update(tls_context=tls_authority.server_context, require_starttls=True)
        if password is not None:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; smtps:// is TLS from the first byte anyway.
            options.update(authenticator=authenticate, auth_require_tls=tls == "starttls")
        else:
            options.update(auth_require_tls=False)
        controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port, **options)
        controller.start()
        controllers.append(controller)
        # The client trusts the test authority, as an operator's machine trusts a real one.
        monkeypatch.setenv("SSL_CERT_FILE", str(tls_authority.ca_file))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_SSL = tls == "smtps"
        settings.EMAIL_USE_TLS = tls == "starttls"
        settings.EMAIL_HOST_USER = SMTP_USER if password is not None else ""
        settings.EMAIL_HOST_PASSWORD = password or ""
        settings.EMAIL_TIMEOUT = 10
        settings.DEFAULT_FROM_EMAIL = "Tertulia <social@example.com>"
        return server

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()


# --- an organization to govern --------------------------------------------------------------------


@dataclass
class Team:
    org: Organization
    owner: User
    admin: User
    brand: Brand
    other_brand: Brand


@pytest.fixture
def team(db: None) -> Team:
    owner = make_user("duena@example.com", display_name="Dueña")
    org = make_org("Gobierno SA", owner=owner)
    admin = make_member(org, Role.ADMIN, email="admin@example.com", display_name="Admin")
    return Team(
        org=org, owner=owner, admin=admin, brand=make_brand(org, "Marca"), other_brand=make_brand(org, "Otra")
    )
