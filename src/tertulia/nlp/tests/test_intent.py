"""Intent and urgency on messages a community manager would recognise (written here, not simulated)."""

from __future__ import annotations

import pytest

from tertulia.nlp import analyse, intent
from tertulia.nlp.lexicon import LEXICON, Cue, terms
from tertulia.nlp.matching import build, cues, spanish_and_english
from tertulia.nlp.normalize import fold, normalize
from tertulia.nlp.result import Intent, Urgency

# (message, intent, urgency): what a community manager would say each one is.
CASES = [
    # questions, with and without question marks
    ("¿Alguien sabe si abren el domingo por la tarde?", Intent.QUESTION, Urgency.NORMAL),
    ("Hola, quería saber si hacéis envíos a Canarias", Intent.QUESTION, Urgency.NORMAL),
    ("how do I change the name on my booking", Intent.QUESTION, Urgency.NORMAL),
    ("Do you have gift cards?", Intent.QUESTION, Urgency.NORMAL),
    ("¿A qué hora cerráis los sábados?", Intent.QUESTION, Urgency.NORMAL),
    ("¿Mi pedido ya ha salido? Aún no tengo el email de seguimiento", Intent.QUESTION, Urgency.NORMAL),
    ("Es urgente, ¿podéis cambiar la dirección de entrega hoy mismo?", Intent.QUESTION, Urgency.HIGH),
    ("¿La tarta lleva frutos secos? Mi hija tiene alergia", Intent.QUESTION, Urgency.HIGH),  # not an incident
    # complaints
    ("Mi pedido no ha llegado y ya van dos semanas", Intent.COMPLAINT, Urgency.NORMAL),
    ("El paquete llegó roto y quiero un reembolso", Intent.COMPLAINT, Urgency.NORMAL),
    ("The package never arrived and I want a refund", Intent.COMPLAINT, Urgency.NORMAL),
    ("My coffee machine stopped working after two days", Intent.COMPLAINT, Urgency.NORMAL),
    ("My order arrived a day late", Intent.COMPLAINT, Urgency.NORMAL),
    ("Qué decepción, no lo recomiendo nada", Intent.COMPLAINT, Urgency.NORMAL),  # negated praise
    ("Not impressed at all, very bad experience", Intent.COMPLAINT, Urgency.NORMAL),
    # swearing is not abuse
    ("Joder, otra vez me ha llegado el pedido dañado", Intent.COMPLAINT, Urgency.HIGH),
    ("Sois unos inútiles, el pedido sigue sin llegar", Intent.COMPLAINT, Urgency.HIGH),  # an angry customer
    ("NO ME HA LLEGADO EL PEDIDO Y NADIE CONTESTA", Intent.COMPLAINT, Urgency.HIGH),  # shouting
    ("The order arrived broken!!! Fix this immediately", Intent.COMPLAINT, Urgency.HIGH),
    # incidents: health, safety, legal
    ("Mi hijo ha tenido una reacción alérgica con vuestra tarta", Intent.COMPLAINT, Urgency.CRITICAL),
    ("Toda la familia con intoxicación después de la cena de ayer", Intent.COMPLAINT, Urgency.CRITICAL),
    ("My lawyer will be in touch about the damaged goods", Intent.COMPLAINT, Urgency.CRITICAL),
    ("We got food poisoning after eating there", Intent.COMPLAINT, Urgency.CRITICAL),
    ("Voy a poner una denuncia, el pedido nunca llegó", Intent.COMPLAINT, Urgency.CRITICAL),
    # praise
    ("¡Muchísimas gracias por la atención, sois geniales!", Intent.PRAISE, Urgency.LOW),
    ("Loved the new menu, great job team", Intent.PRAISE, Urgency.LOW),
    ("Lo recomiendo muchísimo, la mejor pizzería del barrio", Intent.PRAISE, Urgency.LOW),
    ("¡Gracias, todo perfecto!", Intent.PRAISE, Urgency.LOW),
    # spam
    ("Earn $500 a day from home!!! DM me 👉 https://bit.ly/abc", Intent.SPAM, Urgency.LOW),
    ("Gana dinero fácil con cripto, escríbeme por privado https://t.me/xyz", Intent.SPAM, Urgency.LOW),
    ("Buy 5000 followers now, only today https://cheap.example/f", Intent.SPAM, Urgency.LOW),
    # abuse: a moderator decides; nobody waits for an answer
    ("Sois unos payasos y unos incompetentes", Intent.ABUSE, Urgency.NORMAL),
    ("You are a bunch of idiots", Intent.ABUSE, Urgency.NORMAL),
    ("Que os den", Intent.ABUSE, Urgency.NORMAL),
    # other
    ("Buenos días a todos", Intent.OTHER, Urgency.LOW),
    ("Look at this sunset", Intent.OTHER, Urgency.LOW),
    ("", Intent.OTHER, Urgency.LOW),
    ("https://example.com/photo.jpg", Intent.OTHER, Urgency.LOW),  # a link without a pitch is not spam
]


@pytest.mark.parametrize(("text", "wants", "urgency"), CASES)
def test_intent_and_urgency(text, wants, urgency):
    result = analyse(text)
    assert (result.intent, result.urgency) == (wants, urgency), text


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
