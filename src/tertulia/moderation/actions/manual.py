"""Moderation by hand: hide, show again, delete, block — and the second person's approval.

The guardrails apply to people too (tertulia.moderation.guardrails): deleting or blocking an
important author, or over a complaint, waits for someone else with the approver permission
(Perm.APPROVE_MODERATION: owners, administrators, brand managers). The requester can never approve
their own request (though they may withdraw it). Everything else is queued for the network at once.

Who may ask: people with Perm.MODERATE who may operate the message's channel. Checked here as well
as in the views and the API, because the guardrail is the point of this module.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, User
from tertulia.core.permissions import (
    Perm,
    brand_limits,
    has_perm,
    may_operate_channel,
    member_works_in,
    permissions_of,
)
from tertulia.inbox.models import Direction, Message, NotificationKind
from tertulia.inbox.notifications import notify
from tertulia.moderation import guardrails
from tertulia.moderation.actions.log import audit, changed, log_action, queue
from tertulia.moderation.authors import Context, authors_of
from tertulia.moderation.choices import MANUAL_ACTIONS, ActionStatus, ActionType
from tertulia.moderation.guardrails import Outcome
from tertulia.moderation.models import ModerationAction

MAX_NOTE = 500
NEEDS_REASON = frozenset({ActionType.DELETE, ActionType.BLOCK})


class ModerationRefused(ValueError):
    """The moderation action cannot be done as asked; the message says why, in the person's language."""


class NotPermitted(ModerationRefused):
    """The person may not do this (their role, their channels, or approving their own request)."""


class AlreadyDecided(ModerationRefused):
    """Someone decided this request a moment ago."""


def approvers(
    organization_id: int, *, besides: User | None = None, brand_id: int | None = None
) -> list[User]:
    """Active members who may approve (never `besides`, the one who asked); given `brand_id`, only those
    who work in that brand."""
    members = list(
        Membership.objects.filter(
            organization_id=organization_id, is_active=True, user__is_active=True
        ).select_related("user")
    )
    limits = brand_limits(members)
    return [
        m.user
        for m in members
        if Perm.APPROVE_MODERATION in permissions_of(m)
        and (besides is None or m.user_id != besides.pk)
        and (brand_id is None or member_works_in(m, brand_id, limits))
    ]


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise NotPermitted(_("Only a person can moderate by hand."))
    return actor.user


def _already(message: Message, action_type: str) -> bool:
    return ModerationAction.objects.filter(
        message=message,
        action_type=action_type,
        status__in=(ActionStatus.PENDING, ActionStatus.AWAITING_APPROVAL),
    ).exists()


def _check(message: Message, action_type: str, reason: str) -> None:
    if action_type not in MANUAL_ACTIONS:
        raise ModerationRefused(_("Choose hide, show again, delete or block."))
    if message.direction != Direction.INBOUND:
        raise ModerationRefused(_("Only messages from other people can be moderated."))
    if message.is_deleted:
        raise ModerationRefused(_("This message is deleted already."))
    if action_type == ActionType.HIDE and message.is_hidden:
        raise ModerationRefused(_("This message is hidden already."))
    if action_type == ActionType.UNHIDE and not message.is_hidden:
        raise ModerationRefused(_("This message is not hidden."))
    if action_type in NEEDS_REASON and not reason.strip():
        raise ModerationRefused(_("Say why: the reason is kept in the moderation log."))
    if len(reason) > MAX_NOTE:
        raise ModerationRefused(_("A reason has at most %(n)d characters.") % {"n": MAX_NOTE})
    if _already(message, action_type):
        raise ModerationRefused(_("This was already asked for and is queued or awaiting approval."))


@transaction.atomic
def moderate(actor: Actor, message: Message, action_type: str, reason: str = "") -> ModerationAction:
    """Hide, show again, delete or block by hand; queued for the network, or waiting for approval."""
    user = _person(actor)
    message = Message.objects.select_for_update().select_related("channel", "conversation").get(pk=message.pk)
    if not has_perm(user, message.channel.organization, Perm.MODERATE) or not may_operate_channel(
        user, message.channel
    ):
        raise NotPermitted(_("You may not moderate this channel's messages."))
    _check(message, action_type, reason)
    context = Context(
        authors_of(message.organization_id, [message])[message.pk], message.brand.reach_threshold
    )
    verdict = guardrails.check(action_type, automatic=False, intent=message.intent, context=context)
    said = reason.strip() or _("By hand.")

    def log(status: str, why: str) -> ModerationAction:
        return log_action(
            actor,
            message=message,
            conversation=message.conversation,
            action_type=action_type,
            status=status,
            reason=why,
            requested_by=user,
        )

    if verdict.outcome == Outcome.NEEDS_APPROVAL:
        action = log(ActionStatus.AWAITING_APPROVAL, f"{said} — {verdict.reason}")
        notify(
            approvers(message.organization_id, besides=user, brand_id=message.brand_id),
            NotificationKind.APPROVAL,
            message.conversation,
            _("%(person)s asks for approval: %(action)s. %(reason)s")
            % {
                "person": user.get_short_name() or user.email,
                "action": action.get_action_type_display(),
                "reason": said,
            },
            skip=user,
        )
    else:
        action = log(ActionStatus.PENDING, said)
        queue([action.pk])
    changed(message.organization_id)
    return action


def _decidable(action: ModerationAction) -> ModerationAction:
    locked = ModerationAction.objects.select_for_update().select_related("conversation").get(pk=action.pk)
    if locked.status != ActionStatus.AWAITING_APPROVAL:
        raise AlreadyDecided(_("This request was already decided."))
    return locked


@transaction.atomic
def approve(actor: Actor, action: ModerationAction, note: str = "") -> ModerationAction:
    """A second person agrees: the action is queued for the network."""
    user = _person(actor)
    action = _decidable(action)
    if action.requested_by_id == user.pk:
        raise NotPermitted(_("You asked for this yourself: a second person must approve it."))
    if not has_perm(user, action.organization, Perm.APPROVE_MODERATION, action.brand):
        raise NotPermitted(_("Only owners, administrators and brand managers can approve this."))
    if len(note) > MAX_NOTE:
        raise ModerationRefused(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
    action.status = ActionStatus.PENDING
    action.decided_by = user
    action.decided_at = timezone.now()
    action.decision_note = note.strip()
    action.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit(
        actor,
        action,
        "moderation.approve",
        {
            "status": [ActionStatus.AWAITING_APPROVAL, ActionStatus.PENDING],
            "note": [None, action.decision_note],
        },
    )
    _tell_requester(action, _("Approved: %(action)s.") % {"action": action.get_action_type_display()}, user)
    queue([action.pk])
    changed(action.organization_id)
    return action


@transaction.atomic
def reject(actor: Actor, action: ModerationAction, reason: str = "") -> ModerationAction:
    """An approver says no, or the requester withdraws the request. Nothing happens on the network."""
    user = _person(actor)
    action = _decidable(action)
    is_requester = action.requested_by_id == user.pk
    if not is_requester and not has_perm(user, action.organization, Perm.APPROVE_MODERATION, action.brand):
        raise NotPermitted(_("Only owners, administrators and brand managers can reject this."))
    if len(reason) > MAX_NOTE:
        raise ModerationRefused(_("A reason has at most %(n)d characters.") % {"n": MAX_NOTE})
    action.status = ActionStatus.REJECTED
    action.decided_by = user
    action.decided_at = timezone.now()
    action.decision_note = reason.strip() or (_("Withdrawn.") if is_requester else "")
    action.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit(
        actor,
        action,
        "moderation.reject",
        {
            "status": [ActionStatus.AWAITING_APPROVAL, ActionStatus.REJECTED],
            "note": [None, action.decision_note],
        },
    )
    if not is_requester:
        _tell_requester(
            action,
            _("Rejected: %(action)s. %(reason)s")
            % {"action": action.get_action_type_display(), "reason": action.decision_note},
            user,
        )
    changed(action.organization_id)
    return action


def _tell_requester(action: ModerationAction, text: str, decided_by: User) -> None:
    requester = User.objects.filter(pk=action.requested_by_id).first() if action.requested_by_id else None
    notify([requester], NotificationKind.APPROVAL, action.conversation, text, skip=decided_by)
