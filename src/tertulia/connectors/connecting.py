"""Connecting a brand's account, whatever the sign-in: the same functions serve the web and the API."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from tertulia.connectors import choices
from tertulia.connectors.base import Connector, ConnectorError, ContentRejected, OAuthClient
from tertulia.connectors.models import PendingChoice
from tertulia.connectors.registry import connector_class
from tertulia.connectors.signin import SignIn, finish_authorization, sign_in_methods, start_authorization
from tertulia.core.actions.channels import connect_channel, connect_or_reconnect
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.models.audit import Via
from tertulia.core.permissions import Perm, has_perm
from tertulia.vault.actions import app_client, keep_own_registration
from tertulia.vault.models import NetworkApp


class WrongSignIn(ConnectorError):
    """The request used a sign-in the network does not have (e.g. a password for an OAuth network)."""


class AppNotRegistered(ConnectorError):
    """Tertulia has no app registration for the network (an operator's `tertulia apps set`)."""


class NoLongerAllowed(ConnectorError):
    """The person lost the right to connect channels in that organization while signing in."""


def _still_allowed(user: User, brand: Brand) -> None:
    # The sign-in started in `brand`'s organization; the request finishing it may be made
    # while another organization is selected, so that one's permissions prove nothing.
    if not has_perm(user, brand.organization, Perm.MANAGE_CHANNELS, brand):
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


MAX_SERVER_ADDRESS = 255  # NetworkApp.base_url
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def registers_itself(cls: type[Connector]) -> bool:
    """Whether Tertulia registers its own app on each of the network's servers (Mastodon),
    read from what the connector implements, as its sign-in methods are."""
    return getattr(cls.register_app, "__func__", None) is not getattr(
        Connector.register_app, "__func__", None
    )


def server_address(typed: str, network: str) -> str:
    """The server as one key per server: `mastodon.social`, `https://Mastodon.social/` and a
    pasted profile address `https://mastodon.social/@marca` are all `https://mastodon.social`.

    Such a server lives at the root of its host, so the path is dropped; an address with a
    user name (or an account handle typed instead of the server) is refused, not guessed at.
    """
    text = typed.strip()
    if not text:
        raise ContentRejected(
            _("Enter the %(network)s server's address, for example mastodon.social.") % {"network": network}
        )
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme.lower() not in ("https", "http"):
        raise ContentRejected(_("A server's address starts with https:// (or http://)."))
    if "@" in parts.netloc:
        raise ContentRejected(
            _("Enter only the server's address, such as mastodon.social, without an account name.")
        )
    try:
        port = parts.port
        # International names as the DNS knows them, so both spellings are one server.
        host = (parts.hostname or "").rstrip(".").encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        host = ""
    if ":" in host and _is_ip(host):
        host = f"[{host}]"  # IPv6
    elif not _HOST_NAME.fullmatch(host):  # names and IPv4 addresses
        raise ContentRejected(_("That is not a valid server address."))
    scheme = parts.scheme.lower()
    if port is not None and port != {"https": 443, "http": 80}[scheme]:
        host = f"{host}:{port}"
    address = f"{scheme}://{host}"
    if len(address) > MAX_SERVER_ADDRESS:
        raise ContentRejected(_("That is not a valid server address."))
    return address


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ensure_registered(
    cls: type[Connector], network: str, actor: Actor, base_url: str, redirect_uri: str
) -> None:
    """Register Tertulia on the server unless a usable registration is already stored.

    Usable: an operator's (it has no redirect URI of ours to compare), or our own for this
    same callback address. When Tertulia's address changed, the instance would refuse the
    old registration's redirect URI, so a new registration replaces ours.
    """
    stored = (
        NetworkApp.objects.filter(network=network, base_url=base_url)
        .values_list("client_id", "redirect_uri")
        .first()
    )
    if stored is not None and stored[1] in ("", redirect_uri):
        return
    client = cls.register_app(base_url, redirect_uri)  # a network request: no transaction is held
    # If someone else's registration got stored first, this one is dropped and theirs is used.
    keep_own_registration(
        actor, network, base_url, client, redirect_uri, replacing=stored[0] if stored else ""
    )


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


def begin_authorization(
    brand: Brand,
    user: User,
    network: str,
    base_url: str,
    redirect_uri: str,
    actor: Actor | None = None,
) -> str:
    """The address to send the person to; their return is checked by `complete_authorization`.

    On a network where Tertulia registers itself (Mastodon), the first sign-in on a server
    registers it there; `actor` is who the audit trail names for that registration.
    """
    cls = _method(network, SignIn.OAUTH)
    if registers_itself(cls):
        base_url = server_address(base_url, cls.display_name)
        _ensure_registered(cls, network, actor or Actor(user=user, via=Via.SYSTEM), base_url, redirect_uri)
    else:
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
    actor: Actor, user: User, state: str, code: str, redirect_uri: str, issuer: str = ""
) -> Channel | PendingChoice:
    """The connected channel, or, when the login administers several accounts, the choice to make.

    `issuer` is the callback's `iss` parameter: it tells which authorization server sent the
    person back, so a code from another server (a mix-up attack) is refused where it matters.
    """
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
        account = cls.complete_authorization(app, redirect_uri, code, pending.code_verifier, issuer=issuer)
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
