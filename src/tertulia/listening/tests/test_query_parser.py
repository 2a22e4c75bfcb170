"""The query language's grammar: what parses into what, and what is refused with which error where."""

from __future__ import annotations

import pytest

from tertulia.listening.query import QueryError, parse
from tertulia.listening.query import syntax as s
from tertulia.listening.query.parser import MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS
from tertulia.listening.query.render import as_data, outline


def words(*texts: str) -> tuple[s.Pattern, ...]:
    return tuple(s.Pattern(text) for text in texts)


def test_precedence_or_and_not_near():
    root = parse('marca OR "servicio al cliente" huelga NOT empleo* OR a NEAR/3 b').root
    assert isinstance(root, s.Or)
    first, middle, last = root.operands
    assert first == s.Words(words("marca"), 0)
    assert isinstance(middle, s.And)
    assert middle.operands[0] == s.Words(words("servicio", "al", "cliente"), 9, quoted=True)
    assert middle.operands[1] == s.Words(words("huelga"), 31)
    assert middle.operands[2] == s.Not(s.Words(words("empleo*"), 42), 38)
    assert last == s.Near(s.Words(words("a"), 53), s.Words(words("b"), 62), 3, False, 53)


def test_explicit_and_and_implicit_and_are_the_same():
    assert as_data(parse("a AND b").root)["type"] == as_data(parse("a b").root)["type"] == "and"


def test_case_and_accents_fold_in_queries():
    assert parse("CAFÉ").root == s.Words(words("cafe"), 0)
    assert parse("España").root == s.Words(words("espana"), 0)
    bold = "".join(chr(0x1D41A + ord(c) - ord("a")) for c in "iberia")  # "mathematical bold" letters
    assert parse(bold).root == s.Words(words("iberia"), 0)


def test_a_term_with_punctuation_is_a_phrase_of_its_words():
    assert parse("coca-cola").root == s.Words(words("coca", "cola"), 0)


def test_fields_and_tags():
    root = parse(
        '#Vino @Bodega.bsky.social author:"@Juan" lang:es-ES site:https://www.Example.com/x '
        "channel:demo network:bluesky followers:>=1.5k"
    ).root
    assert isinstance(root, s.And)
    kinds = [as_data(node) for node in root.operands]
    assert [(item["type"], item.get("value", item.get("count"))) for item in kinds] == [
        ("hashtag", "vino"),
        ("mention", "bodega.bsky.social"),
        ("field", "juan"),
        ("field", "es"),
        ("field", "example.com"),
        ("field", "demo"),
        ("field", "bluesky"),
        ("followers", 1500),
    ]


def test_ordered_near_and_outline():
    parsed = parse("(apple OR manzana) NEAR/5f iphone")
    assert outline(parsed.root) == [
        "NEAR/5f",
        "├─ OR",
        "│  ├─ word apple",
        "│  └─ word manzana",
        "└─ word iphone",
    ]


def test_lowercase_operators_are_words_with_a_warning():
    parsed = parse("rock and roll")
    assert [node.patterns[0].text for node in parsed.root.operands] == ["rock", "and", "roll"]  # type: ignore[union-attr]  # the parse above has this node kind
    assert [warning.code for warning in parsed.warnings] == ["lowercase_operator"]
    assert parsed.warnings[0].position == 5


@pytest.mark.parametrize(
    ("query", "code", "position"),
    [
        ("", "empty", 0),
        ("   ", "empty", 0),
        ("a OR", "dangling_operator", 2),
        ("OR a", "dangling_operator", 0),
        ("a AND OR b", "dangling_operator", 2),
        ("(a OR b", "unclosed_paren", 0),
        ("a) b", "unmatched_paren", 1),
        ("a ()", "empty_group", 2),
        ('a "b', "unclosed_quote", 2),
        ('a ""', "empty_phrase", 2),
        ("NOT a", "only_negative", 0),
        ("NOT a OR b", "only_negative", 0),
        ("a NEAR b", "near_distance", 2),
        ("a NEAR/51 b", "near_distance", 2),
        ("a NEAR/x b", "near_distance", 2),
        ("(a AND b) NEAR/2 c", "near_operand", 1),
        ("a NEAR/2 lang:es", "near_operand", 9),
        ("ab*", "wildcard_too_short", 0),
        ("*", "wildcard_too_short", 0),
        ("a*b*c*d*e", "wildcard_too_many", 0),
        ("foo:bar", "unknown_field", 0),
        ("lang:", "field_value", 0),
        ("lang:español", "bad_language", 0),
        ("network:myspace", "bad_network", 0),
        ("site:not_a_domain", "bad_site", 0),
        ("followers:1000", "bad_followers", 0),
        ("x " + "a" * 101, "word_too_long", 2),
        ("🍷", "no_word", 0),
        ("#", "no_word", 0),
    ],
)
def test_errors_say_what_and_where(query: str, code: str, position: int):
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert (caught.value.code, caught.value.position) == (code, position)
    assert caught.value.message  # rendered, with its parameters filled in
    assert "%(" not in caught.value.message


def test_error_pointer_marks_the_spot():
    with pytest.raises(QueryError) as caught:
        parse("marca AND (huelga OR")
    assert caught.value.pointer("marca AND (huelga OR") == "marca AND (huelga OR\n                  ^^"


def test_errors_list_what_was_expected():
    with pytest.raises(QueryError) as caught:
        parse("a AND )")
    assert caught.value.code == "dangling_operator"
    assert caught.value.as_dict()["expected"][:2] == ["a word", 'a "phrase"']
    with pytest.raises(QueryError) as caught:
        parse("(a OR b")
    assert caught.value.as_dict()["expected"] == ['")"']


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("(" * 5_000 + "a" + ")" * 5_000, "too_deep"),
        ("NOT " * 1_000 + "a b", "too_deep"),
        ("(NOT " * (MAX_DEPTH // 2 + 1) + "a" + ")" * (MAX_DEPTH // 2 + 1) + " b", "too_deep"),
        (" OR ".join(f"w{index}" for index in range(MAX_TERMS + 1)), "too_many_terms"),
        ("a" * (MAX_QUERY_CHARS + 1), "too_long"),
        ("a NEAR/1 " * 5 + "a", "near_chain"),
        (" ".join(f"(a{n} NEAR/1 b{n})" for n in range(13)), "too_many_nears"),
    ],
)
def test_pathological_queries_are_bounded(query: str, code: str):
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.code == code


def test_largest_allowed_query_parses():
    query = " OR ".join(f"w{index}" for index in range(MAX_TERMS))
    assert len(parse(query).root.operands) == MAX_TERMS  # type: ignore[union-attr]  # the parse above has this node kind


def test_and_inside_or_without_parentheses_warns():
    parsed = parse("#vueling OR @vueling followers:>10")
    assert [warning.code for warning in parsed.warnings] == ["and_inside_or"]
    assert not parse("(#vueling OR @vueling) followers:>10").warnings
    assert not parse("a OR (b c)").warnings


def test_words_that_start_with_near_are_words():
    assert parse("NEARBY").root == s.Words(words("nearby"), 0)


@pytest.mark.parametrize(
    ("written", "count"),
    [
        (">1000", 1000),
        (">1.000", 1000),
        (">=10,000", 10_000),
        (">1.5k", 1500),
        ("<2,5m", 2_500_000),
        ("<=12.345.678", 12_345_678),
    ],
)
def test_followers_read_thousands_as_people_write_them(written: str, count: int):
    root = parse(f"vino followers:{written}").root
    assert root.operands[1].count == count  # type: ignore[union-attr]  # the parse above has this node kind


@pytest.mark.parametrize("written", [">1.5", ">1.00", ">1,0000", ">k", "1000", ">-5"])
def test_ambiguous_follower_counts_are_refused(written: str):
    with pytest.raises(QueryError) as caught:
        parse(f"vino followers:{written}")
    assert caught.value.code == "bad_followers"
