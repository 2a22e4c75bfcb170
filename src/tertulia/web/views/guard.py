"""The hijack guard in the web app: "Held for review" (release or reject), the guard's settings, the
"compromised account" button of Settings → Channels, and the incident page with its checklist.

Thin: look up within the current organization and what the person may see (else 404), check the
permission, call tertulia.guard.actions, say what happened. The actions check permissions again.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, Organization
from tertulia.core.permissions import Perm
from tertulia.guard import selectors
from tertulia.guard.actions import holds as hold_actions
from tertulia.guard.actions import incidents as incident_actions
from tertulia.guard.actions.common import GuardRefused
from tertulia.guard.actions.settings import update_settings
from tertulia.guard.gate import settings_for
from tertulia.guard.models import HoldState, Incident, Sensitivity
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

MAX_NOTE = 500
RECENT = 50


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


# --- held for review ---------------------------------------------------------------------------


@section("guard")
@require_GET
def holds(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    visible = selectors.visible_holds(user, _org(tenant))
    pending = [selectors.hold_view(user, hold) for hold in visible.filter(state=HoldState.PENDING)[:200]]
    decided = list(visible.exclude(state=HoldState.PENDING).order_by("-decided_at", "-id")[:RECENT])
    alone = [view.hold.pk for view in pending if view.own and hold_actions.nobody_else_can_release(view.hold)]
    return render(
        request,
        "web/guard/holds.html",
        {"section": "guard", "pending": pending, "decided": decided, "alone": alone},
    )


@section("guard")
@require_GET
def hold_detail(request: HttpRequest, tenant: Tenant, hold_id: int) -> HttpResponse:
    user = signed_in_user(request)
    hold = selectors.hold_for(user, _org(tenant), hold_id)
    return render(
        request, "web/guard/hold.html", {"section": "guard", "view": selectors.hold_view(user, hold)}
    )


@section("guard", write=Perm.OPERATE_CHANNELS)
@require_POST
def hold_release(request: HttpRequest, tenant: Tenant, hold_id: int) -> HttpResponse:
    hold = selectors.hold_for(signed_in_user(request), _org(tenant), hold_id)
    try:
        hold_actions.release(Actor.from_request(request), hold, request.POST.get("note", "")[:MAX_NOTE])
    except GuardRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Released: it goes out now, or at its time."))
    return redirect("web:guard-holds")


@section("guard", write=Perm.OPERATE_CHANNELS)
@require_POST
def hold_reject(request: HttpRequest, tenant: Tenant, hold_id: int) -> HttpResponse:
    hold = selectors.hold_for(signed_in_user(request), _org(tenant), hold_id)
    try:
        done = hold_actions.reject(Actor.from_request(request), hold, request.POST.get("note", "")[:MAX_NOTE])
    except GuardRefused as refused:
        messages.error(request, str(refused))
    else:
        if done.state == HoldState.WITHDRAWN:
            messages.success(request, _("Withdrawn: it will not go out."))
        else:
            messages.success(request, _("Rejected: it will not go out."))
    return redirect("web:guard-holds")


# --- settings ----------------------------------------------------------------------------------


class GuardSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_lazy("Check outgoing posts and replies"), required=False)
    sensitivity = forms.ChoiceField(label=_lazy("Sensitivity"), choices=Sensitivity.choices)
    check_device = forms.BooleanField(label=_lazy("A new device or network for the person"), required=False)
    check_hour = forms.BooleanField(label=_lazy("An hour outside the brand's pattern"), required=False)
    check_burst = forms.BooleanField(label=_lazy("A burst of sends"), required=False)
    check_domains = forms.BooleanField(label=_lazy("Links to domains the brand never used"), required=False)
    check_vocabulary = forms.BooleanField(label=_lazy("Scam vocabulary"), required=False)
    trusted_domains = forms.CharField(
        label=_lazy("Trusted domains"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_lazy("One per line; their subdomains are trusted too. Links to them are never new."),
    )


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@require_http_methods(["GET", "POST"])
def guard_settings(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    organization = _org(tenant)
    config = settings_for(organization)
    if request.method == "POST":
        form = GuardSettingsForm(request.POST)
        if form.is_valid():
            try:
                update_settings(Actor.from_request(request), organization, **form.cleaned_data)
            except GuardRefused as refused:
                form.add_error("trusted_domains", str(refused))
            else:
                messages.success(request, _("Hijack guard settings saved."))
                return redirect("web:guard-settings")
    else:
        form = GuardSettingsForm(
            initial={name: getattr(config, name) for name in GuardSettingsForm.base_fields}
        )
    return render(request, "web/guard/settings.html", {"section": "settings", "form": form})


# --- compromised account -----------------------------------------------------------------------


class CompromisedForm(forms.Form):
    report = forms.CharField(
        label=_lazy("What was seen"),
        required=False,
        max_length=incident_actions.MAX_REPORT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    suspected_since = forms.DateTimeField(
        label=_lazy("Suspected since"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text=_lazy("When the account may have been taken over; posts since then are listed to review."),
    )


def _managed_channel(request: HttpRequest, tenant: Tenant, channel_id: int) -> Channel:
    channel = get_object_or_404(
        Channel.objects.select_related("brand", "organization"), pk=channel_id, organization=_org(tenant)
    )
    if not incident_actions.may_manage(signed_in_user(request), channel):
        raise Http404
    return channel


@section("settings", Perm.MANAGE_CHANNELS, write=Perm.MANAGE_CHANNELS)
@require_http_methods(["GET", "POST"])
def channel_compromised(request: HttpRequest, tenant: Tenant, channel_id: int) -> HttpResponse:
    channel = _managed_channel(request, tenant, channel_id)
    open_incident = Incident.objects.filter(channel=channel, state="open").first()
    if request.method == "POST":
        form = CompromisedForm(request.POST)
        if form.is_valid():
            since: datetime | None = form.cleaned_data["suspected_since"]
            try:
                incident = incident_actions.report_compromised(
                    Actor.from_request(request), channel, form.cleaned_data["report"], since
                )
            except GuardRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.warning(
                    request,
                    _(
                        "@%(handle)s: publishing paused, access revoked, people told. "
                        "Work through the checklist."
                    )
                    % {"handle": channel.handle},
                )
                return redirect("web:guard-incident", incident_id=incident.pk)
    else:
        form = CompromisedForm(
            initial={"suspected_since": timezone.localtime(timezone.now() - incident_actions.DEFAULT_WINDOW)}
        )
    return render(
        request,
        "web/guard/compromised.html",
        {"section": "settings", "channel": channel, "form": form, "open_incident": open_incident},
    )


# --- incidents ---------------------------------------------------------------------------------


@section("guard")
@require_GET
def incidents(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    listed = selectors.visible_incidents(user, _org(tenant))[:200]
    return render(request, "web/guard/incidents.html", {"section": "guard", "incidents": listed})


@section("guard")
@require_GET
def incident(request: HttpRequest, tenant: Tenant, incident_id: int) -> HttpResponse:
    user = signed_in_user(request)
    found = selectors.incident_for(user, _org(tenant), incident_id)
    return render(
        request, "web/guard/incident.html", {"section": "guard", **selectors.incident_context(user, found)}
    )


def _incident_post(request: HttpRequest, tenant: Tenant, incident_id: int) -> Incident:
    return selectors.incident_for(signed_in_user(request), _org(tenant), incident_id)


@section("guard", write=(Perm.MANAGE_CHANNELS, Perm.OPERATE_CHANNELS))
@require_POST
def incident_step(request: HttpRequest, tenant: Tenant, incident_id: int, key: str) -> HttpResponse:
    found = _incident_post(request, tenant, incident_id)
    try:
        incident_actions.set_step(
            Actor.from_request(request),
            found,
            key[:32],
            request.POST.get("done") == "1",
            request.POST.get("note", "")[:MAX_NOTE],
        )
    except GuardRefused as refused:
        messages.error(request, str(refused))
    return redirect("web:guard-incident", incident_id=found.pk)


@section("guard", write=(Perm.MANAGE_CHANNELS, Perm.OPERATE_CHANNELS))
@require_POST
def incident_note(request: HttpRequest, tenant: Tenant, incident_id: int) -> HttpResponse:
    found = _incident_post(request, tenant, incident_id)
    try:
        incident_actions.add_note(
            Actor.from_request(request), found, request.POST.get("text", "")[: MAX_NOTE + 1]
        )
    except GuardRefused as refused:
        messages.error(request, str(refused))
    return redirect("web:guard-incident", incident_id=found.pk)


@section("guard", write=Perm.MANAGE_CHANNELS)
@require_POST
def incident_reconnected(request: HttpRequest, tenant: Tenant, incident_id: int) -> HttpResponse:
    found = _incident_post(request, tenant, incident_id)
    try:
        incident_actions.mark_reconnected(Actor.from_request(request), found)
    except GuardRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Marked reconnected."))
    return redirect("web:guard-incident", incident_id=found.pk)


@section("guard", write=Perm.MANAGE_CHANNELS)
@require_POST
def incident_close(request: HttpRequest, tenant: Tenant, incident_id: int) -> HttpResponse:
    found = _incident_post(request, tenant, incident_id)
    choice = request.POST.get("publishing", "")
    resume = {"resume": True, "keep_paused": False}.get(choice)
    try:
        incident_actions.close(
            Actor.from_request(request),
            found,
            request.POST.get("summary", "")[: incident_actions.MAX_SUMMARY + 1],
            resume,
        )
    except GuardRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Incident closed."))
    return redirect("web:guard-incident", incident_id=found.pk)
