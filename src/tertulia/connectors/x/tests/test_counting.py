"""X's weighted length (twitter-text config v3): what "280 characters" means there."""

from __future__ import annotations

import pytest

from tertulia.connectors.x.counting import MAX_WEIGHTED_LENGTH, parse_text, weighted_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hola", 4),
        ("ñandú, acción, über", 19),  # Latin with accents: 1 each
        ("e\u0301", 1),  # decomposed é is normalised to one character first
        ("Привет", 6),  # Cyrillic is in the light range
        ("日本語", 6),  # CJK: 2 each
        ("안녕", 4),  # Hangul: 2 each
        ("—“”", 3),  # dashes and quotes from the light punctuation ranges
        ("…", 2),  # the ellipsis is not
        ("😀", 2),
        ("👍🏽", 2),  # skin tone modifier
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # a family joined with ZWJ: one emoji
        ("🏳️\u200d🌈", 2),  # rainbow flag: flag + VS16 + ZWJ + rainbow
        ("🇪🇸🇲🇽", 4),  # two flags, each a pair of regional indicators
        ("1️⃣", 2),  # keycap
        ("❤️", 2),  # a text symbol made emoji by VS16
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 2),  # Scotland: tag sequence
        ("\U0001d400", 2),  # MATHEMATICAL BOLD CAPITAL A, outside the BMP: 2
        ("Hola 👋 mundo", 13),
    ],
)
def test_weights(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com", 23),
        ("https://example.com/" + "a" * 200, 23),  # any length counts 23
        ("http://x.co", 23),  # and so does a short one
        ("Mira https://tertulia.example/agenda.", 5 + 23 + 1),  # the full stop is not part of the URL
        ("(https://example.com/a)", 1 + 23 + 1),
        ("visítanos en tertulia.org hoy", 13 + 23 + 4),  # bare host with a generic TLD
        ("ejemplo.es/ruta", 23),  # ccTLD with a path
        ("ejemplo.es", 10),  # ccTLD without a path is not linked
        ("a@example.com", 13),  # an e-mail address is not a URL
        ("https://a.com https://b.com", 23 + 1 + 23),
    ],
)
def test_urls_count_23(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_limit_is_280_weighted() -> None:
    assert parse_text("a" * MAX_WEIGHTED_LENGTH).valid
    assert not parse_text("a" * (MAX_WEIGHTED_LENGTH + 1)).valid
    assert parse_text("日" * 140).valid
    assert not parse_text("日" * 141).valid
    assert parse_text("😀" * 140).valid
    assert not parse_text("😀" * 140 + "a").valid
    # 10 links of any length and the spaces between them: 10 * 23 + 9.
    assert parse_text(" ".join(f"https://example.com/{'x' * 300}" for _ in range(10))).weighted_length == 239


def test_empty_and_invalid_characters_are_refused() -> None:
    assert not parse_text("").valid
    refused = parse_text("hola\ufeff")
    assert refused.has_invalid_characters and not refused.valid
    assert parse_text("\u202eevil").has_invalid_characters
