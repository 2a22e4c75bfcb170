"""The SLA sweep: a warning before the due time, then breach and escalation, each exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import translation

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.inbox import sla_sweep
from tertulia.inbox.actions.assignment import assign
from tertulia.inbox.actions.escalation import escalate
from tertulia.inbox.actions.settings import update_sla_policy
from tertulia.inbox.actions.status import set_status
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Notification, NotificationKind, Status, Urgency
from tertulia.inbox.sla_sweep import sweep, sweep_all

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def _one(channel, item, text="¿Tenéis envío a Canarias?", **kw):
    ingest(channel, [item(text, **kw)])
    return Conversation.objects.filter(channel=channel).order_by("-pk").first()


def _kinds(conversation: Conversation) -> list[str]:
    return sorted(Notification.objects.filter(conversation=conversation).values_list("kind", flat=True))


def test_warning_then_breach_and_escalation_exactly_once(channel, item) -> None:
    conversation = _one(channel, item)
    due = conversation.due_at
    assert due is not None and conversation.status == Status.OPEN

    assert sweep(due - timedelta(minutes=20)).warned == 0  # default: warn 15 minutes before
    first = sweep(due - timedelta(minutes=10))
    assert (first.warned, first.breached) == (1, 0)
    conversation.refresh_from_db()
    assert conversation.sla_warned_at == due - timedelta(minutes=10)
    assert conversation.escalated_at is None
    # Unassigned: the channel's available operators are told (here the organization's owner).
    assert _kinds(conversation) == [NotificationKind.SLA_WARNING]
    assert sweep(due - timedelta(minutes=5)) == sweep(due - timedelta(minutes=1))  # nothing new

    breach = sweep(due + timedelta(minutes=1))
    assert (breach.warned, breach.breached) == (0, 1)
    conversation.refresh_from_db()
    assert conversation.sla_breached_at == due + timedelta(minutes=1)
    assert conversation.escalated_at is not None
    with translation.override(conversation.brand.language):  # written in the brand's language
        assert conversation.escalation_reason == translation.gettext("No answer within the SLA target")
    assert conversation.urgency >= Urgency.HIGH
    kinds = _kinds(conversation)
    assert kinds.count(NotificationKind.SLA_WARNING) == 1
    assert kinds.count(NotificationKind.SLA_BREACH) == 1
    assert kinds.count(NotificationKind.ESCALATION) >= 1
    before = Notification.objects.count()

    for minutes in (2, 30, 600):
        again = sweep(due + timedelta(minutes=minutes))
        assert (again.warned, again.breached) == (0, 0)
    assert Notification.objects.count() == before
    escalations = AuditEntry.objects.filter(action="conversation.escalate", object_id=str(conversation.pk))
    assert escalations.count() == 1
    assert escalations.get().actor_label == "SLA"


def test_the_assignee_is_told_not_the_whole_team(channel, item) -> None:
    agent = make_member(channel.organization, Role.OWNER)
    conversation = _one(channel, item)
    assign(SYSTEM, conversation, agent)
    Notification.objects.all().delete()
    due = conversation.due_at
    sweep(due - timedelta(minutes=1))
    sweep(due + timedelta(minutes=1))
    warned = Notification.objects.filter(kind=NotificationKind.SLA_WARNING)
    breached = Notification.objects.filter(kind=NotificationKind.SLA_BREACH)
    assert list(warned.values_list("user", flat=True)) == [agent.pk]
    assert list(breached.values_list("user", flat=True)) == [agent.pk]


def test_a_paused_clock_never_warns_nor_breaches(channel, item) -> None:
    pending = _one(channel, item, key="a")
    snoozed = _one(channel, item, "otra", key="b", author="bea")
    due = pending.due_at
    set_status(SYSTEM, pending, Status.PENDING)
    set_status(SYSTEM, snoozed, Status.SNOOZED, snoozed_until=due + timedelta(days=365 * 5))
    for at in (due - timedelta(minutes=5), due + timedelta(hours=1), due + timedelta(days=30)):
        assert sweep(at) == sweep(at) and sweep(at).warned == sweep(at).breached == 0
    for conversation in (pending, snoozed):
        conversation.refresh_from_db()
        assert conversation.due_at is None
        assert (conversation.sla_warned_at, conversation.sla_breached_at, conversation.escalated_at) == (
            None,
            None,
            None,
        )
    assert not Notification.objects.filter(
        kind__in=[NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH]
    )


def test_closed_conversations_are_left_alone(channel, item) -> None:
    conversation = _one(channel, item)
    due = conversation.due_at
    set_status(SYSTEM, conversation, Status.CLOSED)
    assert sweep(due + timedelta(hours=2)).breached == 0


def test_found_overdue_before_any_warning_it_is_only_escalated(channel, item) -> None:
    conversation = _one(channel, item)
    result = sweep(conversation.due_at + timedelta(hours=3))  # the workers were down
    assert (result.warned, result.breached) == (0, 1)
    assert sweep(conversation.due_at + timedelta(hours=3, seconds=30)).warned == 0
    assert NotificationKind.SLA_WARNING not in _kinds(conversation)


def test_each_brand_warns_at_its_own_time(channel, item) -> None:
    update_sla_policy(SYSTEM, channel.brand, warn_before_minutes=60)
    other_brand = make_brand(channel.organization, "Otra")
    other_channel = connect_channel(SYSTEM, other_brand, "sandbox", "@otra_marca", "Otra")
    early = _one(channel, item)
    late = _one(other_channel, item)  # no policy: the default 15 minutes
    quiet_brand = make_brand(channel.organization, "Callada")
    update_sla_policy(SYSTEM, quiet_brand, warn_before_minutes=0)
    quiet = _one(connect_channel(SYSTEM, quiet_brand, "sandbox", "@callada", "Callada"), item)

    at = max(early.due_at, late.due_at) - timedelta(minutes=30)
    assert sweep(at).warned == 1
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.sla_warned_at == at and late.sla_warned_at is None
    assert early.due_at < late.due_at < quiet.due_at < early.due_at + timedelta(minutes=5)
    at = late.due_at - timedelta(minutes=10)
    assert sweep(at).warned == 1
    late.refresh_from_db()
    quiet.refresh_from_db()
    assert late.sla_warned_at == at and quiet.sla_warned_at is None  # 0: no warnings for this brand


def test_batches_are_bounded_and_sweep_all_catches_up(channel, item) -> None:
    conversations = [_one(channel, item, f"m{n}", key=f"k{n}", author=f"p{n}") for n in range(5)]
    late = max(c.due_at for c in conversations) + timedelta(minutes=1)
    assert sweep(late, batch=2).breached == 2
    assert sweep(late, batch=2).breached == 2
    assert sweep(late, batch=2).breached == 1
    assert sweep(late, batch=2).breached == 0
    more = [_one(channel, item, f"n{n}", key=f"j{n}", author=f"q{n}") for n in range(5)]
    later = max(c.due_at for c in more) + timedelta(minutes=1)
    assert sweep_all(later, batch=2).breached == 5
    assert (
        Conversation.objects.filter(sla_breached_at__isnull=False, escalated_at__isnull=False).count() == 10
    )


def test_a_failing_conversation_is_retried_and_never_blocks_the_others(channel, item, monkeypatch) -> None:
    first = _one(channel, item, "uno", key="a")
    second = _one(channel, item, "dos", key="b", author="bea")
    real = escalate

    def broken(actor, conversation, reason):
        if conversation.pk == first.pk:
            raise RuntimeError("escalation is down")
        return real(actor, conversation, reason)

    monkeypatch.setattr(sla_sweep, "escalate", broken)
    late = second.due_at + timedelta(minutes=1)
    assert sweep(late).breached == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.sla_breached_at is None and first.escalated_at is None  # rolled back, stamp included
    assert second.escalated_at is not None
    assert not Notification.objects.filter(conversation=first, kind=NotificationKind.SLA_BREACH).exists()
    monkeypatch.setattr(sla_sweep, "escalate", real)
    assert sweep(late + timedelta(seconds=30)).breached == 1
    first.refresh_from_db()
    assert first.escalated_at is not None


def test_resumed_clock_is_swept_again(channel, item) -> None:
    conversation = _one(channel, item)
    due = conversation.due_at
    set_status(SYSTEM, conversation, Status.PENDING)
    assert sweep(due + timedelta(minutes=1)).breached == 0
    set_status(SYSTEM, conversation, Status.OPEN)
    conversation.refresh_from_db()
    assert conversation.due_at is not None
    assert sweep(conversation.due_at + timedelta(minutes=1)).breached == 1


def test_the_ticker_job_is_registered() -> None:
    from tertulia.inbox import tasks
    from tertulia.tasks.ticker import JOBS

    assert JOBS["inbox.sla_sweep"].func is tasks.sweep_sla_clocks
    assert JOBS["inbox.sla_sweep"].every == 30.0
    tasks.sweep_sla_clocks()  # runs against the real clock without failing


@pytest.mark.django_db(transaction=True)
def test_workers_sweeping_at_once_notify_each_conversation_once(item) -> None:
    if connection.vendor == "sqlite":
        # Django's SQLite test database is in memory with a shared cache, whose table locks fail at once
        # instead of waiting (the real, file-based database queues writers on BEGIN IMMEDIATE).
        pytest.skip("needs a database whose writers wait for each other (PostgreSQL)")
    brand = make_brand(make_org(), "Marca")
    channel = connect_channel(SYSTEM, brand, "sandbox", "@marca_carrera", "Marca")
    ingest(channel, [item(f"m{n}", key=f"k{n}", author=f"a{n}") for n in range(40)])
    due = max(d for d in Conversation.objects.values_list("due_at", flat=True) if d is not None)
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def worker(at) -> None:
        try:
            barrier.wait(timeout=30)
            for _round in range(4):
                sweep(at, batch=5)
        except Exception as exc:  # reported below, with the others
            errors.append(exc)
        finally:
            connections.close_all()

    for at in (due - timedelta(minutes=10), due + timedelta(minutes=1)):
        threads = [threading.Thread(target=worker, args=(at,)) for _n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    count = Conversation.objects.count()
    assert (
        Conversation.objects.filter(sla_breached_at__isnull=False, escalated_at__isnull=False).count()
        == count
    )
    assert AuditEntry.objects.filter(action="conversation.escalate").count() == count
    for kind in (NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH):
        per_conversation = (
            Notification.objects.filter(kind=kind).values("conversation", "user").annotate(n=Count("id"))
        )
        assert all(row["n"] == 1 for row in per_conversation)
    assert (
        Notification.objects.filter(kind=NotificationKind.SLA_BREACH)
        .values("conversation")
        .distinct()
        .count()
        == count
    )
