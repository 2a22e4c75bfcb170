"""The matcher gives exactly the reference evaluator's answers (query/reference.py).

Hypothesis writes random queries from a small vocabulary (so they do match) with every operator,
wildcard and filter, and random posts from the same words in any case, with and without accents,
as hashtags and mentions; all queries are compiled into one matcher, as in production.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tertulia.listening.matcher import Matcher
from tertulia.listening.query import Post, QueryError, parse, prepare
from tertulia.listening.query.reference import matches

WORDS = ["vino", "tinto", "bodega", "café", "rioja", "cata", "uva", "ñandú", "precio", "de"]
PATTERNS = ["vin*", "*dega", "ca?e", "ri*a", "t?nto", "*uva*", "pre*o"]
POSITIONAL = [
    *WORDS,
    *PATTERNS,
    '"vino tinto"',
    '"cata de vino"',
    '"de *dega"',
    "#vino",
    "#rio*",
    "@bodega.bsky.social",
    "@bod*",
    "coca-cola",
]
FILTERS = [
    "lang:es",
    "lang:en",
    "author:juan",
    "author:ju*",
    "network:bluesky",
    "site:example.com",
    "channel:demo",
    "followers:>100",
    "followers:<=50",
]

positional = st.recursive(
    st.sampled_from(POSITIONAL),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]} OR {pair[1]})"),
        st.tuples(inner, inner, st.integers(0, 4), st.booleans()).map(
            lambda near: f"({near[0]} NEAR/{near[2]}{'f' if near[3] else ''} {near[1]})"
        ),
    ),
    max_leaves=4,
)
queries = st.recursive(
    st.one_of(positional, st.sampled_from(FILTERS)),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]} OR {pair[1]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]} AND {pair[1]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]} {pair[1]})"),
        inner.map(lambda operand: f"NOT {operand}"),
    ),
    max_leaves=6,
)


def spelled(word: str) -> st.SearchStrategy[str]:
    variants = [
        word,
        word.upper(),
        word.capitalize(),
        word.replace("a", "á").replace("n", "ñ"),
        f"#{word}",
        f"@{word}",
    ]
    return st.sampled_from(variants)


post_texts = st.lists(
    st.one_of(
        st.sampled_from([*WORDS, "coca", "cola", "bodega.bsky.social", "ribera", "vinos", "cafe"]).flatmap(
            spelled
        ),
        st.sampled_from([",", "!", "-", "¿", "🍷", "\u200b", "\u202e"]),
    ),
    max_size=14,
).map(" ".join)
posts = st.builds(
    Post,
    id=st.just("p"),
    text=post_texts,
    author=st.sampled_from(["", "juan", "@Juan", "JUANA", "maria"]),
    lang=st.sampled_from(["", "es", "es-ES", "en", "EN-gb"]),
    url=st.sampled_from(
        ["", "https://example.com/a", "https://blog.example.com", "https://notexample.com", "nonsense"]
    ),
    network=st.sampled_from(["", "bluesky", "mastodon"]),
    followers=st.one_of(st.none(), st.integers(0, 200)),
    channel=st.sampled_from(["", "Demo", "otro"]),
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(st.lists(queries, min_size=1, max_size=8), st.lists(posts, min_size=1, max_size=10))
def test_matcher_agrees_with_the_reference(texts: list[str], batch: list[Post]):
    parsed = {}
    for number, text in enumerate(texts):
        try:
            parsed[f"q{number}"] = parse(text)
        except QueryError:
            continue
    assume(parsed)
    matcher = Matcher(parsed)
    expected = [
        [query_id for query_id, query in parsed.items() if matches(query.root, prepare(post))]
        for post in batch
    ]
    assert matcher.match(batch) == expected


def test_many_posts_cross_batches():
    """Posts past the first batch keep their own answers (offsets map back to the right post)."""
    parsed = {"wine": parse("vino NOT tinto"), "brand": parse("#bodega OR site:example.com")}
    batch = [
        Post(
            str(number),
            "vino" if number % 3 == 0 else "#bodega" if number % 3 == 1 else "vino tinto",
            url="https://example.com" if number == 1001 else "",
        )
        for number in range(1_203)
    ]
    found = Matcher(parsed).match(batch)
    assert found[0] == ["wine"] and found[1] == ["brand"] and found[2] == []
    assert (
        found[1001] == ["brand"]
        and found[1003] == ["brand"]
        and found[1004] == []
        and found[1200] == ["wine"]
    )


# Three words only, so NEAR's edges (exactly n words between, overlaps, both orders) come up often.
SMALL = ["vino", "uva", "cata"]
small_positional = st.recursive(
    st.sampled_from([*SMALL, '"vino uva"', "#vino", "c?ta", "cat*"]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]} OR {pair[1]})"),
        st.tuples(inner, inner, st.integers(0, 3), st.booleans()).map(
            lambda near: f"({near[0]} NEAR/{near[2]}{'f' if near[3] else ''} {near[1]})"
        ),
    ),
    max_leaves=5,
)
small_posts = st.lists(st.sampled_from([*SMALL, "#vino", "otra", "de"]), max_size=12).map(
    lambda tokens: Post("p", " ".join(tokens))
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(small_positional, min_size=1, max_size=6), st.lists(small_posts, min_size=1, max_size=8))
def test_near_and_phrases_agree_with_the_reference(texts: list[str], batch: list[Post]):
    parsed = {f"q{number}": parse(text) for number, text in enumerate(texts)}
    expected = [
        [query_id for query_id, query in parsed.items() if matches(query.root, prepare(post))]
        for post in batch
    ]
    assert Matcher(parsed).match(batch) == expected


def test_near_on_a_word_repeated_thousands_of_times_stays_bounded():
    """Chained NEARs on a post that is one word 5,000 times: an answer (the first places), not a hang."""
    query = parse("a NEAR/50 a NEAR/50 a NEAR/50 a")
    post = Post("p", " ".join(["a"] * 5_000))
    assert Matcher({"q": query}).match([post]) == [["q"]]
    assert matches(query.root, prepare(post))
    late = Post("late", " ".join(["b"] * 300 + ["x", "y"] + ["b"] * 300))
    near_late = parse("b NEAR/0 x")  # x comes after the first 200 places of b: past the bound
    assert Matcher({"q": near_late}).match([late]) == [[]] and not matches(near_late.root, prepare(late))
