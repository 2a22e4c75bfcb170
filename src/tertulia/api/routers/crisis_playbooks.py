"""Crisis playbooks and post-incident reports (the same as Crisis → Playbooks in the web app).

Playbooks are listed for the brands the caller works in; another organization's, or one of a brand the
caller does not work in, is a 404. Writing needs `crisis:write` and the permission to manage publishing
in the brand; approving a holding statement needs approving posts (or managing publishing) there, and
is never for the statement's own writer. A save carries the `version` it edits: a stale one is a 409.
See docs/crisis-playbooks.md.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.schemas import MAX_ID, Input, ObjectId, Text
from tertulia.api.scopes import Scope
from tertulia.core.permissions import Perm
from tertulia.crisis import playbooks as actions
from tertulia.crisis import report as reports
from tertulia.crisis.models import Crisis, CrisisState, HoldingStatement, Playbook

router = Router(tags=["crisis"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class PlaybookStepIn(Input):
    title: Annotated[Text, Field(max_length=actions.MAX_STEP_TITLE)]
    details: Annotated[Text, Field(max_length=actions.MAX_STEP_DETAILS)] = ""
    role: Literal["", "lead", "spokesperson", "responder", "approver", "monitor"] = ""


class PlaybookContactIn(Input):
    name: Annotated[Text, Field(max_length=actions.MAX_CONTACT_NAME)]
    role: Annotated[Text, Field(max_length=actions.MAX_CONTACT_ROLE)] = ""
    phone: Annotated[Text, Field(max_length=actions.MAX_PHONE)] = ""
    email: Annotated[Text, Field(max_length=254)] = ""
    user_id: Id | None = None


class DecisionRuleIn(Input):
    kind: Literal["do", "dont"] = "do"
    text: Annotated[Text, Field(max_length=actions.MAX_RULE)]


class HoldingStatementIn(Input):
    shortcut: Annotated[Text, Field(max_length=actions.MAX_SHORTCUT)]
    language: Annotated[Text, Field(max_length=8)]
    title: Annotated[Text, Field(max_length=actions.MAX_STATEMENT_TITLE)]
    body: Annotated[Text, Field(max_length=actions.MAX_STATEMENT_BODY)]


class PlaybookStepOut(Schema):
    title: str
    details: str
    role: str


class PlaybookContactOut(Schema):
    name: str
    role: str
    phone: str
    email: str
    user_id: int | None


class DecisionRuleOut(Schema):
    kind: str
    text: str


class HoldingStatementOut(Schema):
    id: int
    shortcut: str
    language: str
    title: str
    body: str
    edited_by_id: int | None
    edited_at: datetime | None
    approved_by_id: int | None
    approved_at: datetime | None


class PlaybookIn(Input):
    name: Annotated[Text, Field(max_length=actions.MAX_NAME)]
    description: Annotated[Text, Field(max_length=actions.MAX_DESCRIPTION)] = ""
    is_default: bool = False
    steps: Annotated[list[PlaybookStepIn], Field(max_length=actions.MAX_STEPS)] = []
    contacts: Annotated[list[PlaybookContactIn], Field(max_length=actions.MAX_CONTACTS)] = []
    rules: Annotated[list[DecisionRuleIn], Field(max_length=actions.MAX_RULES)] = []
    statements: Annotated[list[HoldingStatementIn], Field(max_length=actions.MAX_STATEMENTS)] = []


class PlaybookCreate(PlaybookIn):
    brand_id: Id


class PlaybookUpdate(PlaybookIn):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)]


class PlaybookOut(Schema):
    id: int
    brand_id: int
    name: str
    description: str
    is_default: bool
    version: int
    updated_by_id: int | None
    updated_at: datetime
    steps: list[PlaybookStepOut]
    contacts: list[PlaybookContactOut]
    rules: list[DecisionRuleOut]
    statements: list[HoldingStatementOut]


class PlaybookSummary(Schema):
    id: int
    brand_id: int
    name: str
    description: str
    is_default: bool
    version: int
    updated_at: datetime


class StatementApproveIn(Input):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class CrisisReportOut(Schema):
    crisis_id: int
    title: str
    state: str
    is_rehearsal: bool
    opened_at: datetime
    closed_at: datetime | None
    report: str
    lessons: str


class CrisisReportIn(Input):
    report: Annotated[Text, Field(max_length=reports.MAX_REPORT)]
    lessons: Annotated[Text, Field(max_length=reports.MAX_LESSONS)] = ""


def _get(ctx: ApiContext, playbook_id: int) -> Playbook:
    return get_object_or_404(actions.playbooks_for(ctx.user, ctx.organization), pk=playbook_id)


def _out(playbook: Playbook) -> PlaybookOut:
    return PlaybookOut(
        id=playbook.pk,
        brand_id=playbook.brand_id,
        name=playbook.name,
        description=playbook.description,
        is_default=playbook.is_default,
        version=playbook.version,
        updated_by_id=playbook.updated_by_id,
        updated_at=playbook.updated_at,
        steps=[PlaybookStepOut(title=s.title, details=s.details, role=s.role) for s in playbook.steps.all()],
        contacts=[
            PlaybookContactOut(name=c.name, role=c.role, phone=c.phone, email=c.email, user_id=c.user_id)
            for c in playbook.contacts.all()
        ],
        rules=[DecisionRuleOut(kind=r.kind, text=r.text) for r in playbook.rules.all()],
        statements=[
            HoldingStatementOut(
                id=s.pk,
                shortcut=s.shortcut,
                language=s.language,
                title=s.title,
                body=s.body,
                edited_by_id=s.edited_by_id,
                edited_at=s.edited_at,
                approved_by_id=s.approved_by_id,
                approved_at=s.approved_at,
            )
            for s in playbook.statements.all()
        ],
    )


def _data(payload: PlaybookIn) -> actions.PlaybookIn:
    return actions.PlaybookIn(
        name=payload.name,
        description=payload.description,
        is_default=payload.is_default,
        steps=[actions.StepIn(s.title, s.details, s.role) for s in payload.steps],
        contacts=[actions.ContactIn(c.name, c.role, c.phone, c.email, c.user_id) for c in payload.contacts],
        rules=[actions.RuleIn(r.text, r.kind) for r in payload.rules],
        statements=[actions.StatementIn(s.shortcut, s.language, s.title, s.body) for s in payload.statements],
    )


def _refused(exc: actions.PlaybookRefused) -> ApiError:
    if isinstance(exc, actions.NotPermitted):
        return ApiError(403, str(exc), "permission_denied")
    if isinstance(exc, actions.StaleVersion):
        return ApiError(409, str(exc), "stale_version")
    return ApiError(422, str(exc), "playbook_refused")


@router.get("/crisis/playbooks", response=list[PlaybookSummary], summary="Playbooks of the caller's brands")
def list_playbooks(
    request: HttpRequest, brand_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> list[Playbook]:
    ctx = require(request, Scope.CRISIS_READ)
    found = actions.playbooks_for(ctx.user, ctx.organization)
    if brand_id is not None:
        found = found.filter(brand_id=brand_id)
    return list(found[:500])


@router.post("/crisis/playbooks", response={201: PlaybookOut}, summary="Create a playbook for a brand")
def create_playbook(request: HttpRequest, payload: PlaybookCreate) -> Status[PlaybookOut]:
    ctx = require(request, Scope.CRISIS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=payload.brand_id)
    try:
        playbook = actions.create_playbook(ctx.actor(request), brand, _data(payload))
    except actions.PlaybookRefused as exc:
        raise _refused(exc) from None
    return Status(201, _out(playbook))


@router.post(
    "/brands/{brand_id}/crisis/default-playbook",
    response=PlaybookOut,
    summary="The brand's default playbook (written from Tertulia's advice when it has none)",
)
def brand_default_playbook(request: HttpRequest, brand_id: ObjectId) -> PlaybookOut:
    ctx = require(request, Scope.CRISIS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    if not actions.may_edit(ctx.user, brand):
        raise ApiError(403, _("You may not edit this brand's playbooks."), "permission_denied")
    return _out(actions.default_playbook(brand, ctx.actor(request)))


@router.get("/crisis/playbooks/{playbook_id}", response=PlaybookOut, summary="A playbook, in full")
def get_playbook(request: HttpRequest, playbook_id: ObjectId) -> PlaybookOut:
    ctx = require(request, Scope.CRISIS_READ)
    return _out(_get(ctx, playbook_id))


@router.put(
    "/crisis/playbooks/{playbook_id}",
    response=PlaybookOut,
    summary="Replace a playbook (409 when `version` is not the current one)",
)
def update_playbook(request: HttpRequest, playbook_id: ObjectId, payload: PlaybookUpdate) -> PlaybookOut:
    ctx = require(request, Scope.CRISIS_WRITE)
    playbook = _get(ctx, playbook_id)
    try:
        saved = actions.update_playbook(ctx.actor(request), playbook, _data(payload), payload.version)
    except actions.PlaybookRefused as exc:
        raise _refused(exc) from None
    return _out(saved)


@router.delete("/crisis/playbooks/{playbook_id}", response={204: None}, summary="Delete a playbook")
def delete_playbook(request: HttpRequest, playbook_id: ObjectId, version: int | None = None) -> Status[None]:
    ctx = require(request, Scope.CRISIS_WRITE)
    playbook = _get(ctx, playbook_id)
    try:
        actions.delete_playbook(ctx.actor(request), playbook, version)
    except actions.PlaybookRefused as exc:
        raise _refused(exc) from None
    return Status(204, None)


@router.post(
    "/crisis/playbooks/{playbook_id}/statements/{holding_statement_id}/approve",
    response=HoldingStatementOut,
    summary="Approve a holding statement's current text (never one's own)",
)
def approve_statement(
    request: HttpRequest, playbook_id: ObjectId, holding_statement_id: ObjectId, payload: StatementApproveIn
) -> HoldingStatement:
    ctx = require(request, Scope.CRISIS_WRITE)
    playbook = _get(ctx, playbook_id)
    statement = get_object_or_404(HoldingStatement, playbook=playbook, pk=holding_statement_id)
    try:
        return actions.approve_statement(ctx.actor(request), statement, payload.version)
    except actions.PlaybookRefused as exc:
        raise _refused(exc) from None


@router.delete(
    "/crisis/playbooks/{playbook_id}/statements/{holding_statement_id}/approve",
    response=HoldingStatementOut,
    summary="Withdraw a holding statement's approval",
)
def unapprove_statement(
    request: HttpRequest, playbook_id: ObjectId, holding_statement_id: ObjectId
) -> HoldingStatement:
    ctx = require(request, Scope.CRISIS_WRITE)
    playbook = _get(ctx, playbook_id)
    statement = get_object_or_404(HoldingStatement, playbook=playbook, pk=holding_statement_id)
    try:
        return actions.unapprove_statement(ctx.actor(request), statement)
    except actions.PlaybookRefused as exc:
        raise _refused(exc) from None


# --- reports -------------------------------------------------------------------------------------


def _crisis(ctx: ApiContext, crisis_id: int) -> Crisis:
    visible = ctx.restrict(Crisis.objects.all(), Perm.VIEW, org_wide=True)
    crisis = get_object_or_404(visible.select_related("brand"), pk=crisis_id)
    if not reports.may_read(ctx.user, crisis):
        raise Http404
    return crisis


def _report_out(crisis: Crisis) -> CrisisReportOut:
    text = crisis.report or (reports.compose_report(crisis) if crisis.state == CrisisState.CLOSED else "")
    return CrisisReportOut(
        crisis_id=crisis.pk,
        title=crisis.title,
        state=crisis.state,
        is_rehearsal=crisis.is_rehearsal,
        opened_at=crisis.opened_at,
        closed_at=crisis.closed_at,
        report=text,
        lessons=crisis.lessons,
    )


@router.get(
    "/crisis/crises/{crisis_id}/report",
    response=CrisisReportOut,
    summary="The post-incident report (Markdown; `?format=md` downloads the file)",
)
def get_report(request: HttpRequest, crisis_id: ObjectId, format: Literal["json", "md"] = "json") -> object:
    ctx = require(request, Scope.CRISIS_READ)
    crisis = _crisis(ctx, crisis_id)
    if format == "md":
        response = HttpResponse(reports.download_text(crisis), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{reports.download_name(crisis)}"'
        return response
    return _report_out(crisis)


@router.put(
    "/crisis/crises/{crisis_id}/report",
    response=CrisisReportOut,
    summary="Complete the report of a closed crisis",
)
def put_report(request: HttpRequest, crisis_id: ObjectId, payload: CrisisReportIn) -> CrisisReportOut:
    ctx = require(request, Scope.CRISIS_WRITE)
    crisis = _crisis(ctx, crisis_id)
    if not reports.may_edit(ctx.user, crisis):
        raise ApiError(403, _("You may not edit this crisis's report."), "permission_denied")
    try:
        saved = reports.update_report(ctx.actor(request), crisis, payload.report, payload.lessons)
    except reports.ReportRefused as exc:
        raise ApiError(422, str(exc), "report_refused") from None
    return _report_out(saved)
