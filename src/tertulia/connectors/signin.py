"""How a person connects an account on each network, and the OAuth round trip's safety checks."""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from tertulia.connectors.base import Connector
from tertulia.connectors.models import PendingAuthorization
from tertulia.core.models import Brand, User


class SignIn(StrEnum):
    HANDLE = "handle"  # nothing secret to give (the sandbox)
    PASSWORD = "password"  # noqa: S105 - a method name, not a secret; an app password (Bluesky)
    OAUTH = "oauth"  # a redirect to the network and back (Mastodon, X, Meta, LinkedIn)


def sign_in_methods(cls: type[Connector]) -> tuple[SignIn, ...]:
    """Every way the network signs in, read from what the connector implements (so a new
    connector needs no extra declaration); OAuth first, as the one to offer first."""
    found: list[SignIn] = []
    if cls.authorization_url.__func__ is not Connector.authorization_url.__func__:  # type: ignore[attr-defined]  # bound classmethod
        found.append(SignIn.OAUTH)
    if cls.connect_with_password.__func__ is not Connector.connect_with_password.__func__:  # type: ignore[attr-defined]  # bound classmethod
        found.append(SignIn.PASSWORD)
    return tuple(found) or (SignIn.HANDLE,)


def sign_in_method(cls: type[Connector]) -> SignIn:
    """The method a request that names none gets.

    An app password when the network takes one (Bluesky has both: a form or an API call
    that sends an app password keeps working, and OAuth is asked for by name or through
    the authorize endpoint), else OAuth, else a handle.
    """
    methods = sign_in_methods(cls)
    return SignIn.PASSWORD if SignIn.PASSWORD in methods else methods[0]


STATE_TTL = timedelta(minutes=10)


def start_authorization(network: str, base_url: str, brand: Brand, user: User) -> PendingAuthorization:
    # Old, abandoned attempts go as new ones start.
    PendingAuthorization.objects.filter(created_at__lt=timezone.now() - STATE_TTL).delete()
    return PendingAuthorization.objects.create(
        state=secrets.token_urlsafe(32),
        # RFC 7636: 43 to 128 characters from the unreserved set; token_urlsafe(72) gives 96.
        code_verifier=secrets.token_urlsafe(72),
        network=network,
        base_url=base_url,
        organization=brand.organization,
        brand=brand,
        user=user,
    )


@transaction.atomic
def finish_authorization(state: str, user: User) -> PendingAuthorization | None:
    """The pending sign-in for `state` if this person started it less than ten minutes ago; used up.

    Looked up by the unguessable state (a unique index, so the lookup itself reveals
    nothing useful to timing); a forged, replayed, stale or someone else's return gets None.
    """
    if not state or len(state) > 128:
        return None
    pending = PendingAuthorization.objects.select_for_update().filter(state=state).first()
    if pending is None:
        return None
    pending.delete()  # one use, whatever happens next
    if pending.user_id != user.pk or timezone.now() - pending.created_at > STATE_TTL:
        return None
    return pending
