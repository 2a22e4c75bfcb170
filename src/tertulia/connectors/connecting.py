"""Connecting a brand's account, whatever the sign-in: the same functions serve the web and the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext as _

from tertulia.connectors import choices
from tertulia.connectors.base import Connector, ConnectorError, OAuthClient
from tertulia.connectors.models import PendingChoice
from tertulia.connectors.registry import connector_class
from tertulia.connectors.signin import SignIn, finish_authorization, sign_in_methods, start_authorization
from tertulia.core.actions.channels import connect_channel, connect_or_reconnect
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm, has_perm
from tertulia.vault.actions import app_client


class WrongSignIn(ConnectorError):
    """The request used a sign-in the network does not have (e.g. a password for an OAuth network)."""


class AppNotRegistered(ConnectorError):
    """Tertulia has no app registration for the network (an operator's `tertulia apps set`)."""


class NoLongerAllowed(ConnectorError):
    """The person lost the right to connect channels in that organization while signing in."""


def _still_allowed(user: User, brand: Brand) -> None:
    # The sign-in started in `brand`'s organization; the request finishing it may be made
    # while another organization is selected, so that one's permissions prove nothing.
    if not has_perm(user, brand.organization, Perm.MANAGE_CHANNELS):
        raise NoLongerAllowed(_("You can no longer connect channels for that brand."))


class SignInNotVerified(ConnectorError):
    """An OAuth return that is forged, replayed, too late or someone else's."""


def _method(network: str, expected: SignIn) -> type[Connector]:
    cls = connector_class(network)
    if expected not in sign_in_methods(cls):
        raise WrongSignIn(_("%(network)s does not connect this way.") % {"network": cls.display_name})
    return cls


@contextmanager
def _oauth_client(cls: type[Connector], network: str, base_url: str) -> Iterator[OAuthClient | None]:
    """The app registration for the network and server, or the connector's own client when
    its protocol needs none (atproto: the client id is the URL of our metadata document)."""
    with app_client(network, base_url) as app:
        if app is not None:
            yield app[0]
            return
    builtin = getattr(cls, "builtin_oauth_client", None)
    yield builtin(base_url) if builtin is not None else None


def connect_with_handle(actor: Actor, brand: Brand, network: str, handle: str) -> Channel:
    _method(network, SignIn.HANDLE)
    return connect_channel(actor, brand, network, handle)


def connect_with_password(
    actor: Actor, brand: Brand, network: str, handle: str, password: str, server: str = ""
) -> Channel:
    cls = _method(network, SignIn.PASSWORD)
    account = cls.connect_with_password(handle, password, server)
    # The account's own server (from its identity document) wins over what was typed.
    service = account.credentials.get("service") or server
    return connect_or_reconnect(actor, brand, network, account, {"service": service} if service else {})


def begin_authorization(brand: Brand, user: User, network: str, base_url: str, redirect_uri: str) -> str:
    """The address to send the person to; their return is checked by `complete_authorization`."""
    cls = _method(network, SignIn.OAUTH)
    base_url = base_url.rstrip("/")
    with _oauth_client(cls, network, base_url) as app:
        if app is None:
            raise AppNotRegistered(
                _("An administrator must first register Tertulia as an app on %(network)s.")
                % {"network": cls.display_name}
            )
        pending = start_authorization(network, base_url, brand, user)
        url: str = cls.authorization_url(app, redirect_uri, pending.state, pending.code_verifier)
    return url


def complete_authorization(
    actor: Actor, user: User, state: str, code: str, redirect_uri: str
) -> Channel | PendingChoice:
    """The connected channel, or, when the login administers several accounts, the choice to make."""
    pending = finish_authorization(state, user)
    if pending is None:
        raise SignInNotVerified(_("That sign-in could not be verified or took too long. Please start again."))
    _still_allowed(user, pending.brand)
    if not code:
        raise ConnectorError(_("The network did not authorize Tertulia."))
    cls = connector_class(pending.network)
    with _oauth_client(cls, pending.network, pending.base_url) as app:
        if app is None:
            raise AppNotRegistered(_("The app registration for this network was removed."))
        account = cls.complete_authorization(app, redirect_uri, code, pending.code_verifier)
    if account.alternatives:
        return choices.park(user, pending.brand, pending.network, pending.base_url, account)
    settings = {"base_url": pending.base_url} if pending.base_url else {}
    return connect_or_reconnect(actor, pending.brand, pending.network, account, settings)


def connect_chosen(actor: Actor, user: User, choice_id: uuid.UUID, index: int) -> Channel:
    taken = choices.take(choice_id, user, index)
    if taken is None:
        raise SignInNotVerified(_("That choice is no longer available. Please sign in again."))
    choice, account = taken
    _still_allowed(user, choice.brand)
    settings = {"base_url": choice.base_url} if choice.base_url else {}
    return connect_or_reconnect(actor, choice.brand, choice.network, account, settings)
