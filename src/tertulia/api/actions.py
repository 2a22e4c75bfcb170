"""Business logic for API tokens: create, revoke, authenticate.

The plaintext of a token exists only in the return value of `create_token`;
nothing here logs it, audits it or stores it. What is kept is its public
prefix and the SHA-256 digest of its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.api.models import ApiToken
from tertulia.api.scopes import ALL_SCOPES, allowed_scopes
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Organization, User
from tertulia.core.permissions import membership, permissions_of

TOKEN_PREFIX = "trt"  # noqa: S105 - a public marker, not a secret
# Tokens are `trt_<prefix>_<secret>`: the prefix is hex (no underscore), so the
# first two underscores split the parts even though the secret may contain one.
_PREFIX_BYTES = 6
_SECRET_BYTES = 32
_MAX_RAW_LENGTH = 200
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(ValueError):
    """A token cannot be created as asked; the message says why."""


class ScopeNotAllowed(TokenRefused):
    """The owner's role does not grant a requested scope."""


class TokenInvalid(Exception):
    """A presented token does not authenticate; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Authenticated:
    token: ApiToken
    member: Membership


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_prefix() -> str:
    while True:
        prefix = secrets.token_hex(_PREFIX_BYTES)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            return prefix


def _clean_scopes(scopes: Iterable[str], member: Membership | None) -> list[str]:
    wanted = sorted(set(scopes))
    if not wanted:
        raise TokenRefused(_("Choose at least one scope."))
    unknown = [s for s in wanted if s not in ALL_SCOPES]
    if unknown:
        raise TokenRefused(
            _("Unknown scopes: %(unknown)s. Known scopes: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(ALL_SCOPES)}
        )
    permitted = set(allowed_scopes(permissions_of(member)))
    beyond = [s for s in wanted if s not in permitted]
    if beyond:
        raise ScopeNotAllowed(
            _("Your role does not allow these scopes: %(scopes)s.") % {"scopes": ", ".join(beyond)}
        )
    return wanted


@transaction.atomic
def create_token(
    actor: Actor,
    user: User,
    organization: Organization,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for `user` in `organization`; return it and its plaintext (shown once)."""
    member = membership(user, organization)
    if member is None:
        raise TokenRefused(_("Only active members of the organization can have API tokens."))
    clean_scopes = _clean_scopes(scopes, member)
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= timezone.now():
            raise TokenRefused(_("The expiry date must be in the future."))
    prefix = _new_prefix()
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    token = ApiToken(
        user=user,
        organization=organization,
        name=name,
        prefix=prefix,
        digest=digest_of(secret),
        scopes=clean_scopes,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    record(
        actor,
        organization,
        "api_token.create",
        token,
        {
            "name": [None, name],
            "owner": [None, user.email],
            "prefix": [None, prefix],
            "scopes": [None, clean_scopes],
            "expires_at": [None, expires_at],
        },
    )
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def revoke_token(actor: Actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, token.organization, "api_token.revoke", token, {"revoked_at": [None, token.revoked_at]})
    return token


def _parse(raw: str) -> tuple[str, str] | None:
    if len(raw) > _MAX_RAW_LENGTH:
        return None
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def resolve(raw: str) -> Authenticated:
    """The token and its owner's current membership, or `TokenInvalid` saying why not."""
    parsed = _parse(raw)
    if parsed is None:
        raise TokenInvalid(_("The API token is malformed."))
    prefix, secret = parsed
    token = ApiToken.objects.select_related("user", "organization").filter(prefix=prefix).first()
    # Hash even when no row matched, so both paths do the same work.
    presented = digest_of(secret)
    if token is None or not hmac.compare_digest(token.digest, presented):
        raise TokenInvalid(_("The API token is not valid."))
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenInvalid(_("The API token has been revoked."))
    if token.is_expired(now):
        raise TokenInvalid(_("The API token has expired."))
    member = membership(token.user, token.organization)
    if member is None:
        raise TokenInvalid(_("The owner of this API token is no longer an active member."))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return Authenticated(token=token, member=member)


def authenticate(raw: str) -> ApiToken | None:
    """The usable token `raw` stands for, or None."""
    try:
        return resolve(raw).token
    except TokenInvalid:
        return None
