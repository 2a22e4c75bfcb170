"""The policy inside ingestion: each rule once per message, in bulk, never blocking the inbox."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tertulia.connectors.base import InboundKind, TemporaryFailure
from tertulia.core.models import AuditEntry
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Assignment, Conversation, Delivery, Direction, InboxSettings, Message
from tertulia.moderation import network
from tertulia.moderation.automatic import apply_policy
from tertulia.moderation.choices import ActionStatus, ActionType
from tertulia.moderation.models import ModerationAction, ModerationRule
from tertulia.moderation.tasks import retry_stalled_actions

from .conftest import QUESTION, SPAM, World, ingest_items, rule

pytestmark = pytest.mark.django_db


def test_a_replayed_batch_repeats_nothing(world: World, item) -> None:
    rule(world, {"intents": ["spam"]}, [{"type": "hide"}, {"type": "tag", "tag": "spam"}])
    batch = [item(SPAM, author="a"), item(SPAM, author="b")]
    ingest(world.channel, batch)
    counts = (ModerationAction.objects.count(), AuditEntry.objects.count())
    assert counts[0] == 4
    again = ingest(world.channel, batch)
    assert again.created == [] and again.duplicates == 2
    assert (ModerationAction.objects.count(), AuditEntry.objects.count()) == counts
    # Even asked twice for the same messages, a rule acts once on each.
    messages = list(Message.objects.filter(channel=world.channel))
    apply_policy(world.channel, messages, list(Conversation.objects.filter(channel=world.channel)))
    assert ModerationAction.objects.count() == counts[0]


def test_an_automatic_reply_is_sent_once_per_conversation(world: World, item) -> None:
    rule(world, {"intents": ["question"]}, [{"type": "auto_reply", "text": "Te respondemos en breve."}])
    ingest(world.channel, [item(QUESTION, key="dm-1", kind=InboundKind.DIRECT_MESSAGE)])
    ingest(world.channel, [item("¿Y el domingo? ¿Abrís?", key="dm-1", kind=InboundKind.DIRECT_MESSAGE)])
    replies = Message.objects.filter(channel=world.channel, direction=Direction.OUTBOUND)
    assert replies.count() == 1
    reply = replies.get()
    assert reply.text == "Te respondemos en breve." and reply.delivery == Delivery.SENDING
    assert reply.idempotency_key.startswith("moderation-")
    assert ModerationAction.objects.filter(action_type=ActionType.AUTO_REPLY).count() == 1


def test_a_rule_assigns_before_automatic_assignment(world: World, item) -> None:
    InboxSettings.objects.create(brand=world.brand, assignment=Assignment.ROUND_ROBIN)
    rule(world, {"intents": ["question"]}, [{"type": "assign", "user": world.cm2.pk}])
    [message] = ingest_items(world.channel, [item(QUESTION)])
    assert Conversation.objects.get(pk=message.conversation_id).assignee == world.cm2


def test_a_step_that_cannot_be_done_fails_alone(world: World, item) -> None:
    rule(
        world,
        {"intents": ["question"]},
        [{"type": "assign", "user": world.outsider.pk}, {"type": "tag", "tag": "pregunta"}],
    )
    [message] = ingest_items(world.channel, [item(QUESTION)])
    assign, tag = ModerationAction.objects.filter(message=message).order_by("key")
    assert assign.status == ActionStatus.FAILED and "cannot operate" in assign.error
    assert tag.status == ActionStatus.APPLIED
    assert message.conversation.assignee is None


def test_a_rule_stored_broken_is_skipped_not_fatal(world: World, item) -> None:
    ModerationRule.objects.create(
        organization=world.org, brand=world.brand, name="rota", enabled=True, conditions={"x": 1}, actions=[]
    )
    rule(world, {"intents": ["spam"]}, [{"type": "tag", "tag": "spam"}])
    assert len(ingest_items(world.channel, [item(SPAM)])) == 1
    assert ModerationAction.objects.get().rule_name != "rota"


def test_switched_off_rules_do_nothing(world: World, item) -> None:
    rule(world, {"intents": ["spam"]}, [{"type": "hide"}], enabled=False)
    ingest_items(world.channel, [item(SPAM)])
    assert not ModerationAction.objects.exists()


def test_the_policy_costs_the_same_few_queries_whatever_the_batch(world: World, item) -> None:
    rule(world, {"intents": ["abuse"]}, [{"type": "block"}])
    rule(world, {"text_matches": ["nunca dicho"]}, [{"type": "escalate"}])
    small = ingest_items(world.channel, [item(QUESTION, author=f"p{i}") for i in range(3)])
    large = ingest_items(world.channel, [item(QUESTION, author=f"q{i}") for i in range(60)])
    costs = []
    for batch in (small, large):
        conversations = list(Conversation.objects.filter(pk__in={m.conversation_id for m in batch}))
        with CaptureQueriesContext(connection) as queries:
            apply_policy(world.channel, batch, conversations)
        costs.append(len(queries))
    assert costs[0] == costs[1] <= 5
    # A brand without rules pays one query.
    ModerationRule.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        apply_policy(world.channel, large, [])
    assert len(queries) == 1


def test_network_actions_wait_for_the_commit_and_a_worker(
    world: World, item, django_capture_on_commit_callbacks
) -> None:
    rule(world, {"intents": ["spam"]}, [{"type": "hide"}])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [message] = ingest_items(world.channel, [item(SPAM)])
    action = ModerationAction.objects.get(message=message)
    assert action.status == ActionStatus.PENDING  # nothing was called inside the transaction
    queued = [c for c in callbacks if "queue" in c.__qualname__]
    assert len(queued) == 1
    with mock.patch("tertulia.moderation.network.open_connector") as opened:
        queued[0]()  # what the worker does after the commit
    assert opened.called


def test_passing_failures_are_retried_by_the_sweep_then_given_up(world: World, item) -> None:
    rule(world, {"intents": ["spam"]}, [{"type": "hide"}])
    [message] = ingest_items(world.channel, [item(SPAM)])  # on-commit callbacks do not run here
    action = ModerationAction.objects.get(message=message)
    assert network.stalled() == []  # just queued: the worker's on-commit call has a minute
    later = timezone.now() + network.RETRY_AFTER + timedelta(seconds=1)
    assert network.stalled(later) == [action.pk]

    calls = []

    class Flaky:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def hide(self, remote_id):
            calls.append(remote_id)
            raise TemporaryFailure("the network is down")

    with mock.patch("tertulia.moderation.network.open_connector", Flaky):
        assert network.execute(action.pk) == ActionStatus.PENDING
        assert network.execute(action.pk) == ActionStatus.PENDING  # locked: not tried twice at once
    action.refresh_from_db()
    assert calls == [message.remote_id] and action.attempts == 1 and "down" in action.error
    ModerationAction.objects.filter(pk=action.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    with mock.patch("tertulia.moderation.network.open_connector", Flaky):
        retry_stalled_actions()
        action.refresh_from_db()
        assert action.status == ActionStatus.PENDING and action.attempts == 2
        ModerationAction.objects.filter(pk=action.pk).update(
            locked_until=None, created_at=timezone.now() - network.GIVE_UP_AFTER - timedelta(minutes=1)
        )
        assert network.execute(action.pk) == ActionStatus.FAILED
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED and "down" in action.error
    assert AuditEntry.objects.filter(action="moderation.failed", object_id=str(action.pk)).exists()


def test_what_a_network_cannot_do_fails_with_a_clear_reason(world: World, item) -> None:
    rule(world, {"intents": ["spam"]}, [{"type": "hide"}])
    [message] = ingest_items(world.channel, [item(SPAM)])
    action = ModerationAction.objects.get(message=message)
    world.channel.network = "bluesky"  # Bluesky has no "hide"
    world.channel.save(update_fields=["network"])
    assert network.execute(action.pk) == ActionStatus.FAILED
    action.refresh_from_db()
    assert "Bluesky does not let Tertulia do this" in action.error


def test_the_sweep_runs_in_every_worker() -> None:
    from tertulia.moderation import tasks
    from tertulia.tasks.ticker import JOBS

    assert JOBS["moderation.stalled_actions"].func is tasks.retry_stalled_actions
    assert JOBS["moderation.stalled_actions"].every <= network.RETRY_AFTER.total_seconds()
