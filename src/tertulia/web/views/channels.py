"""Settings → Channels: connect accounts (app password, OAuth with PKCE, or sandbox handle), reconnect."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.connectors import connecting
from tertulia.connectors.base import ConnectorError
from tertulia.connectors.choices import open_choice
from tertulia.connectors.models import PendingChoice
from tertulia.connectors.registry import UnknownNetwork, connector_class, networks
from tertulia.connectors.signin import SignIn, sign_in_method, sign_in_methods
from tertulia.core.actions.channels import ChannelTaken
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.core.permissions import Perm
from tertulia.vault.models import Credential
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

MAX_FIELD = 255


def _methods() -> list[tuple[str, str, tuple[SignIn, ...], bool]]:
    """(network, label, its sign-in methods, whether it needs the person's server): one form per
    method (Bluesky offers OAuth and app passwords). A network where Tertulia registers itself on
    each server (Mastodon) cannot sign in anywhere until the person says which server is theirs."""
    found = []
    for name in networks():
        try:
            cls = connector_class(name)
        except (UnknownNetwork, ImportError):
            continue
        found.append((name, cls.display_name, sign_in_methods(cls), connecting.registers_itself(cls)))
    return found


def _chosen_method(request: HttpRequest, network: str) -> SignIn:
    """The form's `method` when the network has it, else the network's default."""
    cls = connector_class(network)
    asked = request.POST.get("method", "")
    methods = sign_in_methods(cls)
    return SignIn(asked) if asked in methods else sign_in_method(cls)


@section("settings", Perm.MANAGE_CHANNELS)
@require_GET
def channels(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    listed = Channel.objects.filter(brand=tenant.brand).order_by("network", "handle") if tenant.brand else []
    with_secrets = set(Credential.objects.filter(channel__in=listed).values_list("channel_id", flat=True))
    return render(
        request,
        "web/channels.html",
        {"section": "settings", "channels": listed, "with_secrets": with_secrets, "methods": _methods()},
    )


def _field(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "").strip()
    if len(value) > MAX_FIELD:
        raise ConnectorError(_("That value is too long."))
    return value


def _server(request: HttpRequest) -> str:
    server = _field(request, "server")
    if server:
        try:
            URLValidator(schemes=["https", "http"])(server)
        except ValidationError:
            raise ConnectorError(_("Enter the server's address, e.g. https://mastodon.social.")) from None
    return server


def callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("web:channel-callback"))


@section("settings", Perm.MANAGE_CHANNELS)
@require_POST
def connect(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    network = _field(request, "network")
    actor = Actor.from_request(request)
    try:
        if tenant.brand is None:
            raise ConnectorError(_("Create a brand first."))
        method = _chosen_method(request, network)
        if method == SignIn.OAUTH:
            # A Mastodon instance may be typed as "mastodon.social": the connecting code
            # normalizes and checks it, so it is passed on as typed.
            as_typed = connecting.registers_itself(connector_class(network))
            url = connecting.begin_authorization(
                tenant.brand,
                signed_in_user(request),
                network,
                _field(request, "server") if as_typed else _server(request),
                callback_uri(request),
                actor,
            )
            return redirect(url)
        handle = _field(request, "handle")
        if not handle:
            raise ConnectorError(_("Enter the account's handle."))
        if method == SignIn.PASSWORD:
            password = request.POST.get("password", "")
            if not password or len(password) > MAX_FIELD:
                raise ConnectorError(_("Enter the handle and an app password."))
            channel = connecting.connect_with_password(
                actor, tenant.brand, network, handle, password, _server(request)
            )
        else:
            channel = connecting.connect_with_handle(actor, tenant.brand, network, handle)
    except UnknownNetwork:
        messages.error(request, _("Unknown network."))
    except ChannelTaken:
        messages.error(request, _("This account is already connected to a channel."))
    except ConnectorError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
    return redirect("web:channels")


@section("settings", Perm.MANAGE_CHANNELS)
@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest, tenant: Tenant, choice_id: uuid.UUID) -> HttpResponse:
    """This login administers several accounts: which one becomes the channel?"""
    user = signed_in_user(request)
    if request.method == "GET":
        choice = open_choice(choice_id, user)
        if choice is None:
            messages.error(request, _("That choice is no longer available. Please sign in again."))
            return redirect("web:channels")
        return render(request, "web/channel_choose.html", {"section": "settings", "choice": choice})
    index = request.POST.get("account", "")
    try:
        channel = connecting.connect_chosen(
            Actor.from_request(request),
            user,
            choice_id,
            int(index) if index.isascii() and index.isdigit() else -1,
        )
    except ChannelTaken:
        messages.error(request, _("This account is already connected to a channel."))
    except ConnectorError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
    return redirect("web:channels")


@section("settings", Perm.MANAGE_CHANNELS)
@require_GET
def callback(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    try:
        channel = connecting.complete_authorization(
            Actor.from_request(request),
            signed_in_user(request),
            request.GET.get("state", ""),
            "" if request.GET.get("error") else request.GET.get("code", ""),
            callback_uri(request),
            request.GET.get("iss", ""),
        )
    except ChannelTaken:
        messages.error(request, _("This account is already connected to a channel."))
    except ConnectorError as exc:
        messages.error(request, str(exc))
    else:
        if isinstance(channel, PendingChoice):
            return redirect("web:channel-choose", choice_id=channel.pk)
        messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
    return redirect("web:channels")
