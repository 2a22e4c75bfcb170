"""Configuring an organization's single sign-on (owners and administrators), and domain verification
(the installation's operator)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.accounts.actions.policy import check_manager
from tertulia.accounts.models import JOIN_ROLES, SsoConnection, SsoDomain
from tertulia.accounts.sso import mark_verified, normalize_domain, seal_secret
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member
from tertulia.core.models import Membership, Organization, User

MAX_DOMAINS = 50


class SsoError(ValueError):
    """A configuration that cannot be saved; the message says why, fit to show."""


@dataclass(frozen=True)
class SsoSettings:
    name: str
    issuer: str
    client_id: str
    client_secret: str  # "" keeps the stored one (when there is one)
    domains: tuple[str, ...]
    enabled: bool = True
    sso_only: bool = False
    auto_join: bool = False
    join_role: str = JOIN_ROLES[0].value


def clean_issuer(value: str) -> str:
    """An https:// issuer without query or fragment (http:// only with TERTULIA_SSO_ALLOW_HTTP)."""
    issuer = value.strip()
    parts = urlsplit(issuer)
    allowed = {"https", "http"} if getattr(settings, "TERTULIA_SSO_ALLOW_HTTP", False) else {"https"}
    if parts.scheme not in allowed or not parts.hostname:
        raise SsoError(_("The issuer must be an https:// address, such as https://login.example.com."))
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SsoError(_("The issuer address cannot have a query, a fragment or a user name."))
    return issuer.rstrip("/") if parts.path not in ("", "/") else f"{parts.scheme}://{parts.netloc}"


def clean_domains(values: Iterable[str]) -> list[str]:
    found: list[str] = []
    for raw in values:
        if not raw.strip():
            continue
        domain = normalize_domain(raw)
        if not domain:
            raise SsoError(_("“%(value)s” is not a domain name.") % {"value": raw.strip()[:100]})
        if domain not in found:
            found.append(domain)
    if not found:
        raise SsoError(_("Give at least one e-mail domain, such as example.com."))
    if len(found) > MAX_DOMAINS:
        raise SsoError(_("At most %(n)d domains.") % {"n": MAX_DOMAINS})
    return found


def _printable_ascii(text: str) -> bool:
    return all(" " <= ch <= "~" for ch in text)


def _check(values: SsoSettings, existing: SsoConnection | None) -> tuple[str, list[str]]:
    issuer = clean_issuer(values.issuer)
    domains = clean_domains(values.domains)
    if not values.name.strip():
        raise SsoError(_("Give the button a name, such as “Acme login”."))
    if not values.client_id.strip():
        raise SsoError(_("The client id is missing."))
    if not values.client_secret and existing is None:
        raise SsoError(_("The client secret is missing."))
    # OAuth 2.0 client credentials are printable ASCII (RFC 6749, appendix A): anything else is a
    # copy-and-paste accident, and could not be sent in an Authorization header anyway.
    if not _printable_ascii(values.client_id.strip()) or not _printable_ascii(values.client_secret):
        raise SsoError(_("Client ids and secrets are printable ASCII only: copy them from your provider."))
    if values.join_role not in {role.value for role in JOIN_ROLES}:
        raise SsoError(_("People who join on their own cannot get that role."))
    return issuer, domains


@transaction.atomic
def save_connection(actor: Actor, organization: Organization, values: SsoSettings) -> SsoConnection:
    """Create or update the organization's connection. Audited (`sso.create` / `sso.update`), the secret
    as "changed" only. New domains start unverified."""
    check_manager(actor, organization)
    existing = SsoConnection.objects.select_for_update().filter(organization=organization).first()
    issuer, domains = _check(values, existing)
    taken = (
        SsoDomain.objects.filter(domain__in=domains)
        .exclude(connection__organization=organization)
        .values_list("domain", flat=True)
    )
    if taken:
        raise SsoError(
            _("%(domain)s is already covered by another organization's single sign-on.")
            % {"domain": sorted(taken)[0]}
        )
    connection = existing or SsoConnection(
        organization=organization, provider_id=f"org-{secrets.token_hex(6)}"
    )
    fields = {
        "name": values.name.strip()[:80],
        "issuer": issuer,
        "client_id": values.client_id.strip()[:255],
        "enabled": values.enabled,
        "sso_only": values.sso_only,
        "auto_join": values.auto_join,
        "join_role": values.join_role,
    }
    changes: dict[str, list[object]] = {}
    for field, new in fields.items():
        old = getattr(connection, field) if existing else None
        if old != new:
            changes[field] = [old, new]
            setattr(connection, field, new)
    if existing and "issuer" in changes:
        # Subject ids are only unique per issuer: links made through the old one must not carry over.
        from allauth.socialaccount.models import SocialAccount

        dropped, _n = SocialAccount.objects.filter(provider=connection.provider_id).delete()
        changes["linked_people"] = [dropped, 0]
    if values.client_secret:
        seal_secret(connection, values.client_secret)
        changes["client_secret"] = ["…" if existing else None, "…"]  # never the secret
    connection.save()
    before = set(connection.domains.values_list("domain", flat=True))
    removed = before - set(domains)
    added = [d for d in domains if d not in before]
    connection.domains.filter(domain__in=removed).delete()
    SsoDomain.objects.bulk_create([SsoDomain(connection=connection, domain=d) for d in added])
    if added or removed:
        changes["domains"] = [sorted(before), sorted(domains)]
    if changes:
        record(actor, organization, "sso.update" if existing else "sso.create", connection, changes)
    return connection


@transaction.atomic
def delete_connection(actor: Actor, organization: Organization) -> bool:
    """Remove the connection, its domains and the links people had to it. Audited (`sso.delete`)."""
    from allauth.socialaccount.models import SocialAccount

    check_manager(actor, organization)
    connection = SsoConnection.objects.filter(organization=organization).first()
    if connection is None:
        return False
    links, _n = SocialAccount.objects.filter(provider=connection.provider_id).delete()
    record(
        actor,
        organization,
        "sso.delete",
        connection,
        {"issuer": [connection.issuer, None], "linked_people": [links, 0]},
    )
    connection.delete()
    return True


@transaction.atomic
def verify_domain(actor: Actor, domain: str) -> SsoDomain:
    """The operator vouches that the organization claiming `domain` controls it (`sso.domain_verify`)."""
    name = normalize_domain(domain)
    found = SsoDomain.objects.select_related("connection__organization").filter(domain=name).first()
    if found is None:
        raise SsoError(_("No organization claims %(domain)s.") % {"domain": domain[:100]})
    if not found.is_verified:
        mark_verified(found, actor.label)
        record(
            actor,
            found.connection.organization,
            "sso.domain_verify",
            found.connection,
            {"domain": [None, found.domain]},
        )
    return found


@transaction.atomic
def unverify_domain(actor: Actor, domain: str) -> SsoDomain:
    name = normalize_domain(domain)
    found = SsoDomain.objects.select_related("connection__organization").filter(domain=name).first()
    if found is None:
        raise SsoError(_("No organization claims %(domain)s.") % {"domain": domain[:100]})
    if found.is_verified:
        found.verified_at = None
        found.verified_by = ""
        found.save(update_fields=["verified_at", "verified_by"])
        record(
            actor,
            found.connection.organization,
            "sso.domain_unverify",
            found.connection,
            {"domain": [found.domain, None]},
        )
    return found


@transaction.atomic
def join_through_sso(actor: Actor, user: User, connection_id: int) -> Membership | None:
    """Someone `sso.admit` let join on their own: a membership with the connection's role (audited as
    `member.add` by `add_member`, plus `sso.join`). Nothing if they are a member already."""
    connection = SsoConnection.objects.select_related("organization").filter(pk=connection_id).first()
    if connection is None or not connection.auto_join:
        return None
    organization = connection.organization
    if Membership.objects.filter(organization=organization, user=user).exists():
        return None
    member = add_member(
        Actor.system(f"single sign-on ({connection.name})"), organization, user, connection.join_role
    )
    record(actor, organization, "sso.join", member, {"role": [None, connection.join_role]})
    return member
