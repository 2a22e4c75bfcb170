"""What no rule and no single person can do, checked alone and through ingestion."""

from __future__ import annotations

import pytest

from tertulia.core.actions.contacts import create_contact
from tertulia.core.models import ContactHandle
from tertulia.inbox.models import Message
from tertulia.moderation.authors import Author, Context
from tertulia.moderation.choices import ActionStatus
from tertulia.moderation.guardrails import Outcome, check
from tertulia.moderation.models import ModerationAction

from .conftest import COMPLAINT, INSULT, SPAM, SYSTEM, World, ingest_items, rule

pytestmark = pytest.mark.django_db

NOBODY = Context(Author(reach=10), 5000)
INFLUENTIAL = Context(Author(reach=5000), 5000)  # the threshold itself counts
CUSTOMER = Context(Author(reach=1, is_customer=True), 5000)
VIP = Context(Author(reach=1, is_vip=True), 5000)


@pytest.mark.parametrize(
    ("action", "intent", "context", "outcome"),
    [
        ("hide", "spam", NOBODY, Outcome.ALLOW),
        ("hide", "complaint", NOBODY, Outcome.REFUSE),
        ("delete", "complaint", NOBODY, Outcome.REFUSE),
        ("block", "complaint", NOBODY, Outcome.ESCALATE_INSTEAD),
        ("block", "abuse", NOBODY, Outcome.ALLOW),
        ("block", "abuse", INFLUENTIAL, Outcome.ESCALATE_INSTEAD),
        ("block", "abuse", CUSTOMER, Outcome.ESCALATE_INSTEAD),
        ("block", "abuse", VIP, Outcome.ESCALATE_INSTEAD),
        ("delete", "spam", INFLUENTIAL, Outcome.ESCALATE_INSTEAD),
        ("delete", "complaint", CUSTOMER, Outcome.ESCALATE_INSTEAD),
        ("hide", "spam", INFLUENTIAL, Outcome.ALLOW),  # hiding is not silencing the person
        ("hide", "complaint", INFLUENTIAL, Outcome.REFUSE),
    ],
)
def test_automatic(action, intent, context, outcome) -> None:
    verdict = check(action, automatic=True, intent=intent, context=context)
    assert verdict.outcome == outcome
    assert bool(verdict.reason) == (outcome != Outcome.ALLOW)


@pytest.mark.parametrize(
    ("action", "intent", "context", "outcome"),
    [
        ("hide", "complaint", INFLUENTIAL, Outcome.ALLOW),  # a person's call, logged
        ("unhide", "spam", NOBODY, Outcome.ALLOW),
        ("delete", "spam", NOBODY, Outcome.ALLOW),
        ("block", "abuse", NOBODY, Outcome.ALLOW),
        ("delete", "complaint", NOBODY, Outcome.NEEDS_APPROVAL),
        ("block", "complaint", NOBODY, Outcome.NEEDS_APPROVAL),
        ("delete", "spam", INFLUENTIAL, Outcome.NEEDS_APPROVAL),
        ("block", "abuse", CUSTOMER, Outcome.NEEDS_APPROVAL),
        ("block", "abuse", VIP, Outcome.NEEDS_APPROVAL),
    ],
)
def test_by_hand(action, intent, context, outcome) -> None:
    assert check(action, automatic=False, intent=intent, context=context).outcome == outcome


def test_the_reason_says_why_the_author_matters() -> None:
    both = Context(Author(reach=12_000, is_customer=True), 5000)
    reason = check("block", automatic=True, intent="abuse", context=both).reason
    assert "12,000 followers" in reason and "5,000" in reason and "customer" in reason


def test_a_rule_cannot_hide_a_complaint(world: World, item) -> None:
    rule(world, {"sentiments": ["negative"]}, [{"type": "hide"}])
    [message] = ingest_items(world.channel, [item(COMPLAINT)])
    assert message.intent == "complaint"
    action = ModerationAction.objects.get(message=message)
    assert action.status == ActionStatus.REFUSED_BY_GUARDRAIL
    assert "never hidden automatically" in action.reason and "rule" in action.reason.lower()
    assert not Message.objects.get(pk=message.pk).is_hidden


def test_a_rule_cannot_block_a_known_customer_it_escalates(world: World, item) -> None:
    contact = create_contact(SYSTEM, world.org, display_name="Clienta", is_customer=True)
    rule(world, {"intents": ["abuse"]}, [{"type": "block"}])
    ingest_items(world.channel, [item("hola", author="clienta")])  # her handle, created by the pipeline
    ContactHandle.objects.filter(handle="clienta").update(contact=contact)
    [message] = ingest_items(world.channel, [item(INSULT, author="clienta")])
    action = ModerationAction.objects.get(message=message)
    assert action.status == ActionStatus.ESCALATED_INSTEAD
    assert "customer" in action.reason
    assert message.conversation.escalated_at is not None


def test_reach_on_another_network_counts(world: World, item) -> None:
    """The person's largest audience, whichever handle wrote."""
    rule(world, {"intents": ["spam"]}, [{"type": "delete"}])
    [first] = ingest_items(world.channel, [item("hola", author="multi")])
    handle = first.author
    assert handle is not None
    ContactHandle.objects.create(
        organization=world.org,
        contact=handle.contact,
        network="bluesky",
        handle="multi.bsky",
        followers_count=9000,
    )
    [spam] = ingest_items(world.channel, [item(SPAM, author="multi")])
    assert ModerationAction.objects.get(message=spam).status == ActionStatus.ESCALATED_INSTEAD
