"""The ingestion's fast paths store exactly what Django's bulk methods stored before them.

`tertulia.inbox.ingest.bulk` replaced `bulk_create`/`bulk_update` in the pipeline for speed
(bench/inbox_ingest.py); these tests write the same objects both ways and compare the rows.
No timing is asserted here: machines are noisy.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F, Model

from tertulia.connectors.base import RemoteAuthor
from tertulia.core.models import Channel, Contact, ContactHandle
from tertulia.inbox.ingest.bulk import insert_rows, update_fields
from tertulia.inbox.ingest.contacts import resolve_authors
from tertulia.inbox.models import Conversation, Message, ResponseTarget, Status
from tertulia.inbox.tests.conftest import T0

pytestmark = pytest.mark.django_db

# Set by the database at insert (auto_now_add / auto_now): they differ between two inserts.
STAMPS = {"id", "created_at", "updated_at", "received_at"}


def _row(obj: Model) -> dict[str, Any]:
    values = type(obj)._default_manager.filter(pk=obj.pk).values().get()
    return {k: v for k, v in values.items() if k not in STAMPS}


def _conversation(channel: Channel, key: str, **extra: Any) -> Conversation:
    return Conversation(
        organization_id=channel.organization_id,
        brand_id=channel.brand_id,
        channel=channel,
        key=key,
        kind="mention",
        preview="¿Abrís el domingo? <b>hola</b> \u202e🔥",
        last_message_at=T0,
        **extra,
    )


def _message(conversation: Conversation, remote_id: str, author: ContactHandle | None) -> Message:
    return Message(
        organization_id=conversation.organization_id,
        brand_id=conversation.brand_id,
        channel_id=conversation.channel_id,
        conversation=conversation,
        remote_id=remote_id,
        kind="reply",
        author=author,
        author_handle="ana",
        author_followers=12_345,
        text="Llegó roto \u200b y nadie contesta 😡 <script>x</script>",
        sent_at=T0 + timedelta(seconds=1, microseconds=250),
        language="es",
        sentiment="negative",
        sentiment_score=-0.875,
        intent="complaint",
        urgency=2,
    )


def test_insert_rows_stores_what_bulk_create_stores(channel) -> None:
    contact = insert_rows([Contact(organization_id=channel.organization_id, display_name="Ana")])[0]
    handle = ContactHandle.objects.create(
        organization_id=channel.organization_id, contact=contact, network="sandbox", handle="ana"
    )
    ours = insert_rows([_conversation(channel, "a", contact=contact), _conversation(channel, "b")])
    django = Conversation.objects.bulk_create(
        [_conversation(channel, "a2", contact=contact), _conversation(channel, "b2")]
    )
    for mine, theirs in zip(ours, django, strict=True):
        assert mine.pk is not None and not mine._state.adding and mine._state.db == "default"
        assert {**_row(mine), "key": ""} == {**_row(theirs), "key": ""}
        assert mine.created_at is not None and mine.updated_at is not None  # auto_now(_add) applied
    messages = insert_rows([_message(ours[0], "m1", handle), _message(ours[1], "m2", None)])
    reference = Message.objects.bulk_create([_message(ours[0], "r1", handle), _message(ours[1], "r2", None)])
    for message, same in zip(messages, reference, strict=True):
        assert {**_row(message), "remote_id": ""} == {**_row(same), "remote_id": ""}
        assert message.received_at is not None


def test_insert_rows_in_several_statements_keeps_ids_in_order(channel) -> None:
    # SQLite takes at most 999 parameters a statement: 2,000 conversations need many.
    made = insert_rows([_conversation(channel, f"k{n}") for n in range(2000)])
    assert dict(Conversation.objects.values_list("pk", "key")) == {c.pk: c.key for c in made}


def test_update_fields_stores_what_bulk_update_stores(channel) -> None:
    contact = Contact.objects.create(organization_id=channel.organization_id, display_name="Bea")
    ours = insert_rows([_conversation(channel, f"o{n}") for n in range(3)])
    theirs = insert_rows([_conversation(channel, f"t{n}") for n in range(3)])
    for conversation in [*ours, *theirs]:
        conversation.status = Status.PENDING
        conversation.contact = contact
        conversation.due_at = T0 + timedelta(hours=1, microseconds=7)
        conversation.awaiting_since = None
        conversation.urgency = 3
        conversation.preview = "nuevo \u202e texto"
    fields = ["status", "contact", "due_at", "awaiting_since", "urgency", "preview"]
    update_fields(list(reversed(ours)), fields)
    Conversation.objects.bulk_update(theirs, fields)
    for mine, reference in zip(ours, theirs, strict=True):
        assert {**_row(mine), "key": ""} == {**_row(reference), "key": ""}


def test_update_fields_refuses_what_it_cannot_write(channel) -> None:
    conversation = insert_rows([_conversation(channel, "x")])[0]
    with pytest.raises(ValueError, match="not a column"):
        update_fields([conversation], ["tags"])
    with pytest.raises(ValueError, match="not a column"):
        update_fields([conversation], ["id"])
    conversation.message_count = F("message_count") + 1
    with pytest.raises(ValueError, match="expressions"):
        update_fields([conversation], ["message_count"])
    with pytest.raises(ValueError, match="new rows"):
        insert_rows([conversation])


def test_response_targets_inserted_fast_are_complete(channel) -> None:
    conversation = insert_rows([_conversation(channel, "c")])[0]
    target = insert_rows(
        [
            ResponseTarget(
                conversation=conversation, brand_id=channel.brand_id, stage="first", started_at=T0, due_at=T0
            )
        ]
    )[0]
    assert ResponseTarget.objects.get(pk=target.pk).outcome == ResponseTarget.Outcome.RUNNING


def test_authors_are_found_by_id_first_then_by_handle(channel) -> None:
    first = resolve_authors(
        channel, [RemoteAuthor(remote_id="id-1", handle="uno"), RemoteAuthor(remote_id="", handle="dos")]
    )
    # A known id under a new handle, a handle-only author, and a new id whose handle is known.
    again = resolve_authors(
        channel,
        [
            RemoteAuthor(remote_id="id-1", handle="uno_renamed"),
            RemoteAuthor(remote_id="", handle="dos"),
            RemoteAuthor(remote_id="id-2", handle="dos"),
        ],
    )
    assert again["id-1"].pk == first["id-1"].pk
    assert again["dos"].pk == first["dos"].pk == again["id-2"].pk
    assert ContactHandle.objects.count() == 2
    assert ContactHandle.objects.get(pk=first["dos"].pk).remote_id == "id-2"


def test_search_pages_list_what_the_subquery_listed(channel, item) -> None:
    """conversation_page ranks a search's conversations itself (SQLite planned the subquery
    badly); the pages must hold the same conversations, in the same order, as before."""
    from tertulia.core.tests.factories import make_user
    from tertulia.inbox.ingest.pipeline import ingest
    from tertulia.inbox.search import matching_message_ids
    from tertulia.inbox.selectors import SEARCH_WINDOW, ConversationQuery, conversation_page

    same_moment = T0 + timedelta(hours=5)  # ties on last activity are broken by id
    ingest(
        channel,
        [
            *(item(f"pedido {n} roto", key=f"k{n % 7}", at=T0 + timedelta(minutes=n)) for n in range(30)),
            *(item("otro pedido", key=f"tie{n}", at=same_moment) for n in range(3)),
            item("nada que ver", key="k99"),
        ],
    )
    Conversation.objects.filter(key__in=["k1", "tie1"]).update(status=Status.CLOSED)
    user = make_user()
    for statuses in [(), (Status.OPEN,), (Status.CLOSED,)]:
        ids = matching_message_ids(channel.brand_id, "pedido", limit=SEARCH_WINDOW)
        expected = list(
            Conversation.objects.filter(brand_id=channel.brand_id, channel__in=[channel.pk])
            .filter(**({"status__in": statuses} if statuses else {}))
            .filter(pk__in=Message.objects.filter(pk__in=ids).values("conversation_id"))
            .order_by("-last_message_at", "-id")
            .values_list("pk", flat=True)
        )
        listed: list[int] = []
        cursor = None
        query = ConversationQuery(statuses=statuses, q="pedido")
        while True:
            page = conversation_page(channel.brand, [channel], user, query, cursor=cursor, limit=2)
            listed += [c.pk for c in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert listed == expected and len(expected) > (2 if statuses != (Status.CLOSED,) else 1)


def test_a_person_created_meanwhile_by_another_worker_is_taken_not_fatal(channel) -> None:
    from tertulia.inbox.ingest.contacts import _create_one

    author = RemoteAuthor(remote_id="id-9", handle="nueve")
    theirs = resolve_authors(channel, [author])["id-9"]  # the other worker's, committed first
    assert _create_one(channel, author)["id-9"].pk == theirs.pk
    assert ContactHandle.objects.filter(remote_id="id-9").count() == 1  # and the transaction goes on
