"""The SLA clock of conversations: start on a customer's unanswered message, stop on our answer.

Targets come from the brand's SlaPolicy (defaults without one) and are counted in its business
hours (tertulia.inbox.businesshours). Each run of the clock is a ResponseTarget row, which the
SLA report counts: met, breached, or stopped (closed unanswered).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from tertulia.core.models import Brand
from tertulia.inbox.businesshours import BusinessHours, add_business_time, business_time_between
from tertulia.inbox.ingest.bulk import insert_rows, update_fields
from tertulia.inbox.models import Conversation, ResponseTarget, SlaPolicy, Urgency

# What the clock changes on a conversation (saved by the caller, with its other changes).
CLOCK_FIELDS = ("due_at", "sla_warned_at", "sla_breached_at")

Stage = ResponseTarget.Stage
Outcome = ResponseTarget.Outcome


def policy_for(brand: Brand) -> SlaPolicy:
    """The brand's policy; an unsaved one with the defaults if it has none."""
    try:
        return brand.sla_policy
    except SlaPolicy.DoesNotExist:
        return SlaPolicy(brand=brand)


def hours_of(policy: SlaPolicy) -> BusinessHours:
    if policy.business_hours:
        return BusinessHours.from_dict(policy.business_hours)
    return BusinessHours.always(policy.brand.timezone or "UTC")


def target_minutes(policy: SlaPolicy, stage: str, intent: str, urgency: int) -> int:
    """The shortest target that applies: critical urgency, the intent's own, or the stage's."""
    candidates = [policy.first_response_minutes if stage == Stage.FIRST else policy.next_response_minutes]
    by_intent = policy.intent_targets if isinstance(policy.intent_targets, dict) else {}
    minutes = by_intent.get(intent)
    if isinstance(minutes, int) and minutes > 0:
        candidates.append(minutes)
    if urgency >= Urgency.CRITICAL:
        candidates.append(policy.critical_response_minutes)
    return max(min(candidates), 1)


def start_clocks(brand: Brand, conversations: Sequence[Conversation]) -> None:
    """Give every conversation that awaits an answer a running target and a due time (set on the
    conversations in memory; the caller saves them).

    A running target is kept (a second message does not restart the clock), but it can only get
    shorter: a complaint arriving after a question makes the whole conversation due sooner.
    """
    waiting = [c for c in conversations if c.awaiting_since is not None]
    if not waiting:
        return
    policy = policy_for(brand)
    hours = hours_of(policy)
    running = {
        t.conversation_id: t
        for t in ResponseTarget.objects.filter(conversation__in=waiting, outcome=Outcome.RUNNING)
    }
    new: list[ResponseTarget] = []
    changed: list[ResponseTarget] = []
    for conversation in waiting:
        assert conversation.awaiting_since is not None
        stage = Stage.FIRST if conversation.first_response_at is None else Stage.NEXT
        minutes = target_minutes(policy, stage, conversation.intent, conversation.urgency)
        due = add_business_time(hours, conversation.awaiting_since, timedelta(minutes=minutes))
        target = running.get(conversation.pk)
        if target is None:
            target = ResponseTarget(
                conversation=conversation,
                brand=brand,
                stage=stage,
                started_at=conversation.awaiting_since,
                due_at=due,
            )
            new.append(target)
        else:
            if target.paused_at is not None:  # the customer wrote again: the clock runs on
                _resume(target, hours, conversation.last_inbound_at or timezone.now())
                changed.append(target)
            if due < target.due_at:
                target.due_at = due
                changed.append(target)
        conversation.due_at = target.due_at
    insert_rows(new)
    update_fields(list(set(changed)), ["due_at", "paused_at"])


def stop_clock(conversation: Conversation, at: datetime, *, answered: bool) -> None:
    """End the running target: met or breached if answered at `at`, stopped if closed unanswered."""
    for target in ResponseTarget.objects.filter(conversation=conversation, outcome=Outcome.RUNNING):
        if answered:
            # Answered while paused counts as met: nobody was waiting on us then.
            met = target.paused_at is not None or at <= target.due_at
            target.outcome = Outcome.MET if met else Outcome.BREACHED
        else:
            target.outcome = Outcome.STOPPED
        target.ended_at = at
        target.save(update_fields=["outcome", "ended_at"])
    conversation.due_at = None
    conversation.sla_warned_at = None
    conversation.sla_breached_at = None


def pause_clock(conversation: Conversation, at: datetime | None = None) -> None:
    """Waiting on the customer, or snoozed: the running target stops counting."""
    at = at or timezone.now()
    ResponseTarget.objects.filter(
        conversation=conversation, outcome=Outcome.RUNNING, paused_at__isnull=True
    ).update(paused_at=at)
    conversation.due_at = None


def resume_clock(conversation: Conversation, at: datetime | None = None) -> None:
    """Back to open: what was left of the paused target counts again from `at`."""
    at = at or timezone.now()
    hours = hours_of(policy_for(conversation.brand))
    for target in ResponseTarget.objects.filter(
        conversation=conversation, outcome=Outcome.RUNNING, paused_at__isnull=False
    ):
        _resume(target, hours, at)
        target.save(update_fields=["due_at", "paused_at"])
        conversation.due_at = target.due_at


def _resume(target: ResponseTarget, hours: BusinessHours, at: datetime) -> None:
    assert target.paused_at is not None
    left = business_time_between(hours, target.paused_at, target.due_at)
    target.due_at = add_business_time(hours, max(at, target.paused_at), left)
    target.paused_at = None
