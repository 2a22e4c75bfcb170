"""Full-text search: every word as a prefix, accents folded, brand-scoped, injection-proof."""

from __future__ import annotations

import importlib

import pytest

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.tests.factories import make_brand
from tertulia.inbox import search
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.search import matching_message_ids, terms

pytestmark = pytest.mark.django_db


def test_words_are_found_as_prefixes_and_all_must_match(channel, item) -> None:
    created = ingest(
        channel,
        [item("El envío a Sevilla llegó tarde"), item("Envío rápido, gracias"), item("Nada que ver")],
    ).created
    late, quick, _other = (m.pk for m in created)
    assert matching_message_ids(channel.brand_id, "llegó") == [late]
    assert matching_message_ids(channel.brand_id, "sevil lleg") == [late]
    assert set(matching_message_ids(channel.brand_id, "envío")) == {late, quick}
    assert matching_message_ids(channel.brand_id, "ana") == [m.pk for m in reversed(created)]  # the author
    assert set(matching_message_ids(channel.brand_id, "envio")) == {late, quick}


def test_other_brands_messages_are_never_found(channel, item) -> None:
    other_brand = make_brand(channel.organization, "Otra")
    other = connect_channel(Actor.system(), other_brand, "sandbox", "@otra_marca")
    ingest(other, [item("pedido secreto")])
    assert matching_message_ids(channel.brand_id, "secreto") == []
    assert len(matching_message_ids(other_brand.pk, "secreto")) == 1


@pytest.mark.parametrize(
    "query",
    ['"', "' OR 1=1 --", "NEAR(a b)", "a* OR b", "-x", ":*", "\u200b", "<script>", "🔥", "x" * 10_000],
)
def test_hostile_queries_are_only_words(channel, item, query) -> None:
    ingest(channel, [item("texto normal")])
    assert isinstance(matching_message_ids(channel.brand_id, query), list)


def test_terms_are_words_only() -> None:
    assert terms("' OR 1=1 -- «Envío» ¿dónde?") == ["or", "1", "1", "envío", "dónde"]
    assert terms("a b c d e f g h i j") == list("abcdefgh")


def test_accents_are_folded_on_every_database(channel, item) -> None:
    ingest(channel, [item("Información sobre el jamón ibérico y la paella"), item("CAMIÓN de reparto")])
    assert len(matching_message_ids(channel.brand_id, "informacion jamon")) == 1
    assert len(matching_message_ids(channel.brand_id, "INFORMACIÓN")) == 1
    assert len(matching_message_ids(channel.brand_id, "camion")) == 1


def test_the_query_folds_the_letters_the_stored_document_folds() -> None:
    migration = importlib.import_module("tertulia.inbox.migrations.0004_message_search_document")
    assert (search.FOLD_FROM, search.FOLD_TO) == (migration.FOLD_FROM, migration.FOLD_TO)
