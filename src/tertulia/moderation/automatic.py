"""The policy at work on new messages: called by the inbox's router (tertulia.inbox.routing.route),
inside the ingest transaction, once per batch of one channel.

Cost: a constant number of queries per batch whatever its size — the brand's enabled rules (one
query; none more for a brand without rules), the authors' reach and flags (one), what the rules
already did to these messages (one) and, if a rule replies, which conversations it already answered
(one); the log rows and their audit entries are two inserts at the end. Only what matched messages
need beyond that costs per message: the inbox's escalate, assign, tag and reply actions.

Nothing here talks to a network. Hide, delete and block are stored as "queued" and carried out by a
worker after the transaction commits (tertulia.moderation.network); escalation, assignment, tags
and automatic replies are the inbox's own actions and happen here, in the same transaction, so a
batch that rolls back leaves no trace of them either. An automatic reply is itself only stored
here; the inbox's delivery sends it after commit.

A rule acts at most once on a message (the log's `key`), and sends at most one automatic reply per
conversation, so a batch seen again (a replay, a retry after a crash) never repeats anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, User
from tertulia.inbox.actions.assignment import assign
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.actions.escalation import escalate
from tertulia.inbox.actions.replies import send_reply
from tertulia.inbox.actions.tags import change_tags
from tertulia.inbox.models import Conversation, Direction, Message
from tertulia.moderation import guardrails
from tertulia.moderation.actions.log import changed, new_action, queue, write_batch
from tertulia.moderation.authors import Context, authors_of
from tertulia.moderation.choices import NETWORK_ACTIONS, ActionStatus, ActionType
from tertulia.moderation.guardrails import Outcome
from tertulia.moderation.models import ModerationAction, ModerationRule
from tertulia.moderation.policy import PlannedAction, compile_rules, evaluate


def rule_actor(rule_name: str) -> Actor:
    return Actor.system(f"moderation: {rule_name}"[:255])


def rule_reason(rule_name: str) -> str:
    return _("Rule “%(rule)s”.") % {"rule": rule_name}


def action_key(rule_id: int | None, message_id: int, index: int) -> str:
    return f"{rule_id}:{message_id}:{index}"


def apply_policy(
    channel: Channel, messages: Sequence[Message], conversations: Sequence[Conversation]
) -> list[ModerationAction]:
    """Run the brand's enabled rules on the batch's new inbound messages; returns what was logged."""
    inbound = [m for m in messages if m.direction == Direction.INBOUND and m.pk is not None]
    if not inbound:
        return []
    rules = compile_rules(
        ModerationRule.objects.filter(brand_id=channel.brand_id, enabled=True).order_by("position", "id")
    )
    if not rules:
        return []
    authors = authors_of(channel.organization_id, inbound)
    done = set(
        ModerationAction.objects.filter(message__in=inbound, automatic=True)
        .exclude(key="")
        .values_list("key", flat=True)
    )
    by_id = {c.pk: c for c in conversations}
    replies = any(a.type == ActionType.AUTO_REPLY for r in rules for a in r.actions)
    replied = _auto_replied({m.conversation_id for m in inbound}) if replies else set()
    threshold = channel.brand.reach_threshold
    taken: list[tuple[Actor, ModerationAction]] = []
    tagged: set[tuple[int, str]] = set()  # (conversation, tag) already put on in this batch
    for message in inbound:
        context = Context(authors[message.pk], threshold)
        conversation = by_id.get(message.conversation_id) or message.conversation
        for planned in evaluate(rules, message, context):
            key = action_key(planned.rule.id, message.pk, planned.index)
            if key in done:
                continue
            if planned.action_type == ActionType.AUTO_REPLY:
                if (planned.rule.id, conversation.pk) in replied:
                    continue  # one automatic reply per rule and conversation
                replied.add((planned.rule.id, conversation.pk))
            done.add(key)
            taken.append(_take(planned, message, conversation, context, key, tagged))
    if not taken:
        return []
    logged = write_batch(taken)
    queue([a.pk for a in logged if a.status == ActionStatus.PENDING])
    changed(channel.organization_id)
    return logged


def _auto_replied(conversation_ids: set[int]) -> set[tuple[int | None, int]]:
    rows = ModerationAction.objects.filter(
        conversation_id__in=conversation_ids, action_type=ActionType.AUTO_REPLY, status=ActionStatus.APPLIED
    ).values_list("rule_id", "conversation_id")
    return set(rows)


def _take(
    planned: PlannedAction,
    message: Message,
    conversation: Conversation,
    context: Context,
    key: str,
    tagged: set[tuple[int, str]],
) -> tuple[Actor, ModerationAction]:
    """Do what can be done now and say what the log should keep (written for the whole batch)."""
    rule = planned.rule
    actor = rule_actor(rule.name)
    reason = rule_reason(rule.name)

    def log(status: str, why: str = "", error: str = "") -> tuple[Actor, ModerationAction]:
        return actor, new_action(
            message=message,
            conversation=conversation,
            action_type=planned.action_type,
            status=status,
            reason=f"{reason} {why}".strip(),
            params=planned.spec.params,
            automatic=True,
            rule_id=rule.id,
            rule_name=rule.name,
            key=key,
            error=error,
        )

    if planned.action_type in NETWORK_ACTIONS:
        verdict = guardrails.check(
            planned.action_type, automatic=True, intent=message.intent, context=context
        )
        if verdict.outcome == Outcome.REFUSE:
            return log(ActionStatus.REFUSED_BY_GUARDRAIL, verdict.reason)
        if verdict.outcome == Outcome.ESCALATE_INSTEAD:
            _escalate(actor, conversation, _("%(rule)s: a person must decide") % {"rule": rule.name})
            return log(ActionStatus.ESCALATED_INSTEAD, verdict.reason)
        return log(ActionStatus.PENDING)
    try:
        # Each inbox action is atomic (a savepoint here): a refused step rolls back alone, never the batch.
        _local(planned, message, conversation, actor, tagged)
    except ActionRefused as refused:
        return log(ActionStatus.FAILED, error=str(refused))
    return log(ActionStatus.APPLIED)


def _local(
    planned: PlannedAction,
    message: Message,
    conversation: Conversation,
    actor: Actor,
    tagged: set[tuple[int, str]],
) -> None:
    spec = planned.spec
    if spec.type == ActionType.ESCALATE:
        _escalate(actor, conversation, planned.rule.name)
    elif spec.type == ActionType.TAG:
        if (conversation.pk, spec.tag) not in tagged:  # several spam replies under one post: tag it once
            change_tags(actor, conversation, add=[spec.tag])
            tagged.add((conversation.pk, spec.tag))
    elif spec.type == ActionType.ASSIGN:
        user = User.objects.filter(pk=spec.user or 0, is_active=True).first()
        if user is None:
            raise ActionRefused(_("The person this rule assigns to no longer exists."))
        assign(actor, conversation, user)
        # The router's automatic assignment runs next on these same objects: it must see the owner.
        conversation.assignee = user
    elif spec.type == ActionType.AUTO_REPLY:
        send_reply(
            actor,
            conversation,
            spec.text,
            idempotency_key=f"moderation-{planned.rule.id}-{message.pk}",
        )
    else:  # pragma: no cover - parse_actions admits nothing else
        raise ActionRefused(spec.type)


def _escalate(actor: Actor, conversation: Conversation, reason: str) -> None:
    escalated = escalate(actor, conversation, reason)
    # Keep the batch's in-memory conversation in step with the row the inbox action saved.
    conversation.escalated_at = escalated.escalated_at
    conversation.escalation_reason = escalated.escalation_reason
    conversation.urgency = escalated.urgency
