"""Per-organization OpenID Connect single sign-on on top of allauth's `openid_connect` provider.

Each `SsoConnection` becomes an (unsaved) allauth `SocialApp` whose `provider_id` is the
connection's; allauth runs the protocol (discovery, PKCE, code exchange, ID token checks). This
module decides where an address signs in, builds those apps, and says who an SSO sign-in may be
(`admit`), see docs/security.md#single-sign-on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from tertulia.accounts.models import SsoConnection, SsoDomain
from tertulia.core.models import Membership, Organization, User
from tertulia.vault.crypto import Sealed, seal, unseal
from tertulia.vault.keys import load_keyring

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialApp

PROVIDER = "openid_connect"


def normalize_domain(value: str) -> str:
    """`Example.COM.` → `example.com` (IDNA for non-ASCII names); '' when it is not a domain name."""
    text = value.strip().lower().rstrip(".")
    if text.startswith("@"):
        text = text[1:]
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2:
        return ""
    for label in labels:
        if not label or len(label) > 63 or label.startswith("-") or label.endswith("-"):
            return ""
        if not all(ch.isalnum() or ch == "-" for ch in label):
            return ""
    return ascii_name


def email_domain(email: str) -> str:
    _local, at, domain = email.strip().rpartition("@")
    return normalize_domain(domain) if at else ""


# --- the client secret, sealed by the vault ------------------------------------------------------


def _aad(organization_id: int, provider_id: str) -> bytes:
    return f"tertulia:sso:{organization_id}:{provider_id}".encode()


def seal_secret(connection: SsoConnection, secret: str) -> None:
    """Put `secret` on `connection` sealed (not saved)."""
    sealed = seal(
        json.dumps({"client_secret": secret}).encode(),
        _aad(connection.organization_id, connection.provider_id),
        load_keyring(),
    )
    connection.key_id = sealed.key_id
    connection.wrapped_key = sealed.wrapped_key
    connection.nonce = sealed.nonce
    connection.ciphertext = sealed.ciphertext


def sealed_of(connection: SsoConnection) -> Sealed:
    return Sealed(
        connection.key_id,
        bytes(connection.wrapped_key),
        bytes(connection.nonce),
        bytes(connection.ciphertext),
    )


def aad_of(connection: SsoConnection) -> bytes:
    return _aad(connection.organization_id, connection.provider_id)


def client_secret(connection: SsoConnection) -> str:
    opened = json.loads(unseal(sealed_of(connection), aad_of(connection), load_keyring()))
    return str(opened["client_secret"])


# --- where an address signs in ---------------------------------------------------------------


def verified_domain(email: str) -> SsoDomain | None:
    """The verified domain of an enabled connection that covers `email`, if any."""
    domain = email_domain(email)
    if not domain:
        return None
    return (
        SsoDomain.objects.filter(domain=domain, verified_at__isnull=False, connection__enabled=True)
        .select_related("connection", "connection__organization")
        .first()
    )


def connection_for_email(email: str) -> SsoConnection | None:
    found = verified_domain(email)
    return found.connection if found else None


def password_refused(email: str) -> bool:
    """True when `email` must sign in through its organization's SSO (password sign-in refused)."""
    connection = connection_for_email(email)
    return connection is not None and connection.sso_only


def is_usable(connection: SsoConnection) -> bool:
    return connection.enabled and connection.domains.filter(verified_at__isnull=False).exists()


def start_url(connection: SsoConnection, next_path: str = "") -> str:
    """The page with the button that starts this connection's sign-in (a POST: allauth's rule)."""
    url = reverse("accounts:sso-start", args=[connection.provider_id])
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def invitation_sign_in_url(organization: Organization, next_path: str) -> str | None:
    """Where a person invited to `organization` signs in if it uses SSO (tertulia.governance.sso)."""
    connection = SsoConnection.objects.filter(organization=organization).first()
    if connection is None or not is_usable(connection):
        return None
    return start_url(connection, next_path)


# --- allauth apps ------------------------------------------------------------------------------


def social_app(connection: SsoConnection) -> SocialApp:
    """An unsaved allauth app for `connection` (allauth accepts apps that live outside its table)."""
    from allauth.socialaccount.models import SocialApp

    return SocialApp(
        provider=PROVIDER,
        provider_id=connection.provider_id,
        name=connection.name,
        client_id=connection.client_id,
        secret=client_secret(connection),
        settings={
            "server_url": connection.issuer,
            "oauth_pkce_enabled": True,
            # Who the person is comes from `admit`, never from allauth's e-mail matching.
            "email_authentication": False,
            "verified_email": False,
        },
    )


def social_apps(provider: str | None = None, client_id: str | None = None) -> list[SocialApp]:
    connections = SsoConnection.objects.filter(enabled=True)
    if provider and provider != PROVIDER:
        connections = connections.filter(provider_id=provider)
    if client_id:
        connections = connections.filter(client_id=client_id)
    return [social_app(connection) for connection in connections.order_by("pk")]


# --- who an SSO sign-in may be ------------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    """The outcome of `admit`: `user` (None: a new account) or `refusal` (a reason to show)."""

    connection: SsoConnection
    email: str
    user: User | None = None
    join: bool = False  # make a membership with `connection.join_role` after sign-in
    refusal: str = ""


def has_open_invitation(organization: Organization, email: str) -> bool:
    """An open, unexpired invitation to `organization` for `email` (tertulia.governance), if installed."""
    if not apps.is_installed("tertulia.governance"):
        return False
    invitation = apps.get_model("governance", "Invitation")
    return bool(
        invitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).exists()
    )


def is_member(organization: Organization, user: User) -> bool:
    return Membership.objects.filter(organization=organization, user=user, is_active=True).exists()


def admit(connection: SsoConnection, linked_user: User | None, email: str, email_verified: bool) -> Admission:
    """Decide who a sign-in through `connection` is, or why it is refused.

    - Already linked to this connection (same subject at this provider): that person, while they
      are an active member of the organization or invited to it.
    - Otherwise the provider's address must be in one of the connection's verified domains, and
      not marked unverified by the provider. Then the account with that address (or a new one) is
      used if the person is an active member or invited, or if the connection lets people from its
      domains join on their own.
    """
    from django.utils.translation import gettext as _

    organization = connection.organization
    refused = _(
        "Your organization's sign-in service vouched for you, but you are not a member of %(org)s in "
        "Tertulia and have no invitation. Ask one of its administrators to invite you."
    ) % {"org": organization.name}
    if linked_user is not None:
        if is_member(organization, linked_user) or has_open_invitation(organization, linked_user.email):
            return Admission(connection, linked_user.email, user=linked_user)
        return Admission(connection, linked_user.email, user=linked_user, refusal=refused)
    address = User.objects.normalize_email(email or "").strip().lower()
    domain = email_domain(address)
    covered = (
        connection.domains.filter(domain=domain, verified_at__isnull=False).exists() if domain else False
    )
    if not covered:
        return Admission(
            connection,
            address,
            refusal=_(
                "Your organization's sign-in service gave an e-mail address (%(email)s) outside the "
                "domains it covers in Tertulia, so it cannot sign you in."
            )
            % {"email": address or "—"},
        )
    if not email_verified:
        return Admission(
            connection,
            address,
            refusal=_("Your organization's sign-in service says your e-mail address is not verified."),
        )
    user = User.objects.filter(email__iexact=address).first()
    if user is not None and not user.is_active:
        return Admission(connection, address, user=user, refusal=_("This account is inactive."))
    if user is not None and is_member(organization, user):
        return Admission(connection, address, user=user)
    if has_open_invitation(organization, address):
        return Admission(connection, address, user=user)
    removed = user is not None and Membership.objects.filter(organization=organization, user=user).exists()
    if connection.auto_join and not removed:
        return Admission(connection, address, user=user, join=True)
    return Admission(connection, address, user=user, refusal=refused)


def mark_verified(domain: SsoDomain, label: str) -> None:
    domain.verified_at = timezone.now()
    domain.verified_by = label[:255]
    domain.save(update_fields=["verified_at", "verified_by"])
