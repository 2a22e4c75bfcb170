"""Escalation: raise a conversation to the people who decide (SLA breach, moderation, by hand)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Role, User
from tertulia.core.permissions import brand_members
from tertulia.inbox.actions.common import audit, changed
from tertulia.inbox.models import Conversation, InboxSettings, NotificationKind, Urgency
from tertulia.inbox.notifications import notify

MANAGER_ROLES = (Role.OWNER, Role.ADMIN, Role.BRAND_MANAGER)


def escalation_contacts(conversation: Conversation) -> list[User]:
    """Who hears of an escalation: the brand's named person if set, else its managers; and the assignee."""
    settings = (
        InboxSettings.objects.filter(brand_id=conversation.brand_id).select_related("escalate_to").first()
    )
    people: list[User] = []
    if settings is not None and settings.escalate_to is not None:
        people.append(settings.escalate_to)
    else:
        people.extend(
            m.user
            # Only managers who work in the conversation's brand.
            for m in brand_members(conversation.brand).filter(role__in=MANAGER_ROLES).select_related("user")
        )
    if conversation.assignee is not None:
        people.append(conversation.assignee)
    return people


@transaction.atomic
def escalate(actor: Actor, conversation: Conversation, reason: str) -> Conversation:
    """Mark the conversation escalated (urgency at least high) and notify; repeated calls notify once."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .get(pk=conversation.pk)
    )
    if conversation.escalated_at is not None:
        return conversation
    conversation.escalated_at = timezone.now()
    conversation.escalation_reason = reason[:255]
    conversation.urgency = max(conversation.urgency, Urgency.HIGH)
    conversation.save(update_fields=["escalated_at", "escalation_reason", "urgency", "updated_at"])
    audit(actor, conversation, "conversation.escalate", {"reason": [None, conversation.escalation_reason]})
    notify(
        escalation_contacts(conversation), NotificationKind.ESCALATION, conversation, reason, skip=actor.user
    )
    changed(conversation)
    return conversation


@transaction.atomic
def resolve_escalation(actor: Actor, conversation: Conversation) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.escalated_at is None:
        return conversation
    audit(
        actor,
        conversation,
        "conversation.escalation_resolved",
        {"reason": [conversation.escalation_reason, None]},
    )
    conversation.escalated_at = None
    conversation.escalation_reason = ""
    conversation.save(update_fields=["escalated_at", "escalation_reason", "updated_at"])
    changed(conversation)
    return conversation
