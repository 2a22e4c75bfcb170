"""How a person connects an account on each network, and the OAuth round trip's safety checks."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tertulia.connectors.base import Connector


class SignIn(StrEnum):
    HANDLE = "handle"  # nothing secret to give (the sandbox)
    PASSWORD = "password"  # noqa: S105 - a method name, not a secret; an app password, exchanged at once for a session (Bluesky)
    OAUTH = "oauth"  # a redirect to the network and back (Mastodon, X, Meta, LinkedIn)


def sign_in_method(cls: type[Connector]) -> SignIn:
    """Read from what the connector implements, so a new connector needs no extra declaration."""
    if cls.authorization_url.__func__ is not Connector.authorization_url.__func__:  # type: ignore[attr-defined]
        return SignIn.OAUTH
    if cls.connect_with_password.__func__ is not Connector.connect_with_password.__func__:  # type: ignore[attr-defined]
        return SignIn.PASSWORD
    return SignIn.HANDLE


STATE_TTL_SECONDS = 600


@dataclass(frozen=True)
class PendingAuthorization:
    """What we keep (in the person's session) between sending them to the network and their return."""

    state: str
    code_verifier: str
    network: str
    base_url: str
    brand_id: int
    started_at: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def new_authorization(network: str, base_url: str, brand_id: int) -> PendingAuthorization:
    return PendingAuthorization(
        state=secrets.token_urlsafe(32),
        # RFC 7636: 43 to 128 characters from the unreserved set; token_urlsafe(72) gives 96.
        code_verifier=secrets.token_urlsafe(72),
        network=network,
        base_url=base_url,
        brand_id=brand_id,
        started_at=time.time(),
    )


def check_return(
    pending: dict[str, Any] | None, state: str, now: float | None = None
) -> PendingAuthorization | None:
    """The pending authorization if `state` is ours and fresh, else None (a forged or replayed return)."""
    if not pending or not state:
        return None
    try:
        found = PendingAuthorization(**pending)
    except TypeError:
        return None
    if not hmac.compare_digest(found.state.encode(), state.encode()):
        return None
    if (now or time.time()) - found.started_at > STATE_TTL_SECONDS:
        return None
    return found
