"""Intent and urgency on messages a community manager would recognise (written here, not simulated)."""

from __future__ import annotations

import pytest

from tertulia.nlp import analyse, intent
from tertulia.nlp.lexicon import LEXICON, Cue, terms
from tertulia.nlp.matching import build, cues, spanish_and_english
from tertulia.nlp.normalize import fold, normalize
from tertulia.nlp.result import Intent, Urgency


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # questions, with and without question marks
        ("¿Alguien sabe si abren el domingo por la tarde?", Intent.QUESTION),
        ("Hola, quería saber si hacéis envíos a Canarias", Intent.QUESTION),
        ("how do I change the name on my booking", Intent.QUESTION),
        ("Do you have gift cards?", Intent.QUESTION),
        ("¿Mi pedido ya ha salido? Aún no tengo el email de seguimiento", Intent.QUESTION),
        # complaints
        ("Mi pedido no ha llegado y ya van dos semanas", Intent.COMPLAINT),
        ("El paquete llegó roto y quiero un reembolso", Intent.COMPLAINT),
        ("The package never arrived and I want a refund", Intent.COMPLAINT),
        ("My coffee machine stopped working after two days", Intent.COMPLAINT),
        ("Joder, otra vez me ha llegado el pedido dañado", Intent.COMPLAINT),  # swearing is not abuse
        ("Sois unos inútiles, el pedido sigue sin llegar", Intent.COMPLAINT),  # an angry customer
        ("Qué decepción, no lo recomiendo nada", Intent.COMPLAINT),  # negated praise
        ("Not impressed at all, very bad experience", Intent.COMPLAINT),
        # praise
        ("¡Muchísimas gracias por la atención, sois geniales!", Intent.PRAISE),
        ("Loved the new menu, great job team", Intent.PRAISE),
        ("Lo recomiendo muchísimo, la mejor pizzería del barrio", Intent.PRAISE),
        # spam
        ("Earn $500 a day from home!!! DM me 👉 https://bit.ly/abc", Intent.SPAM),
        ("Gana dinero fácil con cripto, escríbeme por privado https://t.me/xyz", Intent.SPAM),
        ("Buy 5000 followers now, only today https://cheap.example/f", Intent.SPAM),
        # abuse
        ("Sois unos payasos y unos incompetentes", Intent.ABUSE),
        ("You are a bunch of idiots", Intent.ABUSE),
        ("Que os den", Intent.ABUSE),
        # other
        ("Buenos días a todos", Intent.OTHER),
        ("Look at this sunset", Intent.OTHER),
        ("", Intent.OTHER),
        ("https://example.com/photo.jpg", Intent.OTHER),  # a link without a pitch is not spam
    ],
)
def test_intent(text, expected):
    assert analyse(text).intent is expected, text


@pytest.mark.parametrize(
    ("text", "urgency"),
    [
        ("Mi hijo ha tenido una reacción alérgica con vuestra tarta", Urgency.CRITICAL),
        ("Toda la familia con intoxicación después de la cena de ayer", Urgency.CRITICAL),
        ("My lawyer will be in touch about the damaged goods", Urgency.CRITICAL),
        ("We got food poisoning after eating there", Urgency.CRITICAL),
        ("Voy a poner una denuncia, el pedido nunca llegó", Urgency.CRITICAL),
        ("¿La tarta lleva frutos secos? Mi hija tiene alergia", Urgency.HIGH),  # a question, not an incident
        ("NO ME HA LLEGADO EL PEDIDO Y NADIE CONTESTA", Urgency.HIGH),  # shouting
        ("The order arrived broken!!! Fix this immediately", Urgency.HIGH),
        ("Es urgente, ¿podéis cambiar la dirección de entrega hoy mismo?", Urgency.HIGH),
        ("My order arrived a day late", Urgency.NORMAL),
        ("¿A qué hora cerráis los sábados?", Urgency.NORMAL),
        ("Sois unos payasos", Urgency.NORMAL),  # a moderator decides; nobody waits for an answer
        ("¡Gracias, todo perfecto!", Urgency.LOW),
        ("Earn $500 a day from home, DM me https://bit.ly/abc", Urgency.LOW),
        ("Buenos días a todos", Urgency.LOW),
    ],
)
def test_urgency(text, urgency):
    assert analyse(text).urgency is urgency, text


def test_praise_that_mentions_an_allergy_is_praise_read_soon():
    result = analyse("Gracias por la tarta sin gluten, mi hija con alergia la disfrutó muchísimo")
    assert result.intent is Intent.PRAISE
    assert result.urgency is Urgency.HIGH


def test_other_languages_fall_back_to_punctuation_and_sentiment():
    assert analyse("Perché il mio ordine è in ritardo?").language == "it"
    assert analyse("Perché il mio ordine è in ritardo?").intent is Intent.QUESTION
    text = normalize("Je suis très content")
    assert intent.classify(text, "fr", {}, 0.8) is Intent.PRAISE
    assert intent.classify(text, "fr", {}, -0.8) is Intent.COMPLAINT
    assert intent.classify(text, "fr", {}, 0.0) is Intent.OTHER
    # Spanish or English cue words in a message identified as something else still count
    assert analyse("refund", language_hint="de").intent is Intent.COMPLAINT


def test_negation_turns_praise_around():
    found = cues(normalize("no me gusta nada").tokens, spanish_and_english())
    assert Cue.PRAISE not in found and found[Cue.DISSATISFIED] == 1


def test_every_lexicon_entry_matches_itself():
    """Catches entries that fold to nothing or to something else (digits, symbols, typos in '*')."""
    for cue, by_language in LEXICON.items():
        index = build({cue: by_language}, by_language)
        for raw in by_language.values():
            for entry in terms(raw):
                assert fold(entry.removesuffix("*")), entry
                found = cues(normalize(entry.removesuffix("*")).tokens, index)
                assert found.get(cue, 0) + found.get(Cue.DISSATISFIED, 0) >= 1, (cue, entry)


def test_stems_match_inflections_and_phrases_match_in_order():
    index = spanish_and_english()
    assert Cue.PROBLEM in cues(normalize("quiero que me reembolséis").tokens, index)
    assert Cue.PROBLEM in cues(normalize("todavía NO ME HA LLEGADO").tokens, index)
    assert Cue.PROBLEM not in cues(normalize("ha llegado, no me quejo").tokens, index)
