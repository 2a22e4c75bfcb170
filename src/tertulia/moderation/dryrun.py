"""What a rule would have done over the brand's recent messages, before anyone switches it on.

The rule is evaluated alone (as if it were the brand's only rule), on and off alike, over the inbound
messages the brand received in the last `days` days, newest first, through the same engine and the
same guardrails as ingestion. Nothing is written and no network is called: the report only counts
(per action and outcome: would hide 12, would escalate 1 instead of blocking, 3 refused by a
guardrail) and keeps a sample of messages with what would have happened to each.

Bounded: messages are read in pages of `BATCH` (one query each, plus one for their authors), and
at most `MAX_SCANNED` of them; the report says when it stopped early.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from tertulia.core.models import Channel
from tertulia.inbox.models import Direction, Message
from tertulia.moderation import guardrails
from tertulia.moderation.authors import Context, authors_of
from tertulia.moderation.choices import NETWORK_ACTIONS, ActionStatus, ActionType
from tertulia.moderation.guardrails import Outcome
from tertulia.moderation.models import ModerationRule
from tertulia.moderation.policy import compile_rule, evaluate

DEFAULT_DAYS = 30
BATCH = 200
MAX_SCANNED = 50_000
SAMPLE = 20
EXCERPT = 280

OUTCOME_STATUS = {
    Outcome.ALLOW: ActionStatus.APPLIED,
    Outcome.REFUSE: ActionStatus.REFUSED_BY_GUARDRAIL,
    Outcome.ESCALATE_INSTEAD: ActionStatus.ESCALATED_INSTEAD,
    Outcome.NEEDS_APPROVAL: ActionStatus.AWAITING_APPROVAL,
}
# How an outcome reads when nothing was done: "would be done", not "done".
WOULD_LABELS = {
    ActionStatus.APPLIED: _lazy("Would be done"),
    ActionStatus.REFUSED_BY_GUARDRAIL: _lazy("Would be refused by a guardrail"),
    ActionStatus.ESCALATED_INSTEAD: _lazy("Would be escalated instead"),
    ActionStatus.AWAITING_APPROVAL: _lazy("Would wait for approval"),
}
ACTION_ORDER = list(ActionType.values)
STATUS_ORDER = list(ActionStatus.values)


@dataclass(frozen=True)
class WouldDo:
    action_type: str
    status: str  # an ActionStatus: "applied" (would be done), "refused_by_guardrail", "escalated_instead"
    guardrail: str = ""  # why a guardrail stepped in

    @property
    def action_label(self) -> str:
        return str(ActionType(self.action_type).label)

    @property
    def status_label(self) -> str:
        return str(WOULD_LABELS.get(ActionStatus(self.status), ActionStatus(self.status).label))


@dataclass(frozen=True)
class SampleItem:
    message_id: int
    conversation_id: int
    sent_at: datetime
    channel_handle: str
    author_handle: str
    author_reach: int
    intent: str
    text: str  # the first EXCERPT characters, verbatim (escaped wherever shown)
    would: tuple[WouldDo, ...]


@dataclass(frozen=True)
class ReportLine:
    action_type: str
    status: str
    count: int

    @property
    def action_label(self) -> str:
        return str(ActionType(self.action_type).label)

    @property
    def status_label(self) -> str:
        return str(WOULD_LABELS.get(ActionStatus(self.status), ActionStatus(self.status).label))


@dataclass
class DryRunReport:
    rule_id: int | None
    rule_name: str
    days: int
    since: datetime
    scanned: int = 0
    matched: int = 0
    truncated: bool = False
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    sample: list[SampleItem] = field(default_factory=list)

    def count(self, action_type: str, status: str) -> int:
        return self.counts[(action_type, status)]

    @property
    def lines(self) -> list[ReportLine]:
        return [
            ReportLine(action_type, status, n)
            for (action_type, status), n in sorted(
                self.counts.items(),
                key=lambda item: (ACTION_ORDER.index(item[0][0]), STATUS_ORDER.index(item[0][1])),
            )
        ]


def dry_run(rule: ModerationRule, days: int = DEFAULT_DAYS, now: datetime | None = None) -> DryRunReport:
    """What `rule` would have done to the brand's inbound messages of the last `days` days."""
    now = now or timezone.now()
    compiled = compile_rule(rule)
    brand = rule.brand
    report = DryRunReport(rule.pk, rule.name, days, now - timedelta(days=days))
    channels = dict(Channel.objects.filter(brand=brand).values_list("pk", "handle"))
    replied: set[int] = set()
    messages = (
        Message.objects.filter(brand=brand, direction=Direction.INBOUND, received_at__gte=report.since)
        .only(
            "id",
            "organization_id",
            "channel_id",
            "conversation_id",
            "author_id",
            "author_handle",
            "author_followers",
            "text",
            "kind",
            "language",
            "sentiment",
            "intent",
            "sent_at",
            "received_at",
        )
        .order_by("-received_at", "-id")
    )
    after: tuple[datetime, int] | None = None
    while report.scanned < MAX_SCANNED:
        page = messages
        if after is not None:
            page = page.filter(_older(after))
        wanted = min(BATCH, MAX_SCANNED - report.scanned)
        batch = list(page[:wanted])
        if not batch:
            break
        after = (batch[-1].received_at, batch[-1].pk)
        report.scanned += len(batch)
        authors = authors_of(brand.organization_id, batch)
        for message in batch:
            context = Context(authors[message.pk], brand.reach_threshold)
            planned = evaluate([compiled], message, context)
            if not planned:
                continue
            report.matched += 1
            would: list[WouldDo] = []
            for step in planned:
                if step.action_type == ActionType.AUTO_REPLY:
                    if message.conversation_id in replied:
                        continue
                    replied.add(message.conversation_id)
                if step.action_type in NETWORK_ACTIONS:
                    verdict = guardrails.check(
                        step.action_type, automatic=True, intent=message.intent, context=context
                    )
                    would.append(WouldDo(step.action_type, OUTCOME_STATUS[verdict.outcome], verdict.reason))
                else:
                    would.append(WouldDo(step.action_type, ActionStatus.APPLIED))
            for item in would:
                report.counts[(item.action_type, item.status)] += 1
            if len(report.sample) < SAMPLE:
                report.sample.append(
                    SampleItem(
                        message_id=message.pk,
                        conversation_id=message.conversation_id,
                        sent_at=message.sent_at,
                        channel_handle=channels.get(message.channel_id, ""),
                        author_handle=message.author_handle,
                        author_reach=context.author.reach,
                        intent=message.intent,
                        text=message.text[:EXCERPT],
                        would=tuple(would),
                    )
                )
        if len(batch) < wanted:
            break
    else:
        # Stopped at the cap: say so only if there was more to read.
        report.truncated = after is not None and messages.filter(_older(after)).exists()
    return report


def _older(after: tuple[datetime, int]) -> Q:
    """Messages after `after` in the newest-first order (keyset pagination on the brand's index)."""
    return Q(received_at__lt=after[0]) | Q(received_at=after[0], id__lt=after[1])
