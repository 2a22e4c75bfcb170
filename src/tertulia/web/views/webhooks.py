"""Settings > Webhooks: the organization's endpoints, their deliveries, and a test button.

Owners and administrators only (Perm.MANAGE_ORGANIZATION). The signing secret is shown once, in
the response that created or rotated it (never stored in the session, never cached); the URL is
never shown again either, only its hint (a chat tool's webhook URL is itself a credential).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import section
from tertulia.webhooks import actions, events
from tertulia.webhooks.models import Delivery, Endpoint, Format

DELIVERIES_SHOWN = 50


class EndpointForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=100)
    url = forms.CharField(
        label=_lazy("Address (URL)"),
        max_length=actions.MAX_URL,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_lazy("An https:// address. For Slack or Mattermost, their incoming webhook's address."),
    )
    format = forms.ChoiceField(label=_lazy("Format"), choices=Format.choices, initial=Format.GENERIC)
    event_types = forms.MultipleChoiceField(label=_lazy("Events"), widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(
        label=_lazy("Language of chat messages"), choices=settings.LANGUAGES, initial="en"
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event_types"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(event.name, f"{event.label} ({event.name})") for event in events.subscribable()]
        if editing:
            self.fields["url"].required = False
            self.fields["url"].help_text = _lazy("Leave it empty to keep the current address.")
            self.fields["is_active"] = forms.BooleanField(label=_lazy("Active"), required=False)


def _endpoints(tenant: Tenant) -> Any:
    return Endpoint.objects.filter(organization=tenant.organization).order_by("name", "id")


def _list_page(
    request: HttpRequest,
    tenant: Tenant,
    form: EndpointForm,
    *,
    created: Endpoint | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "web/webhooks.html",
        {
            "section": "settings",
            "form": form,
            "endpoints": _endpoints(tenant),
            "created": created,
            "secret": secret,
            "event_types": events.subscribable(),
        },
        status=status,
    )


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@never_cache  # the response that shows a new secret must not be stored anywhere
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    assert tenant.organization is not None
    if request.method == "GET":
        return _list_page(request, tenant, EndpointForm())
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list_page(request, tenant, form, status=400)
    try:
        endpoint, secret = actions.create_endpoint(
            Actor.from_request(request),
            tenant.organization,
            name=form.cleaned_data["name"],
            url=form.cleaned_data["url"],
            format=form.cleaned_data["format"],
            event_types=form.cleaned_data["event_types"],
            language=form.cleaned_data["language"],
        )
    except actions.WebhookRefused as refused:
        form.add_error(None, str(refused))
        return _list_page(request, tenant, form, status=400)
    # Rendered straight into this response, never put in the session or a message.
    return _list_page(request, tenant, EndpointForm(), created=endpoint, secret=secret)


def _detail_page(
    request: HttpRequest, endpoint: Endpoint, form: EndpointForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    deliveries = Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")[:DELIVERIES_SHOWN]
    return render(
        request,
        "web/webhook.html",
        {
            "section": "settings",
            "endpoint": endpoint,
            "form": form,
            "deliveries": deliveries,
            "secret": secret,
        },
        status=status,
    )


def _initial(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "format": endpoint.format,
        "event_types": list(endpoint.event_types),
        "language": endpoint.language,
        "is_active": endpoint.is_active,
    }


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@never_cache
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, tenant: Tenant, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(_endpoints(tenant), pk=endpoint_id)
    if request.method == "GET":
        return _detail_page(request, endpoint, EndpointForm(initial=_initial(endpoint), editing=True))
    form = EndpointForm(request.POST, editing=True)
    if not form.is_valid():
        return _detail_page(request, endpoint, form, status=400)
    try:
        actions.update_endpoint(
            Actor.from_request(request),
            endpoint,
            name=form.cleaned_data["name"],
            url=form.cleaned_data["url"] or None,
            format=form.cleaned_data["format"],
            event_types=form.cleaned_data["event_types"],
            language=form.cleaned_data["language"],
            is_active=form.cleaned_data["is_active"],
        )
    except actions.WebhookRefused as refused:
        form.add_error(None, str(refused))
        return _detail_page(request, endpoint, form, status=400)
    messages.success(request, _("Endpoint saved."))
    return redirect("web:webhook", endpoint.pk)


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@require_POST
def webhook_test(request: HttpRequest, tenant: Tenant, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(_endpoints(tenant), pk=endpoint_id)
    actions.send_test(Actor.from_request(request), endpoint)
    messages.success(request, _("Test event queued: its delivery appears below within a few seconds."))
    return redirect("web:webhook", endpoint.pk)


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@never_cache
@require_POST
def webhook_rotate(request: HttpRequest, tenant: Tenant, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(_endpoints(tenant), pk=endpoint_id)
    secret = actions.rotate_secret(Actor.from_request(request), endpoint)
    endpoint.refresh_from_db()
    return _detail_page(
        request, endpoint, EndpointForm(initial=_initial(endpoint), editing=True), secret=secret
    )


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@require_POST
def webhook_delete(request: HttpRequest, tenant: Tenant, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(_endpoints(tenant), pk=endpoint_id)
    name = endpoint.name
    actions.delete_endpoint(Actor.from_request(request), endpoint)
    messages.success(request, _("Endpoint “%(name)s” deleted.") % {"name": name})
    return redirect("web:webhooks")
