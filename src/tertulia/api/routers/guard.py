"""The hijack guard: what it held (release or reject), the "compromised account" action on a channel,
its incidents and checklists, and the organization's guard settings. The same as the web pages.

Holds and incidents are listed for the channels the caller operates (incidents also for those who
manage channels) and the holds they sent; anything else is a 404. Releasing needs `guard:write` and
the permission to send the item on every one of its channels, and is never for one's own. Reporting
a channel compromised and closing its incident need `channels:write` (and a role that manages
channels). See docs/hijack-guard.md.
"""

from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import Input, ObjectId, Patch, Text
from tertulia.api.scopes import Scope
from tertulia.core.models import Channel
from tertulia.guard import selectors
from tertulia.guard.actions import holds as hold_actions
from tertulia.guard.actions import incidents as incident_actions
from tertulia.guard.actions.common import AlreadyDecided, GuardRefused, NotPermitted
from tertulia.guard.actions.settings import update_settings
from tertulia.guard.checks.findings import describe
from tertulia.guard.gate import settings_for
from tertulia.guard.models import (
    GuardHold,
    GuardSettings,
    HoldState,
    Incident,
    IncidentEvent,
    ItemKind,
    Sensitivity,
)
from tertulia.guard.recovery import CHECKLIST, STEP_KEYS, help_for

router = Router(tags=["guard"])


class ReasonOut(Schema):
    code: str
    weight: int
    text: str


class HoldOut(Schema):
    id: int
    kind: str
    cause: str
    state: str
    brand_id: int
    channel_ids: list[int]
    post_id: int | None
    message_id: int | None
    incident_id: int | None
    text: str
    send_at: datetime | None
    sent_by_id: int | None
    sender: str
    via: str
    ip_address: str | None
    device: str
    network: str
    score: int
    threshold: int
    reasons: list[ReasonOut]
    domains: list[str]
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime

    @staticmethod
    def resolve_channel_ids(obj: GuardHold) -> list[int]:
        return sorted(channel.pk for channel in obj.channels.all())

    @staticmethod
    def resolve_sender(obj: GuardHold) -> str:
        return obj.sender_label

    @staticmethod
    def resolve_reasons(obj: GuardHold) -> list[dict[str, Any]]:
        return [
            {"code": str(r.get("code", "")), "weight": int(r.get("weight", 0)), "text": describe(r)}
            for r in obj.reasons
        ]


class HoldFilter(Schema):
    state: HoldState | None = None
    kind: ItemKind | None = None


class HoldDecisionIn(Input):
    note: Text = Field("", max_length=500, description="Why (kept with the decision).")


class CompromisedIn(Input):
    report: Text = Field("", max_length=incident_actions.MAX_REPORT, description="What was seen.")
    suspected_since: datetime | None = Field(
        None, description="Since when the account may have been in someone else's hands (default: a day ago)."
    )


class IncidentStepOut(Schema):
    key: str
    title: str
    done: bool
    done_by_id: int | None
    done_at: datetime | None
    note: str


class EventOut(Schema):
    at: datetime
    actor_id: int | None
    actor: str
    what: str
    text: str


class HelpOut(Schema):
    label: str
    url: str


class IncidentOut(Schema):
    id: int
    state: str
    brand_id: int
    channel_id: int
    report: str
    suspected_since: datetime
    opened_by_id: int | None
    opened_at: datetime
    credentials_removed: bool
    revoked_remotely: bool
    revoke_error: str
    summary: str
    resumed: bool | None
    closed_by_id: int | None
    closed_at: datetime | None
    help: HelpOut | None
    steps: list[IncidentStepOut]
    events: list[EventOut]

    @staticmethod
    def resolve_help(obj: Incident) -> dict[str, str] | None:
        found = help_for(obj.channel.network, obj.channel.settings)
        return {"label": str(found.label), "url": found.url} if found else None

    @staticmethod
    def resolve_steps(obj: Incident) -> list[dict[str, Any]]:
        titles = {step.key: str(step.title) for step in CHECKLIST}
        return [
            {
                "key": step.key,
                "title": titles.get(step.key, step.key),
                "done": step.done,
                "done_by_id": step.done_by_id,
                "done_at": step.done_at,
                "note": step.note,
            }
            for step in obj.steps.all()
        ]

    @staticmethod
    def resolve_events(obj: Incident) -> list[dict[str, Any]]:
        return [_event_out(event) for event in obj.events.all()]


class StepIn(Input):
    done: bool
    note: Text = Field("", max_length=500)


class IncidentNoteIn(Input):
    text: Text = Field(..., min_length=1, max_length=500)


class CloseIn(Input):
    summary: Text = Field(..., min_length=1, max_length=incident_actions.MAX_SUMMARY)
    publishing: Literal["resume", "keep_paused"] = Field(
        ..., description="Resume publishing on the channel (it must be reconnected), or leave it paused."
    )


class SettingsOut(Schema):
    enabled: bool
    sensitivity: str
    threshold: int
    check_device: bool
    check_hour: bool
    check_burst: bool
    check_domains: bool
    check_vocabulary: bool
    trusted_domains: list[str]


class SettingsPatch(Patch):
    enabled: bool | None = Field(None)
    sensitivity: Sensitivity | None = Field(None)
    check_device: bool | None = Field(None)
    check_hour: bool | None = Field(None)
    check_burst: bool | None = Field(None)
    check_domains: bool | None = Field(None)
    check_vocabulary: bool | None = Field(None)
    trusted_domains: list[Text] | None = Field(None, max_length=200, description="Domains, one per item.")


def _refused(refused: GuardRefused) -> ApiError:
    if isinstance(refused, NotPermitted):
        return ApiError(403, str(refused), "permission_denied")
    if isinstance(refused, AlreadyDecided):
        return ApiError(409, str(refused), "already_decided")
    return ApiError(422, str(refused), "guard_refused")


def _event_out(event: IncidentEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "what": event.what,
        "text": selectors.describe_event(event),
    }


def _settings_out(config: GuardSettings) -> dict[str, Any]:
    return {
        "enabled": config.enabled,
        "sensitivity": config.sensitivity,
        "threshold": config.threshold,
        "check_device": config.check_device,
        "check_hour": config.check_hour,
        "check_burst": config.check_burst,
        "check_domains": config.check_domains,
        "check_vocabulary": config.check_vocabulary,
        "trusted_domains": config.trusted(),
    }


def _hold(ctx: ApiContext, hold_id: int) -> GuardHold:
    return selectors.hold_for(ctx.user, ctx.organization, hold_id)


def _incident(ctx: ApiContext, incident_id: int) -> Incident:
    return selectors.incident_for(ctx.user, ctx.organization, incident_id)


# ---------------------------------------------------------------- holds


@router.get("/guard/holds", response=list[HoldOut], summary="What the hijack guard held, newest first")
@paginate(Pagination)
def list_guard_holds(request: HttpRequest, filters: Query[HoldFilter]) -> QuerySet[GuardHold]:
    ctx = require(request, Scope.GUARD_READ)
    found: QuerySet[GuardHold] = selectors.visible_holds(ctx.user, ctx.organization)
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.kind is not None:
        found = found.filter(kind=filters.kind)
    return found.order_by("-created_at", "-id")


@router.get("/guard/holds/{hold_id}", response=HoldOut, summary="One held item, with its reasons")
def get_guard_hold(request: HttpRequest, hold_id: ObjectId) -> GuardHold:
    ctx = require(request, Scope.GUARD_READ)
    return _hold(ctx, hold_id)


@router.post(
    "/guard/holds/{hold_id}/release",
    response=HoldOut,
    summary="Release a held item: it goes out (never one's own)",
)
def release_guard_hold(request: HttpRequest, hold_id: ObjectId, payload: HoldDecisionIn) -> GuardHold:
    ctx = require(request, Scope.GUARD_WRITE)
    hold = _hold(ctx, hold_id)
    try:
        done = hold_actions.release(ctx.actor(request), hold, payload.note)
    except GuardRefused as refused:
        raise _refused(refused) from None
    return done


@router.post(
    "/guard/holds/{hold_id}/reject",
    response=HoldOut,
    summary="Reject a held item (the sender may withdraw their own): it never goes out",
)
def reject_guard_hold(request: HttpRequest, hold_id: ObjectId, payload: HoldDecisionIn) -> GuardHold:
    ctx = require(request, Scope.GUARD_WRITE)
    hold = _hold(ctx, hold_id)
    try:
        done = hold_actions.reject(ctx.actor(request), hold, payload.note)
    except GuardRefused as refused:
        raise _refused(refused) from None
    return done


# ---------------------------------------------------------------- compromised accounts


@router.post(
    "/channels/{channel_id}/compromised",
    response={201: IncidentOut, 200: IncidentOut},
    summary="Report a channel compromised: pause it, revoke its access, tell people, open an incident",
)
def report_channel_compromised(
    request: HttpRequest, channel_id: ObjectId, payload: CompromisedIn
) -> Status[Incident]:
    ctx = require(request, Scope.CHANNELS_WRITE)
    channel = get_object_or_404(
        Channel.objects.select_related("brand", "organization"), pk=channel_id, organization=ctx.organization
    )
    if not incident_actions.may_manage(ctx.user, channel):
        raise Http404  # a brand the caller does not work in
    existing = Incident.objects.filter(channel=channel, state="open").exists()
    try:
        incident = incident_actions.report_compromised(
            ctx.actor(request), channel, payload.report, payload.suspected_since
        )
    except GuardRefused as refused:
        raise _refused(refused) from None
    return Status(200 if existing else 201, incident)


@router.get(
    "/guard/incidents", response=list[IncidentOut], summary="Compromised-account incidents, newest first"
)
@paginate(Pagination)
def list_guard_incidents(request: HttpRequest) -> QuerySet[Incident]:
    ctx = require(request, Scope.GUARD_READ)
    return selectors.visible_incidents(ctx.user, ctx.organization).prefetch_related("steps", "events")


@router.get(
    "/guard/incidents/{incident_id}", response=IncidentOut, summary="One incident: checklist, timeline"
)
def get_guard_incident(request: HttpRequest, incident_id: ObjectId) -> Incident:
    ctx = require(request, Scope.GUARD_READ)
    return _incident(ctx, incident_id)


@router.post(
    "/guard/incidents/{incident_id}/steps/{key}",
    response=IncidentOut,
    summary="Tick (or untick) a step of an incident's checklist",
)
def set_guard_incident_step(
    request: HttpRequest, incident_id: ObjectId, key: str, payload: StepIn
) -> Incident:
    ctx = require(request, Scope.GUARD_WRITE)
    incident = _incident(ctx, incident_id)
    if key not in STEP_KEYS:
        raise ApiError(404, _("There is no such step."), "not_found")
    try:
        incident_actions.set_step(ctx.actor(request), incident, key, payload.done, payload.note)
    except GuardRefused as refused:
        raise _refused(refused) from None
    return Incident.objects.select_related("channel").get(pk=incident.pk)


@router.post(
    "/guard/incidents/{incident_id}/notes", response={201: EventOut}, summary="Add a note to the timeline"
)
def add_guard_incident_note(
    request: HttpRequest, incident_id: ObjectId, payload: IncidentNoteIn
) -> Status[dict[str, Any]]:
    ctx = require(request, Scope.GUARD_WRITE)
    incident = _incident(ctx, incident_id)
    try:
        event = incident_actions.add_note(ctx.actor(request), incident, payload.text)
    except GuardRefused as refused:
        raise _refused(refused) from None
    return Status(201, _event_out(event))


@router.post(
    "/guard/incidents/{incident_id}/reconnected",
    response=IncidentOut,
    summary="Mark the channel reconnected (networks connected without a sign-in, such as the sandbox)",
)
def mark_guard_incident_reconnected(request: HttpRequest, incident_id: ObjectId) -> Incident:
    ctx = require(request, Scope.CHANNELS_WRITE)
    incident = _incident(ctx, incident_id)
    try:
        incident_actions.mark_reconnected(ctx.actor(request), incident)
    except GuardRefused as refused:
        raise _refused(refused) from None
    return Incident.objects.select_related("channel").get(pk=incident.pk)


@router.post(
    "/guard/incidents/{incident_id}/close",
    response=IncidentOut,
    summary="Close an incident, saying what happened and whether publishing resumes",
)
def close_guard_incident(request: HttpRequest, incident_id: ObjectId, payload: CloseIn) -> Incident:
    ctx = require(request, Scope.CHANNELS_WRITE)
    incident = _incident(ctx, incident_id)
    try:
        done = incident_actions.close(
            ctx.actor(request), incident, payload.summary, payload.publishing == "resume"
        )
    except GuardRefused as refused:
        raise _refused(refused) from None
    return done


# ---------------------------------------------------------------- settings


@router.get("/guard/settings", response=SettingsOut, summary="The organization's hijack guard settings")
def get_guard_settings(request: HttpRequest) -> dict[str, Any]:
    ctx = require(request, Scope.GUARD_MANAGE)
    return _settings_out(settings_for(ctx.organization))


@router.patch("/guard/settings", response=SettingsOut, summary="Change the hijack guard's settings")
def update_guard_settings(request: HttpRequest, payload: SettingsPatch) -> dict[str, Any]:
    ctx = require(request, Scope.GUARD_MANAGE)
    values = payload.model_dump(exclude_unset=True)
    if "trusted_domains" in values:
        values["trusted_domains"] = "\n".join(values["trusted_domains"])
    try:
        config = update_settings(ctx.actor(request), ctx.organization, **values)
    except GuardRefused as refused:
        raise _refused(refused) from None
    return _settings_out(config)
