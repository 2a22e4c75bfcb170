"""Fuzzing the parser: any text gives a parse or a positioned QueryError, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tertulia.listening.matcher import Matcher
from tertulia.listening.query import Post, QueryError, parse, prepare
from tertulia.listening.query.reference import matches
from tertulia.listening.query.render import as_data, outline

PIECES = [
    "(",
    ")",
    '"',
    "\\",
    "AND",
    "OR",
    "NOT",
    "NEAR/3",
    "NEAR/0f",
    "NEAR/",
    "NEAR/999",
    "and",
    "vino",
    "b*",
    "*",
    "?",
    "#x",
    "#",
    "@y.bsky.social",
    "@",
    "lang:",
    "lang:es",
    "followers:>",
    "followers:>=2k",
    "site:a.com",
    "author:",
    ":",
    "\u202e",
    "\u200b",
    "🍷",
    "ñ",
    "É",
    "<script>",
    "\n",
    "\t",
]


def check(text: str) -> None:
    try:
        parsed = parse(text)
    except QueryError as error:
        assert 0 <= error.position <= len(text)
        assert error.message and error.pointer(text)
        return
    as_data(parsed.root)
    outline(parsed.root)
    post = prepare(Post("p", "vino b* x y.bsky.social #x @y.bsky.social ñ É", lang="es", url="https://a.com"))
    Matcher({"q": parsed}).match([Post("p", "vino bb #x")])
    matches(parsed.root, post)  # the reference evaluator runs too


@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text(text: str):
    check(text)


@settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([" ", ""]))
def test_token_soup(pieces: list[str], separator: str):
    check(separator.join(pieces))
