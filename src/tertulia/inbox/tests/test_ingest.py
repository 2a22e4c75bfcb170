"""The pipeline from connector items to conversations: store once, thread, analyse, clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tertulia.connectors.base import InboundKind, RemoteAuthor
from tertulia.core.models import ContactHandle
from tertulia.inbox.ingest.pipeline import MAX_TEXT, ingest
from tertulia.inbox.models import Conversation, Direction, Kind, Message, ResponseTarget, SlaPolicy, Status
from tertulia.inbox.tests.conftest import T0

pytestmark = pytest.mark.django_db


def test_items_are_stored_once_whatever_the_replays(channel, item) -> None:
    batch = [item("¿Abrís el domingo?"), item("Gracias, todo perfecto"), item("otra cosa")]
    first = ingest(channel, [*batch, batch[0]])  # a repeat inside the batch
    assert len(first.created) == 3 and first.duplicates == 1
    again = ingest(channel, batch)  # a webhook replayed, a poll overlapping
    assert again.created == [] and again.duplicates == 3
    assert Message.objects.filter(channel=channel).count() == 3


def test_messages_are_threaded_by_the_networks_key(channel, item) -> None:
    ingest(
        channel,
        [
            item("primera", kind=InboundKind.REPLY, key="post-1"),
            item("segunda", kind=InboundKind.REPLY, key="post-1", author="bea"),
            item("privado", kind=InboundKind.DIRECT_MESSAGE, key="dm-ana"),
            item("suelto"),
        ],
    )
    thread = Conversation.objects.get(channel=channel, key="post-1")
    assert thread.kind == Kind.THREAD and thread.message_count == 2
    assert thread.preview == "segunda" and thread.last_message_at == T0 + timedelta(minutes=2)
    assert Conversation.objects.get(key="dm-ana").kind == Kind.DIRECT
    assert Conversation.objects.filter(channel=channel).count() == 3  # the loose mention is its own


def test_one_contact_per_network_account_with_fresh_reach(channel, item) -> None:
    ingest(channel, [item("uno", author="ana", followers=10), item("dos", author="ana", followers=12)])
    ingest(channel, [item("tres", author="ana_nueva", author_id="id-ana", followers=5000)])  # renamed
    handle = ContactHandle.objects.get(organization=channel.organization, remote_id="id-ana")
    assert handle.handle == "ana_nueva" and handle.followers_count == 5000
    assert Message.objects.filter(author=handle).count() == 3
    conversation = Message.objects.filter(author=handle).get(remote_id="m1").conversation
    assert conversation.contact_id == handle.contact_id


def test_text_is_kept_verbatim_hostile_or_not(channel, item) -> None:
    hostile = [
        "<script>alert(1)</script><img src=x onerror=alert(2)>",
        "he\u200bl\u200dlo \u202etxet\u202c",
        "🔥" * 5000,
        "x" * (MAX_TEXT + 50),
    ]
    created = ingest(channel, [item(text) for text in hostile]).created
    stored = [Message.objects.get(pk=m.pk).text for m in created]
    assert stored[:3] == hostile[:3]
    assert stored[3] == "x" * MAX_TEXT


def test_the_analysis_is_stored_on_each_message(channel, item) -> None:
    created = ingest(
        channel,
        [
            item("Mi pedido llegó roto y nadie me contesta, quiero un reembolso"),
            item("¿A qué hora abrís mañana?"),
        ],
    ).created
    complaint, question = (Message.objects.get(pk=m.pk) for m in created)
    assert complaint.intent == "complaint" and complaint.sentiment == "negative"
    assert question.intent == "question"
    assert complaint.language == "es"


def test_a_customer_message_reopens_and_our_own_answer_stops_the_clock(channel, item) -> None:
    ingest(channel, [item("¿Tenéis envío a Canarias?", key="c1")])
    conversation = Conversation.objects.get(key="c1")
    assert conversation.awaiting_since == T0 + timedelta(minutes=1)
    assert conversation.due_at == T0 + timedelta(minutes=1, hours=24)  # the default, around the clock
    target = ResponseTarget.objects.get(conversation=conversation)
    assert target.stage == ResponseTarget.Stage.FIRST and target.outcome == ResponseTarget.Outcome.RUNNING

    ours = item("Sí, en 72 h", key="c1", author=channel.handle, author_id=channel.external_id)
    ingest(channel, [ours])
    conversation.refresh_from_db()
    target.refresh_from_db()
    assert Message.objects.get(remote_id=ours.remote_id).direction == Direction.OUTBOUND
    assert conversation.awaiting_since is None and conversation.due_at is None
    assert conversation.first_response_at == ours.created_at
    assert target.outcome == ResponseTarget.Outcome.MET

    Conversation.objects.filter(pk=conversation.pk).update(status=Status.CLOSED)
    ingest(channel, [item("¿Y a Baleares?", key="c1")])
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert ResponseTarget.objects.get(conversation=conversation, outcome="running").stage == "next"


def test_complaints_get_the_shorter_target(channel, item) -> None:
    SlaPolicy.objects.create(brand=channel.brand, intent_targets={"complaint": 45})
    ingest(channel, [item("El pedido llegó roto, es una vergüenza, quiero mi dinero", key="q")])
    conversation = Conversation.objects.get(key="q")
    assert conversation.intent == "complaint"
    assert conversation.awaiting_since is not None
    assert conversation.due_at == conversation.awaiting_since + timedelta(minutes=45)


def test_a_late_answer_breaches(channel, item) -> None:
    SlaPolicy.objects.create(brand=channel.brand, first_response_minutes=30, intent_targets={})
    ingest(channel, [item("hola, una pregunta", key="late")])
    late = item("perdón la demora", key="late", author_id=channel.external_id, at=T0 + timedelta(hours=2))
    ingest(channel, [late])
    assert ResponseTarget.objects.get(conversation__key="late").outcome == ResponseTarget.Outcome.BREACHED


def test_a_failing_step_stores_nothing(channel, item, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("routing failed")

    monkeypatch.setattr("tertulia.inbox.ingest.pipeline.route", broken)
    with pytest.raises(RuntimeError):
        ingest(channel, [item("uno"), item("dos")])
    assert not Message.objects.exists() and not Conversation.objects.exists()
    assert not ContactHandle.objects.exists()


def test_a_message_stored_by_someone_else_meanwhile_is_skipped(channel, item, monkeypatch) -> None:
    first, second = item("uno"), item("dos")
    ingest(channel, [first])
    # The dedupe read happened before the other worker's commit: the insert itself must cope.
    monkeypatch.setattr("tertulia.inbox.ingest.pipeline._fresh", lambda ch, items: (list(items), 0))
    result = ingest(channel, [first, second])
    assert [m.remote_id for m in result.created] == [second.remote_id] and result.duplicates == 1
    assert Message.objects.filter(channel=channel).count() == 2


def test_authors_without_an_id_are_matched_by_handle(channel) -> None:
    from tertulia.inbox.ingest.contacts import resolve_authors

    found = resolve_authors(channel, [RemoteAuthor(remote_id="", handle="sin_id")])
    again = resolve_authors(channel, [RemoteAuthor(remote_id="", handle="sin_id", followers_count=3)])
    assert found["sin_id"].pk == again["sin_id"].pk
    assert ContactHandle.objects.get(pk=found["sin_id"].pk).followers_count == 3
