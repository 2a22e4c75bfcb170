"""Crisis mode in the web app (docs/crisis-mode.md): the switch (a brand or the whole organization),
the list of crises, and the crisis room — timeline, live metrics, roles, the checklist, notes and the
end button.

Thin: crises are looked up within what the person may see (else 404); tertulia.crisis.mode checks
permissions again, does the work and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, User
from tertulia.core.permissions import Perm, brand_ids_of, brand_members, brands_for, may_access_brand
from tertulia.crisis import mode, report, room
from tertulia.crisis.approval import is_crisis_approver
from tertulia.crisis.models import (
    Alert,
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisRoleKind,
    CrisisState,
    Playbook,
)
from tertulia.guard.actions import holds as hold_actions
from tertulia.guard.actions.common import GuardRefused
from tertulia.guard.models import GuardHold, HoldCause, HoldState
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

LISTED = 100
TIMELINE_SHOWN = 500
HELD_SHOWN = 50


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class StartForm(forms.Form):
    title = forms.CharField(
        label=_lazy("What is happening"),
        max_length=mode.MAX_TITLE * 2,  # the action says what the limit is
        widget=forms.TextInput(attrs={"dir": "auto", "maxlength": str(mode.MAX_TITLE)}),
    )
    scope = forms.ChoiceField(label=_lazy("For"), choices=())
    playbook = forms.ChoiceField(label=_lazy("Playbook"), choices=(), required=False)
    alert = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, brands: list[Brand], playbooks: list[Playbook], org_wide: bool, **kw: Any):
        super().__init__(*args, **kw)
        scopes = [(str(brand.pk), brand.name) for brand in brands]
        if org_wide:
            scopes.append(("all", _("Every brand (the whole organization)")))
        self.fields["scope"].choices = scopes  # type: ignore[attr-defined]  # a ChoiceField
        choices = [("", _("The brand's default playbook"))]
        choices += [(str(p.pk), f"{p.brand.name} · {p.name}") for p in playbooks]
        self.fields["playbook"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField


class EndForm(forms.Form):
    publishing = forms.ChoiceField(
        choices=(("resume", _lazy("Resume publishing")), ("keep", _lazy("Keep publishing paused")))
    )


class RoleForm(forms.Form):
    user = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    role = forms.ChoiceField(choices=CrisisRoleKind.choices)
    action = forms.ChoiceField(choices=(("add", "add"), ("remove", "remove")))


class TickForm(forms.Form):
    done = forms.BooleanField(required=False)
    note = forms.CharField(required=False, max_length=mode.MAX_STEP_NOTE * 2)


class NoteForm(forms.Form):
    text = forms.CharField(
        max_length=mode.MAX_NOTE * 2, widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"})
    )


def _crises(tenant: Tenant) -> QuerySet[Crisis]:
    return tenant.restrict(Crisis.objects.all(), org_wide=True).select_related(
        "brand", "opened_by", "closed_by"
    )


def _crisis(tenant: Tenant, crisis_id: int) -> Crisis:
    return get_object_or_404(
        _crises(tenant).select_related("organization", "playbook", "alert"), pk=crisis_id
    )


def _start_choices(request: HttpRequest, tenant: Tenant) -> tuple[list[Brand], list[Playbook], bool]:
    user = signed_in_user(request)
    assert tenant.organization is not None
    brands = list(
        brands_for(user, tenant.organization, Perm.MANAGE_PUBLISHING)
        .filter(is_archived=False)
        .order_by("name")
    )
    playbooks = list(
        Playbook.objects.filter(brand__in=brands).select_related("brand").order_by("brand__name", "name")
    )
    return brands, playbooks, mode.may_run(user, tenant.organization, None)


@section("crisis", Perm.MANAGE_PUBLISHING)
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The switch: a brand or the whole organization, what is happening, which playbook."""
    organization = tenant.organization
    assert organization is not None
    brands, playbooks, org_wide = _start_choices(request, tenant)
    alert: Alert | None = None
    raw_alert = request.POST.get("alert") or request.GET.get("alert") or ""
    if raw_alert.isdigit() and int(raw_alert) < 2**31:
        alert = Alert.objects.filter(organization=organization, brand__in=brands, pk=int(raw_alert)).first()
    if request.method == "POST":
        form = StartForm(request.POST, brands=brands, playbooks=playbooks, org_wide=org_wide)
        if form.is_valid():
            data = form.cleaned_data
            brand = None if data["scope"] == "all" else next(b for b in brands if str(b.pk) == data["scope"])
            playbook = next((p for p in playbooks if str(p.pk) == data["playbook"]), None)
            already = mode.active_crisis(organization, brand)
            try:
                crisis = mode.start_crisis(
                    Actor.from_request(request),
                    organization,
                    brand,
                    data["title"],
                    alert=alert,
                    playbook=playbook,
                )
            except mode.CrisisRefused as refused:
                form.add_error(None, str(refused))
            else:
                if already is not None and already.pk == crisis.pk:
                    messages.info(request, _("Crisis mode was already on here: this is its room."))
                else:
                    messages.success(request, _("Crisis mode is on. Publishing is paused."))
                return redirect("web:crisis-room", crisis_id=crisis.pk)
        status = 400
    else:
        initial: dict[str, Any] = {}
        if alert is not None:
            initial = {
                "title": alert.title[: mode.MAX_TITLE],
                "scope": str(alert.brand_id),
                "alert": alert.pk,
            }
        elif tenant.brand is not None:
            initial = {"scope": str(tenant.brand.pk)}
        form = StartForm(initial=initial, brands=brands, playbooks=playbooks, org_wide=org_wide)
        status = 200
    return render(
        request,
        "web/crisis/mode_start.html",
        {"section": "crisis", "form": form, "alert": alert, "brands": brands},
        status=status,
    )


@section("crisis")
@require_GET
def crisis_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    listed = list(_crises(tenant).order_by("-opened_at", "-id")[:LISTED])
    return render(
        request,
        "web/crisis/mode_list.html",
        {
            "section": "crisis",
            "active": [c for c in listed if c.state == CrisisState.ACTIVE],
            "closed": [c for c in listed if c.state != CrisisState.ACTIVE],
            "can_start": tenant.can(Perm.MANAGE_PUBLISHING),
        },
    )


def _people(crisis: Crisis) -> list[User]:
    """Who may be given a role: active members who work in the crisis's brand (every member if org-wide)."""
    if crisis.brand is not None:
        members = brand_members(crisis.brand)
    else:
        members = Membership.objects.filter(organization_id=crisis.organization_id, is_active=True)
    return [
        m.user for m in members.filter(user__is_active=True).select_related("user").order_by("user__email")
    ]


def _room_context(request: HttpRequest, tenant: Tenant, crisis: Crisis) -> dict[str, Any]:
    user = signed_in_user(request)
    roles = list(
        CrisisRole.objects.filter(crisis=crisis).select_related("user").order_by("role", "user__email")
    )
    by_kind = [(kind, label, [r for r in roles if r.role == kind]) for kind, label in CrisisRoleKind.choices]
    active = crisis.state == CrisisState.ACTIVE
    return {
        "section": "crisis",
        "crisis": crisis,
        "active": active,
        "metrics": room.metrics(crisis, brand_ids=brand_ids_of(tenant.membership)),
        "timeline": list(crisis.timeline.select_related("actor").order_by("-at", "-id")[:TIMELINE_SHOWN]),
        "checklist": list(crisis.checklist.select_related("done_by")),
        "roles_by_kind": by_kind,
        "role_choices": CrisisRoleKind.choices,
        "people": _people(crisis) if active else [],
        "can_work": active and mode.may_work(user, crisis),
        "can_assign": active and mode.may_assign(user, crisis),
        "can_end": active and mode.may_run(user, crisis.organization, crisis.brand),
        "may_read_report": report.may_read(user, crisis),
        "note_form": NoteForm(),
        "end_form": EndForm(initial={"publishing": "resume"}),
        "pinned": _pinned(crisis) if active else [],
        "held_replies": _held_replies(user, crisis),
        "max_note": mode.MAX_NOTE,
        "max_step_note": mode.MAX_STEP_NOTE,
    }


@dataclass
class HeldReply:
    hold: GuardHold
    can_decide: bool


def _crisis_holds(crisis: Crisis) -> QuerySet[GuardHold]:
    found = GuardHold.objects.filter(
        organization_id=crisis.organization_id, cause=HoldCause.CRISIS, state=HoldState.PENDING
    )
    return found.filter(brand_id=crisis.brand_id) if crisis.brand_id is not None else found


def _held_replies(user: User, crisis: Crisis) -> list[HeldReply]:
    """Replies waiting for a crisis approver in the crisis's scope (brands the person works in)."""
    holds = _crisis_holds(crisis).select_related("brand", "sent_by", "message__conversation")[:HELD_SHOWN]
    rows = []
    # Asked once per brand, not once per reply: an organization-wide crisis holds many of one brand.
    allowed: dict[int, tuple[bool, bool]] = {}
    for hold in holds:
        if hold.brand_id not in allowed:
            sees = may_access_brand(user, hold.brand)
            allowed[hold.brand_id] = (sees, sees and is_crisis_approver(user, hold.brand))
        sees, approves = allowed[hold.brand_id]
        if not sees:
            continue
        rows.append(HeldReply(hold, approves and hold.sent_by_id != user.pk))
    return rows


def _pinned(crisis: Crisis) -> list[Any]:
    if crisis.brand is not None:
        return mode.pinned_statements(crisis.brand)
    return []


@section("crisis")
@require_GET
def crisis_room(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(tenant, crisis_id)
    return render(request, "web/crisis/mode_room.html", _room_context(request, tenant, crisis))


@section("crisis")
@require_GET
def crisis_live(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    """The live numbers alone (polled by the room)."""
    crisis = _crisis(tenant, crisis_id)
    return render(
        request,
        "web/crisis/mode_metrics.html",
        {"crisis": crisis, "metrics": room.metrics(crisis, brand_ids=brand_ids_of(tenant.membership))},
    )


def _back(crisis: Crisis) -> HttpResponse:
    return redirect("web:crisis-room", crisis_id=crisis.pk)


def _refused(request: HttpRequest, crisis: Crisis, text: str) -> HttpResponse:
    if _is_htmx(request):
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    messages.error(request, text)
    return _back(crisis)


@section("crisis", Perm.MANAGE_PUBLISHING)
@require_POST
def crisis_end(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(tenant, crisis_id)
    form = EndForm(request.POST)
    if not form.is_valid():
        return _refused(request, crisis, _("Choose whether publishing resumes."))
    resume = form.cleaned_data["publishing"] == "resume"
    try:
        mode.end_crisis(Actor.from_request(request), crisis, resume_publishing=resume)
    except mode.CrisisRefused as refused:
        return _refused(request, crisis, str(refused))
    if resume:
        messages.success(request, _("Crisis mode is off. Publishing resumed: held posts go out now."))
    else:
        messages.success(request, _("Crisis mode is off. Publishing stays paused until someone resumes it."))
    return _back(crisis)


@section("crisis", write=Perm.VIEW)
@require_POST
def crisis_roles(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(tenant, crisis_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, crisis, _("Choose a person and a role."))
    data = form.cleaned_data
    person = next((p for p in _people(crisis) if p.pk == data["user"]), None)
    if person is None:
        return _refused(request, crisis, _("That person does not work in this brand."))
    try:
        if data["action"] == "add":
            mode.assign_role(Actor.from_request(request), crisis, person, data["role"])
        else:
            mode.unassign_role(Actor.from_request(request), crisis, person, data["role"])
    except mode.CrisisRefused as refused:
        return _refused(request, crisis, str(refused))
    if _is_htmx(request):
        return render(request, "web/crisis/mode_roles.html", _room_context(request, tenant, crisis))
    return _back(crisis)


@section("crisis", write=Perm.VIEW)
@require_POST
def crisis_tick(request: HttpRequest, tenant: Tenant, crisis_id: int, item_id: int) -> HttpResponse:
    crisis = _crisis(tenant, crisis_id)
    item = get_object_or_404(ChecklistItem.objects.filter(crisis=crisis).select_related("crisis"), pk=item_id)
    form = TickForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, crisis, _("A note has at most %(n)d characters.") % {"n": mode.MAX_STEP_NOTE}
        )
    try:
        item = mode.tick(
            Actor.from_request(request), item, done=form.cleaned_data["done"], note=form.cleaned_data["note"]
        )
    except mode.CrisisRefused as refused:
        return _refused(request, crisis, str(refused))
    if _is_htmx(request):
        context = _room_context(request, tenant, crisis)
        return render(request, "web/crisis/mode_step.html", {**context, "item": item})
    return _back(crisis)


@section("crisis", write=Perm.VIEW)
@require_POST
def crisis_note(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(tenant, crisis_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, crisis, _("A note cannot be empty."))
    try:
        mode.add_note(Actor.from_request(request), crisis, form.cleaned_data["text"])
    except mode.CrisisRefused as refused:
        return _refused(request, crisis, str(refused))
    if _is_htmx(request):
        return render(request, "web/crisis/mode_timeline.html", _room_context(request, tenant, crisis))
    return _back(crisis)


@section("crisis")
@require_GET
def crisis_timeline(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    """The timeline alone (refreshed by the room when something happens)."""
    crisis = _crisis(tenant, crisis_id)
    return render(request, "web/crisis/mode_timeline.html", _room_context(request, tenant, crisis))


@section("crisis")
@require_GET
def crisis_banner(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The crisis banner alone: pages refresh it from here when crisis mode starts or ends."""
    return render(request, "web/crisis/mode_banner.html")


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=(("release", "release"), ("reject", "reject")))
    note = forms.CharField(required=False, max_length=1000)


@section("crisis", write=(Perm.APPROVE_POSTS, Perm.MANAGE_PUBLISHING))
@require_POST
def crisis_reply_decide(request: HttpRequest, tenant: Tenant, crisis_id: int, hold_id: int) -> HttpResponse:
    """A crisis approver releases (it is delivered) or rejects (it never goes out) a held reply."""
    crisis = _crisis(tenant, crisis_id)
    user = signed_in_user(request)
    hold = get_object_or_404(
        _crisis_holds(crisis).filter(brand__in=brands_for(user, crisis.organization)), pk=hold_id
    )
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _refused(request, crisis, _("Release or reject."))
    note = form.cleaned_data["note"][:500]
    try:
        if form.cleaned_data["decision"] == "release":
            hold_actions.release(Actor.from_request(request), hold, note)
            messages.success(request, _("Released: the reply is on its way."))
        else:
            hold_actions.reject(Actor.from_request(request), hold, note)
            messages.success(request, _("Rejected: the reply will not go out."))
    except GuardRefused as refused:
        return _refused(request, crisis, str(refused))
    return _back(crisis)
