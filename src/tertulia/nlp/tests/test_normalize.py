"""Normalisation: what the matching and the models see of hostile, messy social text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tertulia.nlp.normalize import MAX_CHARS, fold, normalize


def test_case_accents_and_elongations_fold_away():
    assert normalize("INTOXICACIÓN muuuuuy graciassss").tokens == ("intoxicacion", "muy", "gracias")
    assert normalize("Ñoño CAFÉ").tokens == ("nono", "cafe")


def test_the_language_identifier_keeps_accents():
    assert normalize("¿Cuándo abrís?").spoken == "cuándo abrís"


def fullwidth(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def bold(text: str) -> str:
    return "".join(chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in text)


def test_fullwidth_and_mathematical_letters_become_plain():
    assert normalize(f"{fullwidth('Free')} {bold('crypto')}").tokens == ("free", "crypto")


def test_invisible_characters_do_not_split_or_hide_words():
    # zero-width space, zero-width joiner, soft hyphen, right-to-left override and its pop
    assert normalize("re\u200bem\u200dbol\u00adso \u202erefund\u202c").tokens == ("reembolso", "refund")


def test_links_mentions_and_html_are_counted_then_removed():
    text = normalize(
        "<b>Mira</b> @tienda_madrid https://promo.example/x?a=1&amp;b=2 y www.example.com &amp; más"
    )
    assert text.urls == 2
    assert text.mentions == 1
    assert text.tokens == ("mira", "y", "mas")


def test_script_tags_are_words_at_worst():
    assert normalize("<script>alert('hola')</script>").tokens == ("alert", "hola")


def test_emoji_and_emoticons_are_tokens():
    assert normalize("Genial 😍 :) <3").tokens == ("genial", "😍", ":)", "<3")


def test_cues_beyond_words():
    shouted = normalize("NO ME HA LLEGADO NADA!!! ¿¿DÓNDE ESTÁ??")
    assert shouted.shouting and shouted.exclamations == 3 and shouted.questions == 4
    assert not normalize("Hola, ¿qué tal? Todo bien").shouting
    assert normalize("noooo").elongated and not normalize("no").elongated
    assert normalize("Bonjour tout le monde").letters == 18


def test_only_a_prefix_of_a_huge_body_is_read():
    text = normalize("hola " * 40_000)  # 200 KB
    assert len(text.lowered) <= MAX_CHARS
    assert text.tokens[0] == "hola"


def test_empty_and_blank():
    assert normalize("").tokens == ()
    assert normalize("   \n\t ").tokens == ()


def test_fold_is_normalize_for_lexicon_entries():
    assert fold("Atención al Cliente") == "atencion al cliente"
    assert fold("don't") == "don t"


@given(st.text(max_size=3_000))
def test_never_raises_and_stays_bounded(text):
    result = normalize(text)
    assert len(result.lowered) <= MAX_CHARS * 3  # NFKC can expand a character, within reason
    assert all(token and " " not in token for token in result.tokens)
