"""Saved replies: variables filled safely, and the right language version picked."""

from __future__ import annotations

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.models import Contact
from tertulia.core.tests.factories import make_member
from tertulia.inbox.actions.settings import save_saved_reply
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, SavedReply
from tertulia.inbox.saved_replies import VARIABLES, fill, for_conversation, pick, render, unknown_variables

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def conversation(channel, item) -> Conversation:
    ingest(channel, [item("¿Cuándo llega mi pedido?", author="ana_g")])
    conversation = Conversation.objects.get(channel=channel)
    contact = conversation.contact
    assert contact is not None
    Contact.objects.filter(pk=contact.pk).update(display_name="Ana García")
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def agent(channel):
    return make_member(channel.organization, display_name="Lucía Romero")


def test_variables_are_filled_from_the_conversation(conversation, agent) -> None:
    body = "Hola {name} ({handle}), soy {agent} de {brand}. Escríbenos a {channel}."
    assert render(body, conversation, agent) == (
        "Hola Ana García (@ana_g), soy Lucía de Marca. Escríbenos a @marca_inbox."
    )


def test_every_documented_variable_is_filled(conversation, agent) -> None:
    text = render(" ".join(f"{{{name}}}" for name in VARIABLES), conversation, agent)
    assert "{" not in text and "}" not in text


def test_missing_values_become_empty_and_the_email_never_shows(conversation) -> None:
    nameless = make_member(conversation.organization, email="secret.person@example.com")
    text = render("Un saludo, {agent}.", conversation, nameless)
    assert text == "Un saludo, ."
    assert "secret" not in render("{agent}", conversation, nameless)
    assert render("{agent}", conversation, None) == ""


@pytest.mark.parametrize(
    "body",
    [
        "{name.__class__}",
        "{name.__class__.__mro__}",
        "{name!r}",
        "{name:>99999999}",
        "{0}",
        "{}",
        "{__import__}",
        "{ name }",
        "{{name}}x",
        "{name[0]}",
        "%(name)s",
        "${name}",
    ],
)
def test_hostile_bodies_never_reach_into_python(conversation, agent, body) -> None:
    text = render(body, conversation, agent)
    assert "class" not in text.replace("__class__", "") and "<" not in text
    assert "object" not in text and "str" not in text
    assert len(text) < 200


def test_unknown_variables_stay_visible(conversation, agent) -> None:
    assert render("Hola {nombre}, {name}", conversation, agent) == "Hola {nombre}, Ana García"
    assert unknown_variables("{nombre} {name} {nombre} {x}") == ["nombre", "x"]


def test_values_are_inserted_once_never_expanded_again() -> None:
    values = {"name": "{agent}", "agent": "Lucía"}
    assert fill("{name} / {agent}", values) == "{agent} / Lucía"


def test_hostile_customer_names_are_plain_text(conversation, agent) -> None:
    Contact.objects.filter(pk=conversation.contact_id).update(display_name="<script>{agent}</script>")
    conversation.refresh_from_db()
    assert render("Hola {name}", conversation, agent) == "Hola <script>{agent}</script>"


def _reply(brand, shortcut: str, language: str, title: str = "t") -> SavedReply:
    return save_saved_reply(SYSTEM, brand, shortcut=shortcut, language=language, title=title, body=title)


def _title(brand, shortcut, language):
    reply = pick(brand, shortcut, language)
    return reply.title if reply is not None else None


def test_pick_prefers_the_conversation_language_then_the_brands_then_any(channel) -> None:
    brand = channel.brand  # main language: es
    _reply(brand, "gracias", "en", "thanks")
    _reply(brand, "gracias", "es", "gracias")
    _reply(brand, "envio", "fr", "livraison")
    _reply(brand, "envio", "de", "versand")
    _reply(brand, "hola", "pt-BR", "olá")
    assert _title(brand, "gracias", "en") == "thanks"
    assert _title(brand, "/GRACIAS", "en") == "thanks"
    assert _title(brand, "gracias", "it") == "gracias"  # the brand's language
    assert _title(brand, "envio", "it") == "versand"  # any, alphabetically: stable
    assert _title(brand, "hola", "pt") == "olá"  # a regional version serves the language
    assert pick(brand, "nada", "es") is None


def test_for_conversation_gives_one_version_per_shortcut(conversation) -> None:
    brand = conversation.brand
    _reply(brand, "gracias", "en", "thanks")
    _reply(brand, "gracias", "es", "gracias")
    _reply(brand, "envio", "en", "shipping")
    Conversation.objects.filter(pk=conversation.pk).update(language="en")
    conversation.refresh_from_db()
    assert [(r.shortcut, r.title) for r in for_conversation(conversation)] == [
        ("envio", "shipping"),
        ("gracias", "thanks"),
    ]
    Conversation.objects.filter(pk=conversation.pk).update(language="")
    conversation.refresh_from_db()
    assert [r.title for r in for_conversation(conversation)] == ["shipping", "gracias"]
