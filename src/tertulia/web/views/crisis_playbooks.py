"""Crisis playbooks in the web app: the brand's playbooks (list, read, edit, delete; approve holding
statements), the "Rehearse" button, and the post-incident report of a closed crisis (read, complete,
download as Markdown).

Thin: look up within what the person may see (else 404), call tertulia.crisis.playbooks / .report
(which check permissions again), say what happened.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.actions.rehearsals import NoSandboxChannel, stage_rehearsal
from tertulia.core.models import Organization
from tertulia.core.permissions import Perm, covers_all_brands, restrict
from tertulia.crisis import playbooks as actions
from tertulia.crisis import report as reports
from tertulia.crisis.models import (
    Crisis,
    CrisisRoleKind,
    CrisisState,
    HoldingStatement,
    Playbook,
    RuleKind,
)
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

EXTRA_ROWS = 3


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _playbook(request: HttpRequest, tenant: Tenant, playbook_id: int) -> Playbook:
    return get_object_or_404(actions.playbooks_for(signed_in_user(request), _org(tenant)), pk=playbook_id)


def _closed_crises(request: HttpRequest, tenant: Tenant) -> list[Crisis]:
    """The reports this person may read (an organization-wide one only if they work in every brand)."""
    user = signed_in_user(request)
    visible = restrict(Crisis.objects.all(), user, _org(tenant), Perm.VIEW, org_wide=True)
    if not covers_all_brands(user, _org(tenant)):
        visible = visible.filter(brand__isnull=False)
    return list(visible.filter(state=CrisisState.CLOSED).select_related("brand")[:50])


@section("crisis")
@require_GET
def playbook_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brand = tenant.brand
    found = list(actions.playbooks_for(user, _org(tenant)).filter(brand=brand)) if brand else []
    return render(
        request,
        "web/crisis/playbooks_list.html",
        {
            "section": "crisis",
            "brand": brand,
            "playbooks": found,
            "can_edit": brand is not None and actions.may_edit(user, brand),
            "can_rehearse": brand is not None and tenant.can(Perm.RUN_SIMULATIONS),
            "closed_crises": _closed_crises(request, tenant),
        },
    )


@section("crisis", write=Perm.MANAGE_PUBLISHING)
@require_POST
def playbook_default(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brand = tenant.brand
    if brand is None or not actions.may_edit(user, brand):
        messages.error(request, _("You may not edit this brand's playbooks."))
        return redirect("web:crisis-playbooks")
    playbook = actions.default_playbook(brand, Actor.from_request(request))
    messages.success(
        request, _("The default playbook is ready. Read it, adapt it and approve its statements.")
    )
    return redirect("web:crisis-playbook", playbook.pk)


@section("crisis", write=Perm.RUN_SIMULATIONS)
@require_POST
def rehearse(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Stage a simulated surge on the brand's sandbox channels: detection finds it, an alert is raised
    (marked as a rehearsal) and the team can switch crisis mode on as a rehearsal."""
    if tenant.brand is None:
        return redirect("web:crisis-playbooks")
    try:
        stage_rehearsal(Actor.from_request(request), tenant.brand)
    except NoSandboxChannel:
        messages.error(request, _("This brand has no sandbox channel to rehearse on."))
    else:
        messages.success(
            request,
            _(
                "A simulated surge is under way on the sandbox network. In a few minutes the detector "
                "should raise a rehearsal alert: acknowledge it and start crisis mode as a rehearsal."
            ),
        )
    return redirect("web:crisis-playbooks")


@section("crisis")
@require_GET
def playbook_detail(request: HttpRequest, tenant: Tenant, playbook_id: int) -> HttpResponse:
    user = signed_in_user(request)
    playbook = _playbook(request, tenant, playbook_id)
    statements = list(playbook.statements.select_related("approved_by", "edited_by"))
    roles = dict(CrisisRoleKind.choices)
    return render(
        request,
        "web/crisis/playbooks_detail.html",
        {
            "section": "crisis",
            "playbook": playbook,
            "steps": [(step, roles.get(step.role, step.role)) for step in playbook.steps.all()],
            "contacts": list(playbook.contacts.all()),
            "rules": list(playbook.rules.all()),
            "statements": statements,
            "can_edit": actions.may_edit(user, playbook.brand),
            "can_approve": actions.may_approve(user, playbook.brand),
            "user_id": user.pk,
        },
    )


def _rows(request: HttpRequest, *names: str) -> list[list[str]]:
    """Parallel lists of a form's repeated rows; rows whose fields are all empty are dropped."""
    columns = [request.POST.getlist(name) for name in names]
    length = max((len(c) for c in columns), default=0)
    rows = []
    for i in range(min(length, 200)):
        row = [c[i] if i < len(c) else "" for c in columns]
        if any(value.strip() for value in row):
            rows.append(row)
    return rows


def _steps(request: HttpRequest) -> list[actions.StepIn]:
    # A step's role is a select (always sent): rows are read by position and kept when they have text.
    titles = request.POST.getlist("step_title")
    details = request.POST.getlist("step_details")
    roles = request.POST.getlist("step_role")
    steps = []
    for i, title in enumerate(titles[:200]):
        detail = details[i] if i < len(details) else ""
        role = roles[i] if i < len(roles) else ""
        if title.strip() or detail.strip():
            steps.append(actions.StepIn(title, detail, role))
    return steps


def _posted(request: HttpRequest) -> actions.PlaybookIn:
    contacts = []
    for name, role, phone, email, user_id in _rows(
        request, "contact_name", "contact_role", "contact_phone", "contact_email", "contact_user"
    ):
        contacts.append(
            actions.ContactIn(
                name, role, phone, email, int(user_id) if user_id.isdigit() and len(user_id) < 12 else None
            )
        )
    # A rule's kind alone (the select always has a value) is no rule: keep rows with text.
    rules = [
        actions.RuleIn(text, kind)
        for kind, text in zip(
            request.POST.getlist("rule_kind"), request.POST.getlist("rule_text"), strict=False
        )
        if text.strip()
    ]
    return actions.PlaybookIn(
        name=request.POST.get("name", ""),
        description=request.POST.get("description", ""),
        is_default=request.POST.get("is_default") == "1",
        steps=_steps(request),
        contacts=contacts,
        rules=rules,
        statements=[
            actions.StatementIn(shortcut, language, title, body)
            for shortcut, language, title, body in _rows(
                request, "statement_shortcut", "statement_language", "statement_title", "statement_body"
            )
        ],
    )


def _editor(
    request: HttpRequest,
    tenant: Tenant,
    data: actions.PlaybookIn,
    playbook: Playbook | None,
    version: int,
    status: int = 200,
) -> HttpResponse:
    blank_steps = [actions.StepIn("")] * EXTRA_ROWS
    return render(
        request,
        "web/crisis/playbooks_edit.html",
        {
            "section": "crisis",
            "playbook": playbook,
            "brand": playbook.brand if playbook else tenant.brand,
            "data": data,
            "version": version,
            "steps": [*data.steps, *blank_steps],
            "contacts": [*data.contacts, *[actions.ContactIn("")] * EXTRA_ROWS],
            "rules": [*data.rules, *[actions.RuleIn("")] * EXTRA_ROWS],
            "statements": [*data.statements, *[actions.StatementIn("", "", "", "")] * 2],
            "role_choices": CrisisRoleKind.choices,
            "rule_choices": RuleKind.choices,
        },
        status=status,
    )


@section("crisis", write=Perm.MANAGE_PUBLISHING)
@require_http_methods(["GET", "POST"])
def playbook_new(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brand = tenant.brand
    if brand is None or not actions.may_edit(user, brand):
        messages.error(request, _("You may not edit this brand's playbooks."))
        return redirect("web:crisis-playbooks")
    if request.method == "POST":
        data = _posted(request)
        try:
            playbook = actions.create_playbook(Actor.from_request(request), brand, data)
        except actions.PlaybookRefused as exc:
            messages.error(request, str(exc))
            return _editor(request, tenant, data, None, 0, status=422)
        messages.success(request, _("Playbook saved."))
        return redirect("web:crisis-playbook", playbook.pk)
    return _editor(request, tenant, actions.PlaybookIn(name=""), None, 0)


@section("crisis", write=Perm.MANAGE_PUBLISHING)
@require_http_methods(["GET", "POST"])
def playbook_edit(request: HttpRequest, tenant: Tenant, playbook_id: int) -> HttpResponse:
    user = signed_in_user(request)
    playbook = _playbook(request, tenant, playbook_id)
    if not actions.may_edit(user, playbook.brand):
        messages.error(request, _("You may not edit this brand's playbooks."))
        return redirect("web:crisis-playbook", playbook.pk)
    if request.method == "POST":
        data = _posted(request)
        version_text = request.POST.get("version", "")
        version = int(version_text) if version_text.isdigit() and len(version_text) < 10 else 0
        try:
            saved = actions.update_playbook(Actor.from_request(request), playbook, data, version)
        except actions.StaleVersion as exc:
            messages.error(request, str(exc))
            return _editor(request, tenant, data, playbook, playbook.version, status=409)
        except actions.PlaybookRefused as exc:
            messages.error(request, str(exc))
            return _editor(request, tenant, data, playbook, version, status=422)
        messages.success(request, _("Playbook saved."))
        return redirect("web:crisis-playbook", saved.pk)
    return _editor(request, tenant, actions.as_input(playbook), playbook, playbook.version)


@section("crisis", write=Perm.MANAGE_PUBLISHING)
@require_POST
def playbook_delete(request: HttpRequest, tenant: Tenant, playbook_id: int) -> HttpResponse:
    playbook = _playbook(request, tenant, playbook_id)
    version_text = request.POST.get("version", "")
    version = int(version_text) if version_text.isdigit() and len(version_text) < 10 else None
    try:
        actions.delete_playbook(Actor.from_request(request), playbook, version)
    except actions.PlaybookRefused as exc:
        messages.error(request, str(exc))
        return redirect("web:crisis-playbook", playbook.pk)
    messages.success(request, _("Playbook deleted."))
    return redirect("web:crisis-playbooks")


@section("crisis", write=[Perm.APPROVE_POSTS, Perm.MANAGE_PUBLISHING])
@require_POST
def statement_approve(
    request: HttpRequest, tenant: Tenant, playbook_id: int, holding_statement_id: int
) -> HttpResponse:
    playbook = _playbook(request, tenant, playbook_id)
    statement = get_object_or_404(HoldingStatement, playbook=playbook, pk=holding_statement_id)
    version_text = request.POST.get("version", "")
    version = int(version_text) if version_text.isdigit() and len(version_text) < 10 else None
    try:
        if request.POST.get("approve", "1") == "0":
            actions.unapprove_statement(Actor.from_request(request), statement)
            messages.success(request, _("Approval withdrawn: the statement will not be pinned."))
        else:
            actions.approve_statement(Actor.from_request(request), statement, version)
            messages.success(request, _("Statement approved: it will be pinned in the inbox in crisis mode."))
    except actions.PlaybookRefused as exc:
        messages.error(request, str(exc))
    return redirect("web:crisis-playbook", playbook.pk)


# --- the post-incident report -------------------------------------------------------------------


def _crisis(request: HttpRequest, tenant: Tenant, crisis_id: int) -> Crisis:
    user = signed_in_user(request)
    visible = restrict(Crisis.objects.all(), user, _org(tenant), Perm.VIEW, org_wide=True)
    crisis = get_object_or_404(visible.select_related("brand", "playbook"), pk=crisis_id)
    if not reports.may_read(user, crisis):
        raise Http404
    return crisis


@section("crisis")
@require_GET
def report_view(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(request, tenant, crisis_id)
    text = crisis.report or (reports.compose_report(crisis) if crisis.state == CrisisState.CLOSED else "")
    return render(
        request,
        "web/crisis/playbooks_report.html",
        {
            "section": "crisis",
            "crisis": crisis,
            "report_html": reports.render_markdown(text),
            "lessons": crisis.lessons,
            "can_edit": crisis.state == CrisisState.CLOSED
            and reports.may_edit(signed_in_user(request), crisis),
        },
    )


@section("crisis", write=Perm.MANAGE_PUBLISHING)
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(request, tenant, crisis_id)
    if request.method == "POST":
        report_text = request.POST.get("report", "")
        lessons = request.POST.get("lessons", "")
        try:
            if request.POST.get("rewrite") == "1":
                reports.rewrite_report(Actor.from_request(request), crisis)
                messages.success(request, _("The report was written again from the records."))
            else:
                reports.update_report(Actor.from_request(request), crisis, report_text, lessons)
                messages.success(request, _("Report saved."))
        except reports.ReportRefused as exc:
            messages.error(request, str(exc))
            crisis.report, crisis.lessons = report_text, lessons
            return render(
                request,
                "web/crisis/playbooks_report_edit.html",
                {"section": "crisis", "crisis": crisis},
                status=422,
            )
        return redirect("web:crisis-report", crisis.pk)
    if crisis.state != CrisisState.CLOSED or not reports.may_edit(signed_in_user(request), crisis):
        messages.error(request, _("You may not edit this crisis's report."))
        return redirect("web:crisis-report", crisis.pk)
    if not crisis.report:
        crisis.report = reports.compose_report(crisis)
    return render(request, "web/crisis/playbooks_report_edit.html", {"section": "crisis", "crisis": crisis})


@section("crisis")
@require_GET
def report_download(request: HttpRequest, tenant: Tenant, crisis_id: int) -> HttpResponse:
    crisis = _crisis(request, tenant, crisis_id)
    response = HttpResponse(reports.download_text(crisis), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reports.download_name(crisis)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
