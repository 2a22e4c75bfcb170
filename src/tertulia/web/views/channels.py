"""Settings → Channels: connect accounts (app password, OAuth with PKCE, or sandbox handle), reconnect."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from tertulia.connectors.base import Connector, ConnectorError
from tertulia.connectors.registry import UnknownNetwork, connector_class, networks
from tertulia.connectors.signin import SignIn, check_return, new_authorization, sign_in_method
from tertulia.core.actions.channels import ChannelTaken, connect_channel, connect_or_reconnect
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel
from tertulia.core.permissions import Perm
from tertulia.vault.actions import app_client
from tertulia.vault.models import Credential
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import section

SESSION_PENDING = "tertulia_oauth_pending"


class PasswordForm(forms.Form):
    network = forms.CharField(widget=forms.HiddenInput)
    handle = forms.CharField(label=_lazy("Handle"), max_length=255)
    password = forms.CharField(
        label=_lazy("App password"), max_length=255, widget=forms.PasswordInput(render_value=False)
    )
    server = forms.URLField(label=_lazy("Server"), required=False, max_length=255, assume_scheme="https")


class OAuthForm(forms.Form):
    network = forms.CharField(widget=forms.HiddenInput)
    server = forms.URLField(label=_lazy("Server"), required=False, max_length=255, assume_scheme="https")


class HandleForm(forms.Form):
    network = forms.CharField(widget=forms.HiddenInput)
    handle = forms.CharField(label=_lazy("Handle"), max_length=255)


def _methods() -> list[tuple[str, str, SignIn]]:
    found = []
    for name in networks():
        try:
            cls = connector_class(name)
        except (UnknownNetwork, ImportError):
            continue
        found.append((name, cls.display_name, sign_in_method(cls)))
    return found


def _page(request: HttpRequest, tenant: Tenant, status: int = 200) -> HttpResponse:
    channels = (
        Channel.objects.filter(brand=tenant.brand).order_by("network", "handle") if tenant.brand else []
    )
    with_secrets = set(Credential.objects.filter(channel__in=channels).values_list("channel_id", flat=True))
    return render(
        request,
        "web/channels.html",
        {"section": "settings", "channels": channels, "with_secrets": with_secrets, "methods": _methods()},
        status=status,
    )


def _brand(tenant: Tenant) -> Brand:
    if tenant.brand is None:
        raise ConnectorError(_("Create a brand first."))
    return tenant.brand


@section("settings", Perm.MANAGE_CHANNELS)
@require_GET
def channels(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


def _connected(request: HttpRequest, channel: Channel) -> HttpResponse:
    messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
    return redirect("web:channels")


@section("settings", Perm.MANAGE_CHANNELS)
@require_POST
def connect(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    network = request.POST.get("network", "")
    try:
        cls = connector_class(network)
        brand = _brand(tenant)
        method = sign_in_method(cls)
        actor = Actor.from_request(request)
        if method == SignIn.HANDLE:
            form = HandleForm(request.POST)
            if not form.is_valid():
                raise ConnectorError(_("Enter the account's handle."))
            return _connected(request, connect_channel(actor, brand, network, form.cleaned_data["handle"]))
        if method == SignIn.PASSWORD:
            password_form = PasswordForm(request.POST)
            if not password_form.is_valid():
                raise ConnectorError(_("Enter the handle and an app password."))
            data = password_form.cleaned_data
            account = cls.connect_with_password(data["handle"], data["password"], data["server"] or "")
            # The account's own server (from its identity document) wins over what was typed.
            service = account.credentials.get("service") or data["server"]
            settings = {"service": service} if service else {}
            return _connected(request, connect_or_reconnect(actor, brand, network, account, settings))
        oauth_form = OAuthForm(request.POST)
        if not oauth_form.is_valid():
            raise ConnectorError(_("Enter the server's address, e.g. https://mastodon.social."))
        return _start_oauth(request, cls, network, oauth_form.cleaned_data["server"] or "", brand)
    except UnknownNetwork:
        messages.error(request, _("Unknown network."))
    except ChannelTaken:
        messages.error(request, _("This account is already connected to a channel."))
    except ConnectorError as exc:
        messages.error(request, str(exc))
    return redirect("web:channels")


def _start_oauth(
    request: HttpRequest, cls: type[Connector], network: str, base_url: str, brand: Brand
) -> HttpResponse:
    with app_client(network, base_url) as app:
        if app is None:
            raise ConnectorError(
                _("An administrator must first register Tertulia as an app on %(network)s.")
                % {"network": cls.display_name}
            )
        pending = new_authorization(network, base_url, brand.pk)
        request.session[SESSION_PENDING] = pending.as_dict()
        url = cls.authorization_url(
            app[0],
            request.build_absolute_uri(reverse("web:channel-callback")),
            pending.state,
            pending.code_verifier,
        )
    return redirect(url)


@section("settings", Perm.MANAGE_CHANNELS)
@require_GET
def callback(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    # One use only: a replayed or forged return finds nothing in the session.
    pending = check_return(request.session.pop(SESSION_PENDING, None), request.GET.get("state", ""))
    if pending is None:
        messages.error(request, _("That sign-in could not be verified or took too long. Please start again."))
        return redirect("web:channels")
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(request, _("The network did not authorize Tertulia."))
        return redirect("web:channels")
    brand = Brand.objects.filter(pk=pending.brand_id, organization=tenant.organization).first()
    if brand is None:
        messages.error(request, _("That brand is no longer available."))
        return redirect("web:channels")
    try:
        cls = connector_class(pending.network)
        with app_client(pending.network, pending.base_url) as app:
            if app is None:
                raise ConnectorError(_("The app registration for this network was removed."))
            account = cls.complete_authorization(
                app[0],
                request.build_absolute_uri(reverse("web:channel-callback")),
                request.GET["code"],
                pending.code_verifier,
            )
        settings = {"base_url": pending.base_url} if pending.base_url else {}
        channel = connect_or_reconnect(Actor.from_request(request), brand, pending.network, account, settings)
    except ChannelTaken:
        messages.error(request, _("This account is already connected to a channel."))
        return redirect("web:channels")
    except ConnectorError as exc:
        messages.error(request, str(exc))
        return redirect("web:channels")
    return _connected(request, channel)
