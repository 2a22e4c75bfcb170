"""Holding what the gate found suspicious, and the second person's decision.

`check_post` and `check_reply` are the gate's entry points (called by publishing and the inbox).
`release` sends a held item on its normal way (a post into the delivery ledger, which sends it
exactly once; a reply to the delivery task); `reject` stops it for good. The sender can never
release their own, only withdraw it; the decider needs the permission to send it, on every one of
its channels. Every step is in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, User
from tertulia.guard.actions.common import (
    AlreadyDecided,
    GuardRefused,
    NotPermitted,
    decision_perm,
    may_decide,
    notify_each,
    people_who_operate,
    person,
)
from tertulia.guard.checks.findings import COMPROMISED, Finding, describe
from tertulia.guard.gate import Outgoing, Verdict, bucket_of, judge, settings_for
from tertulia.guard.learning import learn_device, learn_domains
from tertulia.guard.models import (
    DeviceSource,
    GuardHold,
    HoldCause,
    HoldState,
    Incident,
    ItemKind,
    OutgoingEvent,
)
from tertulia.live.publish import notify_organization

if TYPE_CHECKING:
    from tertulia.inbox.models import Message
    from tertulia.publishing.models import Post

MAX_NOTE = 500
MAX_TEXT = 20_000


def hold_path(hold: GuardHold) -> str:
    return reverse("web:guard-hold", args=[hold.pk])


def post_item(post_id: int) -> str:
    return f"post:{post_id}"


def reply_item(message_id: int) -> str:
    return f"reply:{message_id}"


# --- the gate's entry points ---------------------------------------------------------------------


def check_post(
    actor: Actor, post: Post, when: datetime, texts: Sequence[str], channels: Sequence[Channel]
) -> GuardHold | None:
    """Judge a post about to enter the delivery ledger; the hold if it must wait (None: let it go).

    Runs inside the scheduling transaction: the post is locked, so two people cannot both pass it.
    """
    outgoing = Outgoing(
        ItemKind.POST, post.organization, post.brand, channels, texts, when, post_item(post.pk)
    )
    return _decide(actor, outgoing, post=post)


def check_reply(actor: Actor, message: Message) -> GuardHold | None:
    """Judge a reply or direct message just stored (delivery "sending"); held: its delivery is "held"."""
    from tertulia.inbox.models import Delivery, Message

    crisis_hold = hold_for_crisis(actor, message)
    if crisis_hold is not None:
        return crisis_hold
    channel = message.conversation.channel  # loaded already by the reply action
    outgoing = Outgoing(
        ItemKind.REPLY,
        channel.organization,
        message.brand,
        [channel],
        [message.text],
        timezone.now(),
        reply_item(message.pk),
    )
    hold = _decide(actor, outgoing, message=message)
    if hold is not None:
        Message.objects.filter(pk=message.pk, delivery=Delivery.SENDING).update(delivery=Delivery.HELD)
        message.delivery = Delivery.HELD
    return hold


def _decide(
    actor: Actor, outgoing: Outgoing, *, post: Post | None = None, message: Message | None = None
) -> GuardHold | None:
    config = settings_for(outgoing.organization)
    if not config.enabled:
        return None
    verdict = judge(actor, outgoing, config)
    _log(actor, outgoing, verdict.held)
    if verdict.held:
        return _hold(actor, outgoing, verdict, post=post, message=message)
    if actor.user is not None:
        learn_device(actor.user, verdict.device, DeviceSource.ACTION, verdict.known_devices)
    learn_domains(outgoing.brand, verdict.domains if verdict.new_domains is None else verdict.new_domains)
    return None


def _log(actor: Actor, outgoing: Outgoing, held: bool) -> None:
    now = timezone.now()
    OutgoingEvent.objects.bulk_create(
        [
            OutgoingEvent(
                organization_id=outgoing.organization.pk,
                brand_id=outgoing.brand.pk,
                channel_id=channel.pk,
                user=actor.user,
                kind=outgoing.kind,
                item=outgoing.item,
                acted_at=now,
                sends_at=outgoing.send_at,
                bucket=bucket_of(now),
                send_bucket=bucket_of(outgoing.send_at),
                held=held,
            )
            for channel in outgoing.channels
        ]
    )


def _hold(
    actor: Actor,
    outgoing: Outgoing,
    verdict: Verdict,
    *,
    post: Post | None = None,
    message: Message | None = None,
    cause: str = HoldCause.SIGNALS,
    incident: Incident | None = None,
    sender: Actor | None = None,
    tell: bool = True,
) -> GuardHold:
    """Keep it back. `actor` did it (in the audit trail); `sender` wrote it (default: the actor)."""
    sender = sender or actor
    found = verdict.device
    text = "\n\n".join(dict.fromkeys(t for t in outgoing.texts if t))[:MAX_TEXT]
    try:
        with transaction.atomic():
            hold = GuardHold.objects.create(
                organization=outgoing.organization,
                brand=outgoing.brand,
                kind=outgoing.kind,
                cause=cause,
                post=post,
                post_version=post.version if post is not None else 0,
                send_at=outgoing.send_at,
                message=message,
                text=text,
                sent_by=sender.user,
                sender_label=sender.label[:255],
                via=str(sender.via)[:16],
                ip_address=sender.ip_address,
                user_agent=sender.user_agent[:255],
                device=found.family if found else "",
                network=found.network if found else "",
                score=verdict.score,
                threshold=verdict.threshold,
                reasons=[finding.as_json() for finding in verdict.findings],
                domains=verdict.domains,
                incident=incident,
            )
            hold.channels.set(list(outgoing.channels))
    except IntegrityError:
        # One pending hold per post or message: held a moment ago by another request (then that
        # one stands), or an earlier version of the post still waits (it is withdrawn for this one).
        existing = GuardHold.objects.filter(state=HoldState.PENDING, post=post, message=message).first()
        if existing is None:
            raise
        if post is None or existing.post_version == post.version:
            return existing
        _withdraw_stale(existing)
        return _hold(
            actor,
            outgoing,
            verdict,
            post=post,
            message=message,
            cause=cause,
            incident=incident,
            sender=sender,
            tell=tell,
        )
    record(
        actor,
        outgoing.organization,
        "guard.hold",
        hold,
        {
            "kind": [None, hold.kind],
            "item": [None, outgoing.item],
            "score": [None, hold.score],
            "threshold": [None, hold.threshold],
            "reasons": [None, [finding.code for finding in verdict.findings]],
            "channels": [None, [channel.handle for channel in outgoing.channels]],
        },
    )
    if tell:
        _tell_deciders(hold, list(outgoing.channels))
    notify_organization(outgoing.organization.pk, "guard")
    return hold


def _summary(hold: GuardHold) -> str:
    return "; ".join(describe(reason) for reason in hold.reasons)[:300]


def _tell_deciders(hold: GuardHold, channels: list[Channel]) -> None:
    sender = hold.sent_by
    deciders = people_who_operate(hold.organization, channels, decision_perm(hold.kind), besides=sender)
    who = sender.get_short_name() if sender is not None else hold.sender_label
    handles = ", ".join(f"@{channel.handle}" for channel in channels)[:200]

    def text() -> str:
        if hold.kind == ItemKind.POST:
            said = _("A post by %(person)s on %(channels)s is held for your review: %(reasons)s")
        else:
            said = _("A reply by %(person)s on %(channels)s is held for your review: %(reasons)s")
        return said % {"person": who, "channels": handles, "reasons": _summary(hold)}

    from tertulia.inbox.models import NotificationKind

    notify_each(
        hold.organization_id, deciders, NotificationKind.GUARD_HOLD, text, url=hold_path(hold), skip=sender
    )


def nobody_else_can_release(hold: GuardHold) -> bool:
    return not people_who_operate(
        hold.organization, list(hold.channels.all()), decision_perm(hold.kind), besides=hold.sent_by
    )


# --- decisions -----------------------------------------------------------------------------------


def _locked(hold: GuardHold) -> GuardHold:
    locked = GuardHold.objects.select_for_update().select_related("organization", "brand").get(pk=hold.pk)
    if locked.state != HoldState.PENDING:
        raise AlreadyDecided(_("This was already decided."))
    return locked


def _finish(hold: GuardHold, state: str, user: User | None, note: str) -> None:
    hold.state = state
    hold.decided_by = user
    hold.decided_at = timezone.now()
    hold.decision_note = note.strip()[:MAX_NOTE]
    hold.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])


def _check_note(note: str) -> None:
    if len(note) > MAX_NOTE:
        raise GuardRefused(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})


class Stale(GuardRefused):
    """What was held changed or went away since: there is nothing left to release."""


def release(actor: Actor, hold: GuardHold, note: str = "") -> GuardHold:
    """A second person lets it go: the post enters the ledger at its time (now if that passed), the
    reply is delivered. The sender's device and the links' domains become known."""
    _check_note(note)
    try:
        return _release(actor, hold, note)
    except Stale:
        # Recorded (in its own transaction) before saying so: the hold is settled either way.
        _withdraw_stale(GuardHold.objects.get(pk=hold.pk))
        raise


@transaction.atomic
def _release(actor: Actor, hold: GuardHold, note: str) -> GuardHold:
    user = person(actor, _("Only a person can release what the guard held."))
    hold = _locked(hold)
    if hold.sent_by_id is not None and hold.sent_by_id == user.pk:
        raise NotPermitted(_("You sent this yourself: a second person must release it."))
    channels = list(hold.channels.all())
    if not may_decide(user, hold, channels):
        raise NotPermitted(_("You may not send this on every one of its channels."))
    if hold.kind == ItemKind.POST:
        _release_post(actor, hold)
    else:
        _release_reply(hold, channels)
    _finish(hold, HoldState.RELEASED, user, note)
    OutgoingEvent.objects.filter(item=_item(hold)).update(held=False)
    learn_domains(hold.brand, hold.domains)
    if hold.sent_by is not None and hold.network:
        from tertulia.guard.checks.device import Device

        learn_device(hold.sent_by, Device(hold.device, hold.network), DeviceSource.RELEASE)
    record(actor, hold.organization, "guard.release", hold, _decision_changes(hold, HoldState.RELEASED))
    _timeline(hold, actor, "hold_released")
    _tell_sender(hold, user, released=True)
    notify_organization(hold.organization_id, "guard")
    return hold


def _item(hold: GuardHold) -> str:
    return post_item(hold.post_id or 0) if hold.kind == ItemKind.POST else reply_item(hold.message_id or 0)


def _release_post(actor: Actor, hold: GuardHold) -> None:
    from tertulia.publishing.actions import scheduling
    from tertulia.publishing.models import Post, PostState

    post = Post.objects.select_for_update().filter(pk=hold.post_id or 0).first()
    if post is None or post.state != PostState.APPROVED or post.version != hold.post_version:
        raise Stale(_("The post changed or was cancelled since it was held: there is nothing to release."))
    when = max(hold.send_at or timezone.now(), timezone.now())
    try:
        scheduling.enqueue_released(actor, post, when)
    except scheduling.SchedulingRefused as refused:
        raise GuardRefused(str(refused)) from None


def _release_reply(hold: GuardHold, channels: list[Channel]) -> None:
    from tertulia.inbox.actions.common import changed
    from tertulia.inbox.actions.replies import queue_delivery
    from tertulia.inbox.models import Delivery, Message
    from tertulia.publishing.delivery.pauses import channel_paused

    message = (
        Message.objects.select_for_update()
        .select_related("conversation")
        .filter(pk=hold.message_id or 0)
        .first()
    )
    if message is None or message.delivery != Delivery.HELD:
        raise Stale(_("The reply is no longer waiting: there is nothing to release."))
    paused = [channel.handle for channel in channels if channel_paused(channel.pk)]
    if paused:
        raise GuardRefused(
            _("Publishing on @%(handle)s is paused: resume it before releasing replies.")
            % {"handle": paused[0]}
        )
    # Its clock starts now: the delivery task's retries and give-up time count from here.
    Message.objects.filter(pk=message.pk).update(delivery=Delivery.SENDING, sent_at=timezone.now())
    changed(message.conversation)
    queue_delivery(message.pk)


@transaction.atomic
def reject(actor: Actor, hold: GuardHold, note: str = "") -> GuardHold:
    """It never goes out. A second person rejects (a held post is cancelled); the sender may withdraw
    their own (a post stays approved, to edit or schedule again)."""
    _check_note(note)
    user = person(actor, _("Only a person can reject what the guard held."))
    hold = _locked(hold)
    own = hold.sent_by_id is not None and hold.sent_by_id == user.pk
    if not own and not may_decide(user, hold):
        raise NotPermitted(_("You may not decide on what is sent on these channels."))
    state = HoldState.WITHDRAWN if own else HoldState.REJECTED
    note = note.strip() or (_("Withdrawn by the sender.") if own else "")
    if hold.kind == ItemKind.POST:
        if not own:
            _cancel_post(actor, hold)
    else:
        _reject_reply(hold, note)
    _finish(hold, state, user, note)
    record(
        actor,
        hold.organization,
        f"guard.{'withdraw' if own else 'reject'}",
        hold,
        _decision_changes(hold, state),
    )
    _timeline(hold, actor, "hold_withdrawn" if own else "hold_rejected")
    if not own:
        _tell_sender(hold, user, released=False)
    notify_organization(hold.organization_id, "guard")
    return hold


def _cancel_post(actor: Actor, hold: GuardHold) -> None:
    from tertulia.publishing.models import Post, PostState

    post = Post.objects.select_for_update().filter(pk=hold.post_id or 0).first()
    if post is None or post.state != PostState.APPROVED or post.version != hold.post_version:
        return  # it changed since: the new version goes through review and the guard again
    post.state = PostState.CANCELLED
    post.save(update_fields=["state", "updated_at"])
    record(
        actor, post.organization, "post.cancelled", post, {"state": [PostState.APPROVED, PostState.CANCELLED]}
    )


def _reject_reply(hold: GuardHold, note: str) -> None:
    from tertulia.inbox.actions.common import changed
    from tertulia.inbox.models import Delivery, Message

    message = Message.objects.select_related("conversation").filter(pk=hold.message_id or 0).first()
    if message is None:
        return
    Message.objects.filter(pk=message.pk, delivery=Delivery.HELD).update(
        delivery=Delivery.REJECTED, delivery_error=note[:500]
    )
    changed(message.conversation)


def _withdraw_stale(hold: GuardHold) -> None:
    with transaction.atomic():
        updated = GuardHold.objects.filter(pk=hold.pk, state=HoldState.PENDING).update(
            state=HoldState.WITHDRAWN,
            decided_at=timezone.now(),
            decision_note=_("It changed or was cancelled since it was held."),
        )
        if updated:
            record(
                Actor.system("guard"),
                hold.organization,
                "guard.withdraw",
                hold,
                {"state": [HoldState.PENDING, HoldState.WITHDRAWN], "stale": [None, True]},
            )


def _decision_changes(hold: GuardHold, state: str) -> dict[str, Any]:
    return {
        "state": [HoldState.PENDING, state],
        "item": [None, _item(hold)],
        "sent_by": [None, hold.sender_label],
        "note": [None, hold.decision_note],
    }


def _tell_sender(hold: GuardHold, decider: User, *, released: bool) -> None:
    from tertulia.inbox.models import NotificationKind

    who = decider.get_short_name()

    def text() -> str:
        if released:
            return _("%(person)s released what the guard held of yours: it goes out now.") % {"person": who}
        return _("%(person)s rejected what the guard held of yours: it will not go out. %(note)s") % {
            "person": who,
            "note": hold.decision_note,
        }

    notify_each(
        hold.organization_id,
        [hold.sent_by],
        NotificationKind.GUARD_HOLD,
        text,
        url=hold_path(hold),
        skip=decider,
    )


def _timeline(hold: GuardHold, actor: Actor, what: str) -> None:
    if hold.incident_id is None:
        return
    from tertulia.guard.actions.incidents import add_event

    add_event(hold.incident_id, actor, what, {"hold": hold.pk, "item": _item(hold)})


# --- used by the compromised-account action ----------------------------------------------------------


def hold_for_incident(actor: Actor, message: Message, incident: Incident) -> GuardHold:
    """A reply that was on its way when the channel was reported compromised: it waits for review."""
    from tertulia.inbox.models import Delivery, Message

    channel = message.channel
    outgoing = Outgoing(
        ItemKind.REPLY,
        channel.organization,
        message.brand,
        [channel],
        [message.text],
        timezone.now(),
        reply_item(message.pk),
    )
    sender = Actor(
        user=message.sent_by, via=actor.via, label_override=message.sent_by.email if message.sent_by else ""
    )
    verdict = Verdict(findings=[Finding("compromised", COMPROMISED)], threshold=0)
    Message.objects.filter(pk=message.pk, delivery=Delivery.SENDING).update(delivery=Delivery.HELD)
    existing = GuardHold.objects.filter(message=message, state=HoldState.PENDING).first()
    if existing is not None:
        return existing
    return _hold(sender, outgoing, verdict, message=message, cause=HoldCause.COMPROMISED, incident=incident)


# --- crisis mode ---------------------------------------------------------------------------------------


def hold_for_crisis(actor: Actor, message: Message) -> GuardHold | None:
    """While the brand is in crisis mode, a reply by someone who is not a crisis approver waits for
    one (tertulia.crisis.approval): held whatever the guard's own settings, and told to the approvers."""
    from tertulia.crisis.approval import active_crisis_for, crisis_approvers, reply_needs_approval
    from tertulia.inbox.models import Delivery, Message

    brand = message.brand
    if not reply_needs_approval(actor.user, brand):
        return None
    channel = message.conversation.channel
    outgoing = Outgoing(
        ItemKind.REPLY,
        channel.organization,
        brand,
        [channel],
        [message.text],
        timezone.now(),
        reply_item(message.pk),
    )
    verdict = Verdict(findings=[Finding("crisis_mode", COMPROMISED)], threshold=0)
    hold = _hold(actor, outgoing, verdict, message=message, cause=HoldCause.CRISIS, tell=False)
    Message.objects.filter(pk=message.pk, delivery=Delivery.SENDING).update(delivery=Delivery.HELD)
    message.delivery = Delivery.HELD
    sender = actor.user
    who = sender.get_short_name() if sender is not None else actor.label
    handle = channel.handle

    def text() -> str:
        return _("Crisis mode: a reply by %(person)s on @%(handle)s waits for a crisis approver.") % {
            "person": who,
            "handle": handle,
        }

    from tertulia.inbox.models import NotificationKind

    # The crisis room lists what waits, with its buttons (an approver may not operate the channel).
    crisis = active_crisis_for(brand)
    url = reverse("web:crisis-room", args=[crisis.pk]) if crisis is not None else hold_path(hold)
    notify_each(
        hold.organization_id, crisis_approvers(brand), NotificationKind.GUARD_HOLD, text, url=url, skip=sender
    )
    return hold
