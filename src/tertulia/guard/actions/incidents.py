"""The "compromised account" action and the incident it opens.

Reporting a channel compromised, in one step (Perm.MANAGE_CHANNELS):

1. publishing on the channel is paused (tertulia.publishing.actions.pauses.pause_channel): nothing
   of it goes out, up to the instant of sending, posts and replies alike;
2. replies on their way are held for review;
3. its tokens are revoked: the network is asked to invalidate them where its connector can (best
   effort, after the rest is committed, so a slow network delays nothing), the vault's copy is
   deleted, and the channel is marked "needs reconnect";
4. its operators and the organization's owners are told;
5. an incident opens with the runbook's checklist (tertulia.guard.recovery) and a timeline.

Closing the incident needs an explicit choice about publishing: resume it (the channel must be
reconnected first) or leave it paused (the account was not recovered). Everything is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import ChannelAccount, ConnectorError, NotSupported
from tertulia.connectors.registry import UnknownNetwork, connector_class
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, ChannelStatus, User
from tertulia.core.permissions import Perm, has_perm, may_operate_channel
from tertulia.guard.actions.common import (
    AlreadyDecided,
    GuardRefused,
    NotPermitted,
    notify_each,
    owners_of,
    person,
)
from tertulia.guard.models import Incident, IncidentEvent, IncidentState, IncidentStep
from tertulia.guard.recovery import CHECKLIST, CLOSING_STEPS, STEP_KEYS
from tertulia.live.publish import notify_organization

MAX_REPORT = 2_000
MAX_SUMMARY = 20_000
MAX_NOTE = 500
# Without a better idea, the window to review starts a day before the report.
DEFAULT_WINDOW = timedelta(days=1)
LONGEST_WINDOW = timedelta(days=90)


def incident_path(incident: Incident) -> str:
    return reverse("web:guard-incident", args=[incident.pk])


def may_manage(user: User, channel: Channel) -> bool:
    return has_perm(user, channel.organization, Perm.MANAGE_CHANNELS, channel.brand)


def may_work_on(user: User, incident: Incident) -> bool:
    """Who may tick the checklist and add notes: those who manage the channel or operate it."""
    channel = incident.channel
    return may_manage(user, channel) or may_operate_channel(user, channel)


def add_event(
    incident_id: int, actor: Actor, what: str, detail: dict[str, Any] | None = None
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident_id=incident_id,
        actor=actor.user,
        actor_label=actor.label[:255],
        what=what[:32],
        detail=detail or {},
    )


# --- reporting ------------------------------------------------------------------------------------


def report_compromised(
    actor: Actor, channel: Channel, report: str = "", suspected_since: datetime | None = None
) -> Incident:
    """Stop the channel at once and open its incident (an open one is returned as it is)."""
    user = person(actor, _("Only a person can report a channel compromised."))
    if not may_manage(user, channel):
        raise NotPermitted(_("You may not manage this channel."))
    report = report.strip()
    if len(report) > MAX_REPORT:
        raise GuardRefused(_("Say what was seen in at most %(n)d characters.") % {"n": MAX_REPORT})
    now = timezone.now()
    since = suspected_since or now - DEFAULT_WINDOW
    if since > now or since < now - LONGEST_WINDOW:
        raise GuardRefused(_("The suspected start must be within the last 90 days."))
    secrets = _read_secrets(channel)
    try:
        incident, opened = _open(actor, channel, report, since)
    except BaseException:
        secrets.clear()
        raise
    if opened:
        _revoke_remotely(actor, incident, channel, secrets)
    secrets.clear()
    return incident


def _read_secrets(channel: Channel) -> dict[str, str]:
    """A copy of the channel's credentials, to ask the network to revoke them after the vault's copy
    is gone (cleared as soon as that is done)."""
    from tertulia.vault.actions import unlocked

    try:
        with unlocked(channel) as secrets:
            return dict(secrets)
    except Exception:  # an unreadable credential (lost key): nothing to revoke with, wipe it anyway
        return {}


@transaction.atomic
def _open(actor: Actor, channel: Channel, report: str, since: datetime) -> tuple[Incident, bool]:
    from tertulia.publishing.actions.pauses import pause_channel

    channel = Channel.objects.select_for_update().select_related("organization", "brand").get(pk=channel.pk)
    existing = Incident.objects.filter(channel=channel, state=IncidentState.OPEN).first()
    if existing is not None:
        return existing, False
    paused = pause_channel(actor, channel, reason=_("Reported compromised"))
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                organization=channel.organization,
                brand=channel.brand,
                channel=channel,
                report=report,
                suspected_since=since,
                opened_by=actor.user,
                pause=paused,
            )
    except IntegrityError:
        return Incident.objects.get(channel=channel, state=IncidentState.OPEN), False
    IncidentStep.objects.bulk_create(
        [IncidentStep(incident=incident, key=step.key, position=n) for n, step in enumerate(CHECKLIST)]
    )
    add_event(incident.pk, actor, "opened", {"report": report[:300]})
    add_event(incident.pk, actor, "paused", {})
    held = _hold_pending_replies(actor, channel, incident)
    if held:
        add_event(incident.pk, actor, "replies_held", {"count": held})
    removed = _wipe_credentials(actor, channel)
    incident.credentials_removed = removed
    incident.save(update_fields=["credentials_removed"])
    add_event(incident.pk, actor, "credentials_removed" if removed else "no_credentials", {})
    from tertulia.core.actions.channels import set_channel_status

    set_channel_status(actor, channel, ChannelStatus.NEEDS_RECONNECT)
    told = _tell(actor, incident, channel)
    add_event(incident.pk, actor, "notified", {"count": told})
    record(
        actor,
        channel.organization,
        "guard.compromised",
        incident,
        {
            "channel": [None, channel.handle],
            "suspected_since": [None, since],
            "replies_held": [None, held],
            "credentials_removed": [None, removed],
        },
    )
    notify_organization(channel.organization_id, "guard")
    return incident, True


def _hold_pending_replies(actor: Actor, channel: Channel, incident: Incident) -> int:
    from tertulia.guard.actions.holds import hold_for_incident
    from tertulia.inbox.models import Delivery, Direction, Message

    pending = Message.objects.select_related("channel", "brand", "sent_by").filter(
        channel=channel, direction=Direction.OUTBOUND, delivery=Delivery.SENDING
    )
    count = 0
    for message in pending.select_for_update(of=("self",)):
        hold_for_incident(actor, message, incident)
        count += 1
    return count


def _wipe_credentials(actor: Actor, channel: Channel) -> bool:
    from tertulia.vault.actions import remove_credentials

    return remove_credentials(actor, channel)


def _tell(actor: Actor, incident: Incident, channel: Channel) -> int:
    from tertulia.core.models import Membership
    from tertulia.core.permissions import operable_channels
    from tertulia.inbox.models import NotificationKind

    members = Membership.objects.filter(
        organization=channel.organization, is_active=True, user__is_active=True
    ).select_related("user")
    people = [m.user for m in members if operable_channels(m.user, channel.organization, [channel])]
    people += owners_of(channel.organization)
    who = actor.user.get_short_name() if actor.user else actor.label

    def text() -> str:
        return _(
            "%(person)s reported @%(handle)s (%(network)s) compromised: publishing on it is paused, its "
            "access revoked, and an incident is open with what to do next."
        ) % {"person": who, "handle": channel.handle, "network": channel.network}

    return notify_each(
        channel.organization_id,
        people,
        NotificationKind.SECURITY,
        text,
        url=incident_path(incident),
        skip=actor.user,
    )


def _revoke_remotely(actor: Actor, incident: Incident, channel: Channel, secrets: dict[str, str]) -> None:
    """Best effort, outside any transaction: whatever the network says, the vault's copy is gone."""
    error = ""
    revoked = False
    try:
        cls = connector_class(channel.network)
        connector = cls(
            ChannelAccount(
                handle=channel.handle,
                external_id=channel.external_id,
                credentials=secrets,
                settings=channel.settings,
            )
        )
        connector.revoke_access()
        revoked = True
    except (UnknownNetwork, NotSupported):
        error = _(
            "This network offers Tertulia no way to revoke its access: remove the app in the "
            "account's settings."
        )
    except ConnectorError as failed:
        error = str(failed)[:400]
    except Exception as failed:  # a connector bug must not undo the rest: it is recorded
        error = repr(failed)[:400]
    Incident.objects.filter(pk=incident.pk).update(revoked_remotely=revoked, revoke_error=error[:500])
    add_event(incident.pk, actor, "revoked_remotely" if revoked else "not_revoked_remotely", {"error": error})
    record(
        actor,
        incident.organization,
        "guard.revoke_remote",
        incident,
        {"channel": [None, channel.handle], "revoked": [None, revoked], "error": [None, error]},
    )


# --- working on it --------------------------------------------------------------------------------


def _open_incident(incident: Incident) -> Incident:
    locked = (
        Incident.objects.select_for_update().select_related("channel", "organization").get(pk=incident.pk)
    )
    if locked.state != IncidentState.OPEN:
        raise AlreadyDecided(_("This incident is closed."))
    return locked


def _step(incident: Incident, key: str) -> IncidentStep:
    """The incident's row for a checklist step, locked (made if missing: the checklist may have grown)."""
    step, _created = IncidentStep.objects.select_for_update().get_or_create(
        incident=incident, key=key, defaults={"position": STEP_KEYS.index(key)}
    )
    return step


@transaction.atomic
def set_step(actor: Actor, incident: Incident, key: str, done: bool, note: str = "") -> IncidentStep:
    """Tick (or untick) a step of the checklist; who and when are kept."""
    user = person(actor, _("Only a person can work on an incident."))
    incident = _open_incident(incident)
    if not may_work_on(user, incident):
        raise NotPermitted(_("You may not work on this incident."))
    if key not in STEP_KEYS:
        raise GuardRefused(_("There is no such step."))
    if key in CLOSING_STEPS:
        raise GuardRefused(_("This step is done by closing the incident."))
    if len(note) > MAX_NOTE:
        raise GuardRefused(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
    step = _step(incident, key)
    if step.done == done:
        return step
    step.done_by = user if done else None
    step.done_at = timezone.now() if done else None
    step.note = note.strip() if done else ""
    step.save(update_fields=["done_by", "done_at", "note"])
    add_event(incident.pk, actor, "step_done" if done else "step_undone", {"step": key, "note": step.note})
    record(
        actor,
        incident.organization,
        "guard.incident_step",
        incident,
        {"step": [None, key], "done": [not done, done]},
    )
    notify_organization(incident.organization_id, "guard")
    return step


@transaction.atomic
def add_note(actor: Actor, incident: Incident, text: str) -> IncidentEvent:
    user = person(actor, _("Only a person can work on an incident."))
    incident = _open_incident(incident)
    if not may_work_on(user, incident):
        raise NotPermitted(_("You may not work on this incident."))
    text = text.strip()
    if not text:
        raise GuardRefused(_("Write the note first."))
    if len(text) > MAX_NOTE:
        raise GuardRefused(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
    event = add_event(incident.pk, actor, "note", {"text": text})
    record(actor, incident.organization, "guard.incident_note", incident, {"note": [None, text]})
    return event


def needs_no_sign_in(channel: Channel) -> bool:
    """A network connected by handle alone (the sandbox): "reconnecting" is a person's say-so."""
    from tertulia.connectors.signin import SignIn, sign_in_method

    try:
        return sign_in_method(connector_class(channel.network)) == SignIn.HANDLE
    except (UnknownNetwork, ValueError):
        return False


@transaction.atomic
def mark_reconnected(actor: Actor, incident: Incident) -> Incident:
    """For a channel with no sign-in to redo: the person says it is theirs again."""
    from tertulia.core.actions.channels import set_channel_status

    user = person(actor, _("Only a person can work on an incident."))
    incident = _open_incident(incident)
    channel = incident.channel
    if not may_manage(user, channel):
        raise NotPermitted(_("You may not manage this channel."))
    if not needs_no_sign_in(channel):
        raise GuardRefused(_("Sign in to the account again from Settings → Channels to reconnect it."))
    set_channel_status(actor, channel, ChannelStatus.ACTIVE)
    step = _step(incident, "reconnect")
    if not step.done:
        step.done_by, step.done_at = user, timezone.now()
        step.save(update_fields=["done_by", "done_at"])
    add_event(incident.pk, actor, "reconnected", {})
    return incident


@transaction.atomic
def close(actor: Actor, incident: Incident, summary: str, resume: bool | None) -> Incident:
    """Close with what happened and an explicit decision: resume publishing, or leave it paused."""
    from tertulia.publishing.actions.pauses import PauseRefused, resume_channel
    from tertulia.publishing.models import ChannelPause

    user = person(actor, _("Only a person can close an incident."))
    incident = _open_incident(incident)
    channel = incident.channel
    if not may_manage(user, channel):
        raise NotPermitted(_("You may not manage this channel."))
    if resume is None:
        raise GuardRefused(_("Say whether publishing on the channel resumes or stays paused."))
    summary = summary.strip()
    if not summary:
        raise GuardRefused(_("Write what happened before closing the incident."))
    if len(summary) > MAX_SUMMARY:
        raise GuardRefused(_("What happened has at most %(n)d characters.") % {"n": MAX_SUMMARY})
    channel.refresh_from_db()
    if resume and channel.status != ChannelStatus.ACTIVE:
        raise GuardRefused(_("Reconnect the channel before resuming publishing on it."))
    now = timezone.now()
    if resume:
        for paused in ChannelPause.objects.filter(channel=channel, ended_at__isnull=True):
            try:
                resume_channel(actor, paused)
            except PauseRefused as refused:
                raise GuardRefused(str(refused)) from None
    closing = ["write_up", "resume"] if resume else ["write_up"]
    IncidentStep.objects.filter(incident=incident, key__in=closing, done_at__isnull=True).update(
        done_by=user, done_at=now
    )
    incident.state = IncidentState.CLOSED
    incident.summary = summary
    incident.resumed = resume
    incident.closed_by = user
    incident.closed_at = now
    incident.save(update_fields=["state", "summary", "resumed", "closed_by", "closed_at"])
    add_event(incident.pk, actor, "resumed" if resume else "kept_paused", {})
    add_event(incident.pk, actor, "closed", {})
    record(
        actor,
        incident.organization,
        "guard.incident_closed",
        incident,
        {
            "state": [IncidentState.OPEN, IncidentState.CLOSED],
            "resumed": [None, resume],
            "channel": [None, channel.handle],
        },
    )
    notify_organization(incident.organization_id, "guard")
    return incident
