"""The SLA sweep: warn before a conversation's answer is due, escalate when it is overdue.

Run by the ticker every 30 seconds in every worker (tertulia.inbox.tasks), so it must be safe to run
concurrently and repeatedly:

- It only reads open conversations by (status, due_at) — the `inbox_due` index — in bounded batches,
  soonest due first. Pending and snoozed conversations have no due time (their clock is paused) and
  closed ones no clock at all, so they are never warned or escalated.
- Each conversation is then claimed with a conditional UPDATE (`... WHERE sla_breached_at IS NULL`,
  resp. `sla_warned_at`) in its own short transaction, together with its escalation and
  notifications: of several workers exactly one wins it, a stamped conversation is never picked
  again (a second sweep does nothing new), a rolled-back one notified nobody and is picked up by the
  next sweep, and SQLite's single write lock is held for milliseconds rather than a whole batch
  (escalating costs about ten queries).
- Warning: the due time is within the brand's `warn_before_minutes` (0: no warnings). The assignee
  is told, or, if nobody owns the conversation, the available people who may operate its channel.
- Breach: the due time has passed. The conversation is escalated (once: `escalate` ignores one
  already escalated) and the assignee, or the channel's available operators, are told it is
  overdue. A conversation found overdue before it was warned is not warned any more.

Whether a response target ended met or breached is decided when it is answered (tertulia.inbox.sla);
this sweep only calls people in while there is still something to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.inbox.actions.assignment import candidates
from tertulia.inbox.actions.escalation import escalate
from tertulia.inbox.models import Conversation, NotificationKind, SlaPolicy, Status
from tertulia.inbox.notifications import notify
from tertulia.live.publish import notify_organization

logger = logging.getLogger(__name__)

BATCH = 200
DEFAULT_WARN_MINUTES = int(SlaPolicy._meta.get_field("warn_before_minutes").get_default())
SWEEPER = "SLA"


@dataclass(frozen=True)
class SweepResult:
    warned: int = 0
    breached: int = 0


def sweep(now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """One round: escalate up to `batch` overdue conversations, then warn up to `batch` due soon."""
    now = now or timezone.now()
    breached = _breach(now, batch)
    warned = _warn(now, batch)
    return SweepResult(warned=warned, breached=breached)


def sweep_all(now: datetime | None = None, batch: int = BATCH, max_rounds: int = 10) -> SweepResult:
    """Rounds until a round finds less than a full batch (catching up after downtime), at most
    `max_rounds`, so one tick never runs unbounded."""
    warned = breached = 0
    for _round in range(max_rounds):
        result = sweep(now, batch)
        warned += result.warned
        breached += result.breached
        if result.warned < batch and result.breached < batch:
            break
    return SweepResult(warned=warned, breached=breached)


def _due(condition: Q, batch: int) -> list[int]:
    """Up to `batch` open conversations matching `condition`, soonest due first (ids only)."""
    return list(
        Conversation.objects.filter(condition, status=Status.OPEN, due_at__isnull=False)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )


def _each_claimed(
    ids: list[int], still: Q, stamp: dict[str, Any], handle: Callable[[Conversation], None]
) -> int:
    """For each id, in its own transaction: stamp the conversation if it still matches `still` (a
    conditional UPDATE, so of several workers exactly one wins it), then `handle` it. Returns how
    many this call claimed."""
    claimed = 0
    for pk in ids:
        try:
            with transaction.atomic():
                won = Conversation.objects.filter(still, pk=pk, status=Status.OPEN).update(**stamp)
                if not won:
                    continue  # another worker took it, or it was answered, paused or closed meanwhile
                handle(Conversation.objects.select_related("brand", "channel", "assignee").get(pk=pk))
                claimed += 1
        except Exception:
            # Rolled back (stamp included): retried by the next sweep, and never blocks the others.
            logger.exception("SLA sweep: conversation %s failed; it will be retried", pk)
    return claimed


class _People:
    """Who to tell about a conversation: its assignee, else the channel's available operators
    (looked up once per channel per sweep)."""

    def __init__(self) -> None:
        self._operators: dict[int, list[User]] = {}

    def for_(self, conversation: Conversation) -> list[User]:
        if conversation.assignee is not None:
            return [conversation.assignee]
        if conversation.channel_id not in self._operators:
            self._operators[conversation.channel_id] = [c.user for c in candidates(conversation.channel)]
        return self._operators[conversation.channel_id]


def _in_language(language: str, text: Callable[[], str]) -> str:
    """Stored texts (escalation reasons) in the brand's language when the interface speaks it."""
    known = {code for code, _name in settings.LANGUAGES}
    base = language.split("-", 1)[0].lower()
    with translation.override(base if base in known else settings.LANGUAGE_CODE):
        return text()


def _breach(now: datetime, batch: int) -> int:
    overdue = Q(due_at__lte=now, sla_breached_at__isnull=True)
    people = _People()
    actor = Actor.system(SWEEPER)

    def handle(conversation: Conversation) -> None:
        reason = _in_language(conversation.brand.language, lambda: _("No answer within the SLA target"))
        was_escalated = conversation.escalated_at is not None
        escalate(actor, conversation, reason)  # refreshes open pages itself when it escalates
        notify(people.for_(conversation), NotificationKind.SLA_BREACH, conversation, conversation.preview)
        if was_escalated:
            _refresh(conversation)

    # Overdue before it was warned (the workers were down): no warning any more, only the escalation.
    stamp = {"sla_breached_at": now, "sla_warned_at": Coalesce("sla_warned_at", Value(now))}
    return _each_claimed(_due(overdue, batch), overdue, stamp, handle)


def _warn_window(now: datetime) -> tuple[Q, datetime] | None:
    """Due within the brand's warning time: one condition per distinct `warn_before_minutes`
    (a handful of values, however many brands), plus the default for brands without a policy."""
    windows = {
        int(w) for w in SlaPolicy.objects.order_by().values_list("warn_before_minutes", flat=True).distinct()
    }
    condition = Q(brand__sla_policy__isnull=True, due_at__lte=now + timedelta(minutes=DEFAULT_WARN_MINUTES))
    widest = DEFAULT_WARN_MINUTES
    for minutes in windows:
        if minutes <= 0:
            continue  # 0: this brand wants no warnings
        condition |= Q(
            brand__sla_policy__warn_before_minutes=minutes, due_at__lte=now + timedelta(minutes=minutes)
        )
        widest = max(widest, minutes)
    if widest <= 0:
        return None
    return condition, now + timedelta(minutes=widest)


def _warn(now: datetime, batch: int) -> int:
    window = _warn_window(now)
    if window is None:
        return 0
    condition, horizon = window
    # The explicit horizon keeps the read a range scan of inbox_due, whatever the OR inside.
    due_soon = condition & Q(
        due_at__gt=now, due_at__lte=horizon, sla_warned_at__isnull=True, sla_breached_at__isnull=True
    )
    people = _People()

    def handle(conversation: Conversation) -> None:
        notify(people.for_(conversation), NotificationKind.SLA_WARNING, conversation, conversation.preview)
        _refresh(conversation)

    still = Q(due_at__gt=now, due_at__lte=horizon, sla_warned_at__isnull=True, sla_breached_at__isnull=True)
    return _each_claimed(_due(due_soon, batch), still, {"sla_warned_at": now}, handle)


def _refresh(conversation: Conversation) -> None:
    """Open pages redraw the conversation's timer (after the transaction commits)."""
    notify_organization(conversation.organization_id, "inbox")
    notify_organization(conversation.organization_id, f"conversation-{conversation.pk}")
