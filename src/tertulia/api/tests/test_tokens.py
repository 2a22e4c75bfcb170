"""Token lifecycle: creation, storage, authentication, revocation, expiry, role ceiling."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tertulia.api.actions import (
    ScopeNotAllowed,
    TokenRefused,
    authenticate,
    create_token,
    revoke_token,
)
from tertulia.api.models import ApiToken
from tertulia.core.actions.organizations import deactivate_member
from tertulia.core.models import AuditEntry, Membership, Role

from .conftest import SYSTEM, Tenant

pytestmark = pytest.mark.django_db


def test_create_returns_plaintext_once_and_stores_only_a_digest(tenant: Tenant) -> None:
    token, plaintext = create_token(SYSTEM, tenant.owner, tenant.org, "ci", ["brands:read", "brands:read"])
    marker, prefix, secret = plaintext.split("_", 2)
    assert marker == "trt"
    assert prefix == token.prefix
    assert len(secret) >= 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.scopes == ["brands:read"]
    # The secret is nowhere in the row.
    assert all(secret not in str(getattr(stored, f.attname)) for f in ApiToken._meta.concrete_fields)


def test_creation_is_audited_without_the_secret(tenant: Tenant) -> None:
    token, plaintext = create_token(SYSTEM, tenant.owner, tenant.org, "ci", ["brands:read"])
    entry = AuditEntry.objects.get(action="api_token.create")
    assert entry.object_id == str(token.pk)
    assert entry.changes["prefix"] == [None, token.prefix]
    secret = plaintext.split("_", 2)[2]
    assert secret not in str(entry.changes) and secret not in entry.object_repr


def test_authenticate_accepts_the_token_and_refuses_forgeries(tenant: Tenant) -> None:
    token, plaintext = create_token(SYSTEM, tenant.owner, tenant.org, "ci", ["brands:read"])
    assert authenticate(plaintext) == token
    assert authenticate(plaintext + "x") is None
    assert authenticate(f"trt_{token.prefix}_wrongsecret") is None
    assert authenticate("trt_nope_" + plaintext.split("_", 2)[2]) is None
    assert authenticate("") is None
    assert authenticate("Bearer " + plaintext) is None
    assert authenticate("x" * 10_000) is None


def test_revoked_token_no_longer_authenticates(tenant: Tenant) -> None:
    token, plaintext = create_token(SYSTEM, tenant.owner, tenant.org, "ci", ["brands:read"])
    revoke_token(SYSTEM, token)
    revoke_token(SYSTEM, token)  # idempotent
    assert authenticate(plaintext) is None
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_expired_token_no_longer_authenticates(tenant: Tenant) -> None:
    token, plaintext = create_token(
        SYSTEM, tenant.owner, tenant.org, "ci", ["brands:read"], expires_at=timezone.now() + timedelta(days=1)
    )
    assert authenticate(plaintext) == token
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate(plaintext) is None


def test_expiry_must_be_in_the_future(tenant: Tenant) -> None:
    with pytest.raises(TokenRefused):
        create_token(
            SYSTEM,
            tenant.owner,
            tenant.org,
            "ci",
            ["brands:read"],
            expires_at=timezone.now() - timedelta(hours=1),
        )


def test_last_used_is_written_at_most_once_a_minute(tenant: Tenant) -> None:
    token, plaintext = create_token(SYSTEM, tenant.owner, tenant.org, "ci", ["brands:read"])
    assert token.last_used_at is None
    authenticate(plaintext)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    authenticate(plaintext)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recent
    old = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    authenticate(plaintext)
    refreshed = ApiToken.objects.get(pk=token.pk).last_used_at
    assert refreshed is not None and refreshed > old


def test_role_ceiling_refuses_scopes_the_role_cannot_use(tenant: Tenant) -> None:
    analyst = tenant.person(Role.ANALYST)
    with pytest.raises(ScopeNotAllowed, match="brands:write"):
        create_token(SYSTEM, analyst, tenant.org, "ci", ["brands:read", "brands:write"])
    token, _ = create_token(SYSTEM, analyst, tenant.org, "ci", ["brands:read", "contacts:read"])
    assert token.scopes == ["brands:read", "contacts:read"]


def test_unknown_and_empty_scopes_are_refused(tenant: Tenant) -> None:
    with pytest.raises(TokenRefused, match="Unknown scopes"):
        create_token(SYSTEM, tenant.owner, tenant.org, "ci", ["everything"])
    with pytest.raises(TokenRefused):
        create_token(SYSTEM, tenant.owner, tenant.org, "ci", [])


def test_only_members_get_tokens(tenant: Tenant, other: Tenant) -> None:
    with pytest.raises(TokenRefused):
        create_token(SYSTEM, other.owner, tenant.org, "ci", ["brands:read"])


def test_deactivated_member_tokens_stop_working(tenant: Tenant) -> None:
    cm = tenant.person(Role.COMMUNITY_MANAGER)
    _token, plaintext = create_token(SYSTEM, cm, tenant.org, "ci", ["brands:read"])
    assert authenticate(plaintext) is not None
    deactivate_member(SYSTEM, Membership.objects.get(user=cm, organization=tenant.org))
    assert authenticate(plaintext) is None


def test_inactive_user_tokens_stop_working(tenant: Tenant) -> None:
    cm = tenant.person(Role.COMMUNITY_MANAGER)
    _token, plaintext = create_token(SYSTEM, cm, tenant.org, "ci", ["brands:read"])
    cm.is_active = False
    cm.save()
    assert authenticate(plaintext) is None


def test_management_command_prints_a_working_token(tenant: Tenant) -> None:
    out = StringIO()
    call_command(
        "create_api_token", "--email", tenant.owner.email, "--organization", tenant.org.slug, stdout=out
    )
    plaintext = out.getvalue().strip()
    token = authenticate(plaintext)
    assert token is not None and "audit:read" in token.scopes
    with pytest.raises(CommandError):
        call_command(
            "create_api_token",
            "--email",
            tenant.person(Role.ANALYST).email,
            "--organization",
            tenant.org.slug,
            "--scope",
            "members:write",
        )
