"""What people may see of the guard: held items and incidents, narrowed to their channels. An object
outside what they may see is "not found", whether it is another organization's or not theirs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from tertulia.core.models import Channel, Organization, User
from tertulia.core.permissions import Perm, brands_for, has_perm, operable_channels
from tertulia.guard.actions.common import may_decide
from tertulia.guard.actions.incidents import may_manage, may_work_on, needs_no_sign_in
from tertulia.guard.checks.findings import describe
from tertulia.guard.models import GuardHold, HoldState, Incident, IncidentEvent
from tertulia.guard.recovery import CHECKLIST, help_for


def _operated_ids(user: User, organization: Organization) -> list[int]:
    channels = list(Channel.objects.filter(organization=organization))
    return [channel.pk for channel in operable_channels(user, organization, channels)]


def visible_holds(user: User, organization: Organization) -> QuerySet[GuardHold]:
    """Holds on channels the person operates, and the ones they sent."""
    if not has_perm(user, organization, Perm.VIEW):
        return GuardHold.objects.none()
    mine = Q(sent_by=user)
    operated = Q(channels__in=_operated_ids(user, organization))
    ids = GuardHold.objects.filter(organization=organization).filter(mine | operated).values("pk")
    return (
        GuardHold.objects.filter(pk__in=ids)
        .select_related("sent_by", "decided_by", "brand", "post", "message", "incident")
        .prefetch_related("channels")
    )


def pending_holds(user: User, organization: Organization) -> QuerySet[GuardHold]:
    return visible_holds(user, organization).filter(state=HoldState.PENDING)


def hold_for(user: User, organization: Organization, hold_id: int) -> GuardHold:
    found = visible_holds(user, organization).filter(pk=hold_id).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class HoldView:
    hold: GuardHold
    reasons: list[str]
    can_release: bool
    can_reject: bool
    own: bool


def hold_view(user: User, hold: GuardHold) -> HoldView:
    own = hold.sent_by_id is not None and hold.sent_by_id == user.pk
    decider = hold.is_pending and may_decide(user, hold)
    return HoldView(
        hold=hold,
        reasons=[describe(reason) for reason in hold.reasons],
        can_release=decider and not own,
        can_reject=hold.is_pending and (decider or own),
        own=own,
    )


def visible_incidents(user: User, organization: Organization) -> QuerySet[Incident]:
    """Incidents of channels the person manages or operates."""
    incidents = Incident.objects.filter(organization=organization).select_related(
        "channel", "brand", "opened_by"
    )
    managed = brands_for(user, organization, Perm.MANAGE_CHANNELS)  # none without the permission
    return incidents.filter(Q(brand__in=managed) | Q(channel_id__in=_operated_ids(user, organization)))


def incident_for(user: User, organization: Organization, incident_id: int) -> Incident:
    found = visible_incidents(user, organization).filter(pk=incident_id).first()
    if found is None or not may_work_on(user, found):
        raise Http404
    return found


def describe_event(event: IncidentEvent) -> str:
    detail: dict[str, Any] = event.detail or {}
    titles = {step.key: str(step.title) for step in CHECKLIST}
    what = event.what
    if what == "opened":
        return _("Reported compromised.")
    if what == "paused":
        return _("Publishing on the channel paused.")
    if what == "replies_held":
        return _("Replies on their way held for review: %(count)d.") % {"count": int(detail.get("count", 0))}
    if what == "credentials_removed":
        return _("The channel's credentials deleted from the vault; the channel needs reconnecting.")
    if what == "no_credentials":
        return _("The channel had no credentials in the vault; it needs reconnecting.")
    if what == "revoked_remotely":
        return _("The network was asked to revoke Tertulia's access, and did.")
    if what == "not_revoked_remotely":
        return _("Access not revoked on the network: %(error)s") % {"error": detail.get("error", "")}
    if what == "notified":
        return _("People told: %(count)d.") % {"count": int(detail.get("count", 0))}
    if what == "step_done":
        return _("Done: %(step)s.") % {"step": titles.get(str(detail.get("step")), detail.get("step", ""))}
    if what == "step_undone":
        return _("Not done after all: %(step)s.") % {
            "step": titles.get(str(detail.get("step")), detail.get("step", ""))
        }
    if what == "note":
        return str(detail.get("text", ""))
    if what == "reconnected":
        return _("Marked reconnected.")
    if what == "hold_released":
        return _("A held item was released.")
    if what == "hold_rejected":
        return _("A held item was rejected.")
    if what == "hold_withdrawn":
        return _("A held item was withdrawn.")
    if what == "resumed":
        return _("Publishing on the channel resumed.")
    if what == "kept_paused":
        return _("Publishing on the channel left paused.")
    if what == "closed":
        return _("Incident closed.")
    return what


@dataclass(frozen=True)
class StepView:
    key: str
    title: str
    help: str
    done_by: str
    done_at: Any
    note: str
    by_closing: bool


def incident_context(user: User, incident: Incident) -> dict[str, Any]:
    from tertulia.guard.recovery import CLOSING_STEPS
    from tertulia.inbox.models import Delivery, Direction, Message
    from tertulia.publishing.actions.pauses import held_on_channel
    from tertulia.publishing.models import DeliveryTarget, TargetState

    channel = incident.channel
    steps = {step.key: step for step in incident.steps.select_related("done_by")}
    checklist = []
    for definition in CHECKLIST:
        row = steps.get(definition.key)
        done_by = row.done_by if row is not None else None
        checklist.append(
            StepView(
                key=definition.key,
                title=str(definition.title),
                help=str(definition.help),
                done_by=(done_by.get_short_name() if done_by else ""),
                done_at=row.done_at if row is not None else None,
                note=row.note if row is not None else "",
                by_closing=definition.key in CLOSING_STEPS,
            )
        )
    window = Q(sent_at__gte=incident.suspected_since)
    published = (
        DeliveryTarget.objects.filter(channel=channel, state=TargetState.SENT)
        .filter(window)
        .select_related("post")
        .order_by("-sent_at")[:100]
    )
    answered = (
        Message.objects.filter(channel=channel, direction=Direction.OUTBOUND, delivery=Delivery.SENT)
        .filter(window)
        .select_related("sent_by")
        .order_by("-sent_at")[:100]
    )
    events = [(event, describe_event(event)) for event in incident.events.select_related("actor")]
    return {
        "incident": incident,
        "channel": channel,
        "checklist": checklist,
        "help": help_for(channel.network, channel.settings),
        "published": published,
        "answered": answered,
        "waiting": held_on_channel(channel).select_related("post")[:100],
        "holds": GuardHold.objects.filter(incident=incident).order_by("-created_at")[:100],
        "pending_holds": GuardHold.objects.filter(channels=channel, state=HoldState.PENDING).count(),
        "events": events,
        "can_manage": may_manage(user, channel),
        "can_work": may_work_on(user, incident),
        "no_sign_in": needs_no_sign_in(channel),
    }
