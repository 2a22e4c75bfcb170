"""Settings → Publishing (/settings/publishing/): the brand's approval workflows, and pausing publishing.

Anyone in the organization may look (Perm.VIEW); changing a workflow, pausing and resuming need
Perm.MANAGE_PUBLISHING. The work is done (and audited) by tertulia.publishing.actions.workflows
and .pauses. Pauses of another organization are "not found". The pause controls are also on the
Crisis page (`pause_overview` gives both pages what they show).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, Role, User
from tertulia.core.permissions import Perm
from tertulia.publishing.actions.pauses import PauseRefused, held, pause, resume
from tertulia.publishing.actions.workflows import WorkflowRefused, set_workflow
from tertulia.publishing.approvals import in_crisis
from tertulia.publishing.links import post_path
from tertulia.publishing.models import ApprovalWorkflow, DeliveryTarget, Pause, StepMode, WorkflowKind
from tertulia.web.forms_publishing import (
    MAX_ROWS,
    PauseForm,
    ResumeForm,
    WorkflowEditor,
    approving_people,
    person_label,
)
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import section

HELD_SHOWN = 50
# Where the pause and resume buttons send people back to (they are on two pages).
RETURN_TO = {"settings": "web:publishing-settings", "crisis": "web:crisis"}
KIND_TITLES: dict[str, Promise] = {
    WorkflowKind.NORMAL: _lazy("Everyday workflow"),
    WorkflowKind.CRISIS: _lazy("Crisis mode workflow"),
}


@dataclass
class StepView:
    position: int
    name: str
    mode: str  # as people read it
    roles: list[str]
    # (label, still an approver)
    people: list[tuple[str, bool]]


@dataclass
class WorkflowPanel:
    kind: str
    title: Promise
    workflow: ApprovalWorkflow | None
    editor: WorkflowEditor
    in_force: bool
    steps: list[StepView] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        """The stored workflow is what its kind does (otherwise the built-in rule, or no review)."""
        return self.workflow is not None and self.workflow.is_active and bool(self.steps)


@dataclass
class HeldRow:
    target: DeliveryTarget
    url: str


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def _mode_label(mode: str) -> str:
    return str(StepMode(mode).label) if mode in StepMode.values else mode


def _workflow_of(brand: Brand, kind: str) -> ApprovalWorkflow | None:
    return ApprovalWorkflow.objects.filter(brand=brand, kind=kind).prefetch_related("steps__people").first()


def _panels(
    brand: Brand, editors: dict[str, WorkflowEditor], people: list[User], can_edit: bool
) -> list[WorkflowPanel]:
    approvers = {person.pk for person in people}
    crisis_now = in_crisis(brand)
    panels = []
    for kind in (WorkflowKind.NORMAL, WorkflowKind.CRISIS):
        workflow = _workflow_of(brand, kind)
        editor = editors.get(kind) or WorkflowEditor(kind, brand, workflow, people=people)
        if not can_edit:
            editor.disable()
        steps = []
        if workflow is not None:
            for step in workflow.steps.all():
                steps.append(
                    StepView(
                        position=step.position,
                        name=step.name,
                        mode=_mode_label(step.mode),
                        roles=[_role_label(role) for role in step.roles or []],
                        people=[(person_label(p), p.pk in approvers) for p in step.people.all()],
                    )
                )
        panels.append(
            WorkflowPanel(
                kind=kind,
                title=KIND_TITLES[kind],
                workflow=workflow,
                editor=editor,
                in_force=crisis_now == (kind == WorkflowKind.CRISIS),
                steps=steps,
            )
        )
    return panels


def pause_overview(tenant: Tenant) -> dict[str, Any]:
    """What the pause block shows: the organization's active pauses and what they hold back."""
    organization = tenant.organization
    assert organization is not None
    pauses = list(
        tenant.restrict(Pause.objects.filter(ended_at__isnull=True), org_wide=True).select_related(
            "brand", "started_by"
        )
    )
    rows: list[HeldRow] = []
    count = 0
    if pauses:
        waiting = tenant.restrict(held(organization))
        if all(p.brand_id is not None for p in pauses):
            waiting = waiting.filter(brand_id__in=[p.brand_id for p in pauses])
        count = waiting.count()
        rows = [
            HeldRow(target=target, url=post_path(target.post_id))
            for target in waiting.select_related("post", "channel", "brand").order_by("due_at", "pk")[
                :HELD_SHOWN
            ]
        ]
    return {
        "pauses": pauses,
        "held_rows": rows,
        "held_count": count,
        "held_shown": HELD_SHOWN,
        "can_pause": tenant.can(Perm.MANAGE_PUBLISHING),
        "pause_form": PauseForm(),
        "resume_form": ResumeForm(),
    }


def _page(
    request: HttpRequest,
    tenant: Tenant,
    *,
    status: int = 200,
    editors: dict[str, WorkflowEditor] | None = None,
) -> HttpResponse:
    brand = tenant.brand
    can_edit = tenant.can(Perm.MANAGE_PUBLISHING)
    context: dict[str, Any] = {
        "section": "settings",
        "brand": brand,
        "can_edit": can_edit,
        "max_rows": MAX_ROWS,
        "return_to": "settings",
        **pause_overview(tenant),
    }
    if brand is not None:
        people = approving_people(brand)
        context.update(
            panels=_panels(brand, editors or {}, people, can_edit),
            crisis_now=in_crisis(brand),
            people_count=len(people),
        )
    return render(request, "web/publishing_settings.html", context, status=status)


def _kind(kind: str) -> str:
    if kind not in WorkflowKind.values:
        raise Http404
    return kind


@section("settings")
@require_GET
def publishing_settings(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


@section("settings", Perm.MANAGE_PUBLISHING)
@require_POST
def save_workflow(request: HttpRequest, tenant: Tenant, kind: str) -> HttpResponse:
    kind = _kind(kind)
    brand = tenant.brand
    if brand is None:
        return redirect("web:publishing-settings")
    workflow = _workflow_of(brand, kind)
    people = approving_people(brand)
    editor = WorkflowEditor(kind, brand, workflow, request.POST, people=people)
    if editor.is_valid():
        specs = editor.steps.specs()
        try:
            set_workflow(Actor.from_request(request), brand, kind, specs, is_active=editor.is_active)
        except WorkflowRefused as refused:
            # Shown back in the order it was sent, so "step 2" in a message is the second row.
            editor = WorkflowEditor(
                kind, brand, workflow, people=people, steps=specs, is_active=editor.is_active
            )
            editor.errors = refused.messages
        else:
            messages.success(
                request,
                _("%(workflow)s saved. Posts sent for review from now on go through it.")
                % {"workflow": KIND_TITLES[kind]},
            )
            return redirect(f"{reverse('web:publishing-settings')}#workflow-{kind}")
    return _page(request, tenant, status=400, editors={kind: editor})


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(RETURN_TO.get(request.POST.get("return_to", ""), RETURN_TO["settings"]))


@section("settings", Perm.MANAGE_PUBLISHING)
@require_POST
def pause_publishing(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    organization = tenant.organization
    assert organization is not None
    form = PauseForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back(request)
    data = form.cleaned_data
    brand = tenant.brand if data["scope"] == "brand" else None
    if data["scope"] == "brand" and brand is None:
        messages.error(request, _("This organization has no brand to pause."))
        return _back(request)
    if data["crisis"]:
        return _start_crisis(request, organization, brand, data["reason"])
    already = Pause.objects.filter(organization=organization, brand=brand, ended_at__isnull=True).first()
    try:
        done = pause(
            Actor.from_request(request), organization, brand, reason=data["reason"], crisis=data["crisis"]
        )
    except PauseRefused as refused:
        messages.error(request, str(refused))
        return _back(request)
    scope = brand.name if brand is not None else _("every brand")
    if already is None or already.pk != done.pk:
        if done.is_crisis:
            text = _("Publishing is paused for %(scope)s, in crisis mode.")
        else:
            text = _("Publishing is paused for %(scope)s.")
    elif done.is_crisis and not already.is_crisis:
        text = _("Publishing was already paused for %(scope)s; crisis mode is now on.")
    else:
        text = _("Publishing was already paused for %(scope)s.")
    messages.success(request, text % {"scope": scope})
    return _back(request)


def _start_crisis(
    request: HttpRequest, organization: Organization, brand: Brand | None, reason: str
) -> HttpResponse:
    """Crisis mode is one switch (tertulia.crisis.mode): the pause, the crisis workflow, the room."""
    from tertulia.crisis import mode

    title = reason.strip()[: mode.MAX_TITLE] or _("Crisis mode")
    already = Pause.objects.filter(organization=organization, brand=brand, ended_at__isnull=True).first()
    try:
        crisis = mode.start_crisis(Actor.from_request(request), organization, brand, title)
    except mode.CrisisRefused as refused:
        messages.error(request, str(refused))
        return _back(request)
    scope = brand.name if brand is not None else _("every brand")
    if already is None:
        text = _("Publishing is paused for %(scope)s, in crisis mode.")
    elif not already.is_crisis:
        text = _("Publishing was already paused for %(scope)s; crisis mode is now on.")
    else:
        text = _("Crisis mode was already on here: this is its room.")
    messages.success(request, text % {"scope": scope})
    return redirect("web:crisis-room", crisis_id=crisis.pk)


def _end_crisis_of(request: HttpRequest, paused: Pause) -> HttpResponse | None:
    """Resuming a pause that an active crisis holds ends that crisis (one switch), or None."""
    from tertulia.crisis import mode
    from tertulia.crisis.models import Crisis, CrisisState

    crisis = Crisis.objects.filter(pause=paused, state=CrisisState.ACTIVE).first()
    if crisis is None:
        return None
    try:
        mode.end_crisis(Actor.from_request(request), crisis, resume_publishing=True)
    except mode.CrisisRefused as refused:
        messages.error(request, str(refused))
        return _back(request)
    messages.success(request, _("Crisis mode is off. Publishing resumed: held posts go out now."))
    return _back(request)


@section("settings", Perm.MANAGE_PUBLISHING)
@require_POST
def resume_publishing(request: HttpRequest, tenant: Tenant, pause_id: int) -> HttpResponse:
    paused = get_object_or_404(tenant.restrict(Pause.objects.all(), org_wide=True), pk=pause_id)
    if not ResumeForm(request.POST).is_valid():
        messages.error(
            request, _("Tick the box to confirm: held posts go out as soon as publishing resumes.")
        )
        return _back(request)
    ended = _end_crisis_of(request, paused)
    if ended is not None:
        return ended
    try:
        resume(Actor.from_request(request), paused)
    except PauseRefused as refused:
        messages.error(request, str(refused))
        return _back(request)
    scope = paused.brand.name if paused.brand is not None else _("every brand")
    messages.success(
        request, _("Publishing resumed for %(scope)s. Held posts are going out now.") % {"scope": scope}
    )
    return _back(request)


@section("publish")
@require_GET
def paused_banner(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The "publishing is paused" banner alone: pages refresh it from here when a pause starts or ends."""
    return render(request, "web/partials/publishing_paused.html")
