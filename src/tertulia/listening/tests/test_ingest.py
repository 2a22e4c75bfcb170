"""Items from sources → matched → stored once per organization, with their queries and analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, User
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.actions.queries import create_query, delete_query, update_query
from tertulia.listening.ingest import Item, ingest
from tertulia.listening.models import ListeningQuery, Mention, QueryMatch

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def item(remote_id: str, text: str, **extra: object) -> Item:
    return Item(network="bluesky", remote_id=remote_id, text=text, published_at=NOW, **extra)  # type: ignore[arg-type]  # a test passes a deliberately loose value


def test_matches_are_stored_with_their_queries(brand: Brand, analyst: User):
    actor = Actor(user=analyst, via="web")
    wine = create_query(actor, brand, name="Vino", text="vino NOT empleo")
    rival = create_query(
        actor, brand, name="Rival", text="#bodegarival OR @rival.bsky.social", group="competitor"
    )
    result = ingest(
        [
            item("1", "Me encanta este VINO, gracias! 🍷"),
            item("2", "Oferta de empleo: vino y más"),
            item("3", "#BodegaRival tiene mejor vino", author_handle="juan.bsky.social", author_followers=12),
            item("4", "nada que ver"),
        ],
        organization_id=brand.organization_id,
    )
    assert (result.seen, result.matched, result.stored, result.matches) == (4, 2, 2, 3)
    assert result.queries == {wine.pk, rival.pk}
    assert set(QueryMatch.objects.filter(query=wine).values_list("mention__remote_id", flat=True)) == {
        "1",
        "3",
    }
    assert list(QueryMatch.objects.filter(query=rival).values_list("mention__remote_id", flat=True)) == ["3"]
    stored = Mention.objects.get(remote_id="1")
    assert stored.text == "Me encanta este VINO, gracias! 🍷"  # verbatim
    assert (stored.language, stored.sentiment) == ("es", "positive")


def test_the_same_post_twice_is_stored_once(brand: Brand, analyst: User):
    create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino")
    first = ingest([item("1", "vino")], organization_id=brand.organization_id)
    again = ingest([item("1", "vino"), item("1", "vino")], organization_id=brand.organization_id)
    assert (first.stored, again.stored, again.matches) == (1, 0, 0)
    assert Mention.objects.count() == QueryMatch.objects.count() == 1


def test_an_organization_source_matches_only_its_own_queries(brand: Brand, analyst: User):
    other_org = make_org("Otra SA")
    other = create_query(Actor.system(), make_brand(other_org), name="Vino", text="vino")
    mine = create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino")
    ingest([item("1", "vino")], organization_id=brand.organization_id)
    assert list(QueryMatch.objects.values_list("query_id", flat=True)) == [mine.pk]
    # The firehose (no organization) serves every organization, each its own copy of the mention.
    ingest([item("2", "vino")], organization_id=None)
    assert set(QueryMatch.objects.filter(mention__remote_id="2").values_list("query_id", flat=True)) == {
        mine.pk,
        other.pk,
    }
    assert set(Mention.objects.filter(remote_id="2").values_list("organization_id", flat=True)) == {
        brand.organization_id,
        other_org.pk,
    }


def test_keep_unmatched_keeps_everything_of_an_own_source(brand: Brand):
    result = ingest(
        [item("1", "algo"), item("2", "otra cosa")],
        organization_id=brand.organization_id,
        keep_unmatched=True,
    )
    assert (result.stored, result.matches) == (2, 0)


def test_hostile_items_are_stored_verbatim_or_skipped(brand: Brand, analyst: User):
    create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino")
    hostile = "<script>alert(1)</script> vino \u202e\u200b\x00 " + "🍷" * 10
    result = ingest(
        [
            item("1", hostile),
            item("", "vino sin id"),
            item("x" * 501, "vino con id enorme"),
            item("2", "vino " * 50_000),
        ],
        organization_id=brand.organization_id,
    )
    assert result.seen == 2 and result.stored == 2
    assert Mention.objects.get(remote_id="1").text == hostile.replace("\x00", "\ufffd")
    assert len(Mention.objects.get(remote_id="2").text) == 100_000


def test_a_changed_query_is_picked_up(brand: Brand, analyst: User):
    actor = Actor(user=analyst, via="web")
    query = create_query(actor, brand, name="Vino", text="vino")
    assert ingest([item("1", "cerveza")], organization_id=brand.organization_id).matched == 0
    update_query(actor, query, version=query.version, text="cerveza")
    assert ingest([item("2", "cerveza")], organization_id=brand.organization_id).matched == 1
    update_query(actor, query, version=query.version, is_active=False)
    assert ingest([item("3", "cerveza")], organization_id=brand.organization_id).matched == 0
    delete_query(actor, query)
    assert ingest([item("4", "cerveza")], organization_id=brand.organization_id).matched == 0


def test_query_actions_validate_and_check_permissions(brand: Brand, analyst: User, contributor: User):
    actor = Actor(user=analyst, via="web")
    with pytest.raises(ListeningRefused) as refused:
        create_query(actor, brand, name="Mal", text="vino AND (")
    assert refused.value.field == "text" and refused.value.error is not None
    assert refused.value.error.code == "unclosed_paren"
    with pytest.raises(ListeningRefused):
        create_query(Actor(user=contributor, via="web"), brand, name="Vino", text="vino")
    query = create_query(actor, brand, name="Vino", text="vino")
    with pytest.raises(ListeningRefused):
        create_query(actor, brand, name=" Vino ", text="uva")  # same name once tidied
    stale = query.version
    update_query(actor, query, version=stale, text="uva")
    with pytest.raises(ListeningRefused):
        update_query(actor, ListeningQuery.objects.get(pk=query.pk), version=stale, text="tinto")
    assert ListeningQuery.objects.get(pk=query.pk).text == "uva"


def test_inbox_messages_are_a_listening_source(
    org: Organization, brand: Brand, analyst: User, django_capture_on_commit_callbacks
):
    from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
    from tertulia.core.actions.channels import connect_channel
    from tertulia.inbox.ingest.pipeline import ingest as inbox_ingest

    create_query(Actor(user=analyst, via="web"), brand, name="Pedido", text="pedido NEAR/3 llegado")
    channel = connect_channel(Actor.system(), brand, "sandbox", "@bodega", "Bodega")
    with django_capture_on_commit_callbacks(execute=True):
        inbox_ingest(
            channel,
            [
                InboundItem(
                    remote_id="m1",
                    kind=InboundKind.MENTION,
                    author=RemoteAuthor(remote_id="u1", handle="@cliente"),
                    text="@bodega mi pedido no ha llegado todavía",
                    created_at=timezone.now() - timedelta(minutes=1),
                )
            ],
        )
    mention = Mention.objects.get(remote_id="m1")
    assert mention.network == "sandbox" and mention.matches.count() == 1


def test_unstorable_characters_and_impossible_reach_do_not_block_a_batch(brand: Brand, analyst: User):
    """A lone surrogate (JSON "\\ud800") or a follower count outside the column's range must not make
    the whole batch fail again and again: the text is stored with U+FFFD, the count clamped."""
    create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino")
    result = ingest(
        [
            item("1", "vino \ud800 malo", author_followers=-5),
            item("2", "vino", author_followers=10**12),
            item("2", "vino"),  # the same post twice in one batch: one row, counted once
        ],
        organization_id=brand.organization_id,
    )
    assert (result.stored, result.matches) == (2, 2)
    assert Mention.objects.get(remote_id="1").text == "vino \ufffd malo"
    assert Mention.objects.get(remote_id="1").author_followers == 0
    assert Mention.objects.get(remote_id="2").author_followers == 2**31 - 1


def test_language_of_untagged_posts_is_identified_before_matching(brand: Brand, analyst: User):
    create_query(Actor(user=analyst, via="web"), brand, name="Vino es", text="vino lang:es")
    result = ingest(
        [item("1", "Este vino tinto de la casa está buenísimo, lo recomiendo a todo el mundo")],
        organization_id=brand.organization_id,
    )
    assert result.matched == 1
