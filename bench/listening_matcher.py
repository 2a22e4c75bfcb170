"""How fast the listening matcher (tertulia.listening.matcher) matches a stream, on one core.

Issue 6's goal: at least 100,000 posts/s per core with 10,000 active queries. One run puts side by
side, on the same seeded stream and the same seeded queries:

- the Tertulia matcher (one Hyperscan prefilter for all queries, then exact evaluation of the few
  candidates), compile time apart;
- a naive evaluator: every query a Python predicate whose words, phrases and wildcards are
  precompiled regular expressions with word boundaries, searched in the folded text of every post
  for every query (no prefilter). It is slow, so it is timed on the first posts of the stream
  until a time budget runs out, and says on how many;
- PostgreSQL full-text matching: each query translated to a tsquery (see `tsquery`), the posts
  sent in batches and matched with `to_tsvector(...) @@ tsq` against a table of queries, the
  tsvector computed once per post as it arrives (a stream is not stored and indexed first).
  One backend, so one core. Also timed on the first posts until a time budget runs out;
- the prefilter alternatives alone (finding candidates, no exact step): Hyperscan, pyahocorasick
  and a pure-Python set of whole words.

The stream: posts drawn from the UMSAB train tweets (eight languages; ../shared/data/umsab, or
the validation tweets shipped with the tests) and from the sandbox simulator's messages, with an
author, language, network, link and follower count each; about 2 % of them have a query's brand
planted in them (brands are Zipf-popular: the first queries are talked about most). The queries:
brand-style, as commercial listening tools see them (name variants, #hashtags, @mentions,
"phrases", context words, exclusions, compet* wildcards, NEAR/n, lang:, network:, followers:,
site:). Query sets are prefixes of one list, so 1,000 queries include the 100.

Usage (PostgreSQL is used when DATABASE_URL is set; a throwaway one: .ci/services.sh):

    python bench/listening_matcher.py [--posts 200000] [--queries 100,1000,10000] [--seed 6]
        [--skip-naive] [--skip-postgres] [--budget 20]

Prints one line per figure. No figure here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import os

# Nothing here should use more than one core; pin any BLAS pool before numpy could be imported.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")

import argparse  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from bisect import bisect_right  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UMSAB_TRAIN = ROOT.parent / "shared/data/umsab"
UMSAB_VAL = ROOT / "src/tertulia/nlp/tests/fixtures/umsab"
LANGUAGE_OF = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
NETWORK_SHARES = {
    "x": 35,
    "instagram": 20,
    "facebook": 15,
    "bluesky": 10,
    "web": 10,
    "mastodon": 5,
    "linkedin": 5,
}
PLANTED_SHARE = 0.02

# What brand queries are about, and what they exclude; Spanish and English, as the seeds' users write.
CONTEXT = [
    "precio",
    "precios",
    "opinión",
    "opiniones",
    "envío",
    "pedido",
    "tienda",
    "servicio",
    "atención",
    "cliente",
    "calidad",
    "oferta",
    "descuento",
    "devolución",
    "queja",
    "malo",
    "fatal",
    "encanta",
    "recomiendo",
    "nuevo",
    "lanzamiento",
    "app",
    "web",
    "price",
    "review",
    "delivery",
    "order",
    "support",
    "refund",
    "quality",
    "shop",
    "store",
    "broken",
    "love",
    "hate",
    "worst",
    "best",
    "launch",
]
CONTEXT_PHRASES = ('"servicio al cliente"', '"customer service"', '"no funciona"', '"doesn\'t work"')
EXCLUSIONS = (
    *[
        "empleo",
        "trabajo",
        "sorteo*",
        "giveaway",
        "job*",
        "hiring",
        "casino",
        "porn*",
        "bot",
        "crypto*",
        "nft",
    ],
    '"oferta de empleo"',
    '"we are hiring"',
)
COMPETITION = ("compet*", "rival*", "altern*", "versus", "vs", "mejor*", "better", "cheaper")
FIELDS = (
    "lang:es",
    "lang:en",
    "lang:pt",
    "network:x",
    "network:instagram",
    "followers:>1000",
    "followers:>=5k",
)

ONSETS = [
    "b",
    "br",
    "c",
    "ch",
    "d",
    "f",
    "g",
    "gr",
    "k",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "r",
    "s",
    "t",
    "tr",
    "v",
    "z",
]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o"]
CODAS = ["", "", "", "n", "r", "l", "s", "x"]
SUFFIXES = ("pro", "go", "max", "app", "plus", "one", "lab", "bank", "pay", "energy")
DOMAINS = ("com", "es", "io", "app", "net")


# -- the stream -------------------------------------------------------------------------------


def umsab_texts() -> list[tuple[str, str]]:
    """(text, language) of the UMSAB train tweets, or of the validation ones the tests ship."""
    found = sorted(UMSAB_TRAIN.glob("*/train_text.txt")) or sorted(UMSAB_VAL.glob("*/val_text.txt"))
    texts: list[tuple[str, str]] = []
    for path in found:
        language = LANGUAGE_OF.get(path.parent.name, "")
        texts.extend((line, language) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return texts


def simulator_texts(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Community, crisis, brand and blogger messages from the sandbox simulator."""
    from tertulia.connectors.sandbox.simulator import corpus

    texts: list[tuple[str, str]] = []
    while len(texts) < count:
        language = rng.choice(corpus.LANGUAGES)
        roll = rng.random()
        if roll < 0.75:
            texts.append((corpus.community_message(rng.choice(corpus.CATEGORIES), language, rng), language))
        elif roll < 0.85:
            texts.append(
                (corpus.crisis_message(rng.choice(corpus.CRISIS_TOPICS).key, language, rng), language)
            )
        elif roll < 0.95:
            texts.append((corpus.brand_post(language, rng), language))
        else:
            texts.append((corpus.blogger_message(rng), "es"))
    return texts


def invented_name(rng: random.Random, taken: set[str]) -> str:
    """A pronounceable brand name nobody uses (Velmora, Tarkin), at least five letters."""
    while True:
        syllables = rng.choice((2, 2, 3, 3, 4))
        name = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))
        if len(name) >= 5 and name not in taken:
            taken.add(name)
            return name


def rare_words(texts: Sequence[tuple[str, str]]) -> list[str]:
    """Real words seen 2 to 4 times in the corpus: what a niche product or place name looks like."""
    from tertulia.listening.query.folding import fold, words

    counts = Counter(word for text, _ in texts for word in set(words(fold(text))))
    operators = {"and", "or", "not", "near"}
    return sorted(
        word
        for word, count in counts.items()
        if 2 <= count <= 4
        and len(word) >= 6
        and word.isalpha()
        and "http" not in word
        and word not in operators
    )


@dataclass
class Spec:
    """A generated query, with what a post about its brand says (for planting)."""

    text: str
    spoken: list[str]  # how posts write the brand: "Velmora", "#velmora", "Velmora Pro"...
    context: list[str] = field(default_factory=list)  # words that satisfy its AND / NEAR part
    site: str = ""


def make_queries(rng: random.Random, count: int, vocabulary: Sequence[str]) -> list[Spec]:
    taken: set[str] = set(vocabulary)
    rare = list(vocabulary)
    rng.shuffle(rare)
    specs: list[Spec] = []
    for _ in range(count):
        brand = rare.pop() if rare and rng.random() < 0.05 else invented_name(rng, taken)
        capital = brand[:1].upper() + brand[1:]
        variants = [brand]
        spoken = [capital, brand, brand.upper()]
        if rng.random() < 0.5:
            variants.append(f"#{brand}")
            spoken.append(f"#{capital}")
        if rng.random() < 0.4:
            variants.append(f"@{brand}")
            spoken.append(f"@{brand}")
        if rng.random() < 0.4:
            suffix = rng.choice(SUFFIXES)
            variants.append(f'"{brand} {suffix}"')
            variants.append(f"#{brand}{suffix}")
            spoken += [f"{capital} {suffix.capitalize()}", f"#{brand}{suffix}"]
        if rng.random() < 0.25 and len(brand) >= 6:
            variants.append(brand[:-2] + "*")  # the stem and its inflections: velmor*
        if rng.random() < 0.2:
            typo = brand[: len(brand) // 2] + brand[len(brand) // 2 + 1 :]
            variants.append(typo)  # the usual misspelling
            spoken.append(typo)
        site = ""
        if rng.random() < 0.1 and brand.isascii():
            site = f"{brand}.{rng.choice(DOMAINS)}"
        words = variants[0] if len(variants) == 1 else "(" + " OR ".join(variants) + ")"
        # A site: is one more way to name the brand, except next to NEAR (a filter has no position).
        name = f"({' OR '.join(variants)} OR site:{site})" if site else words
        context: list[str] = []
        roll = rng.random()
        if roll < 0.35:
            text = name
        elif roll < 0.6:
            context = rng.sample(CONTEXT, rng.randint(2, 6))
            extra = [rng.choice(CONTEXT_PHRASES)] if rng.random() < 0.3 else []
            text = f"{name} AND ({' OR '.join(context + extra)})"
        elif roll < 0.78:
            context = rng.sample(CONTEXT, rng.randint(1, 4))
            near = f"NEAR/{rng.randint(1, 5)}{'f' if rng.random() < 0.3 else ''}"
            group = context[0] if len(context) == 1 else "(" + " OR ".join(context) + ")"
            text = f"{words} {near} {group}"
        elif roll < 0.9:
            context = rng.sample(COMPETITION, 2)
            text = f"{name} ({' OR '.join(context)})"
            context = [word.rstrip("*") + ("s" if word.endswith("*") else "") for word in context]
        else:
            # Two brands compared, or a brand with its country: a phrase and a word.
            other = invented_name(rng, taken)
            context = [other]
            text = f'("{brand} vs {other}" OR ({name} AND {other}))'
        if rng.random() < 0.3:
            excluded = rng.sample(EXCLUSIONS, rng.randint(1, 4))
            text += " NOT " + (excluded[0] if len(excluded) == 1 else "(" + " OR ".join(excluded) + ")")
        if rng.random() < 0.2:
            text += " " + rng.choice(FIELDS)
        specs.append(Spec(text, spoken, context, site))
    return specs


def zipf_index(rng: random.Random, count: int) -> int:
    """A query index, log-uniform: the first brands are talked about much more than the last."""
    return min(int(math.exp(rng.uniform(0, math.log(count)))) - 1, count - 1)


def plant(rng: random.Random, text: str, spec: Spec) -> str:
    """The brand (and half the time a context word right after it) at a random place in the text."""
    words = text.split()
    said = rng.choice(spec.spoken)
    if spec.context and rng.random() < 0.5:
        said += " " + rng.choice(["", "", "el", "the", "muy"]) + " " + rng.choice(spec.context)
    words.insert(rng.randint(0, len(words)), said)
    return " ".join(words)


def make_stream(
    rng: random.Random, count: int, specs: Sequence[Spec], pool: Sequence[tuple[str, str]]
) -> Any:
    from tertulia.listening.query import Post

    networks = list(NETWORK_SHARES)
    weights = list(NETWORK_SHARES.values())
    handles = [
        invented_name(rng, set()) + rng.choice(["", "_", "."]) + str(rng.randint(0, 99)) for _ in range(5000)
    ]
    posts: list[Post] = []
    planted = 0
    for number in range(count):
        text, language = rng.choice(pool)
        network = rng.choices(networks, weights)[0]
        handle = rng.choice(handles)
        author = f"{handle}.bsky.social" if network == "bluesky" else handle
        url = ""
        if network == "web":
            blog = rng.choice(handles).replace("_", "").replace(".", "")
            url = f"https://{blog}.blog.example/{number}"
        elif rng.random() < 0.15:
            site = f"{rng.choice(['news', 'shop', 'video', 'link'])}{rng.randint(1, 50)}"
            url = f"https://www.{site}.example/{number}"
        if rng.random() < PLANTED_SHARE:
            spec = specs[zipf_index(rng, len(specs))]
            text = plant(rng, text, spec)
            if spec.site and rng.random() < 0.3:
                url = f"https://www.{spec.site}/p/{number}"
            planted += 1
        followers = int(rng.lognormvariate(5.5, 2.0))
        posts.append(
            Post(
                str(number), text, author=author, lang=language, url=url, network=network, followers=followers
            )
        )
    return posts, planted


# -- the naive evaluator ----------------------------------------------------------------------


def naive_compile(root: Any) -> Callable[[str, Any], bool]:
    """A predicate over (folded text, post): a regex with word boundaries for every word, no prefilter."""
    from tertulia.listening.query import syntax as s
    from tertulia.listening.query.document import host_of, language_code

    def word(pattern: Any) -> str:
        return "".join(r"\w*" if c == "*" else r"\w" if c == "?" else re.escape(c) for c in pattern.text)

    def source(node: Any) -> str:
        if isinstance(node, s.Words):
            return r"(?<!\w)" + r"\W+".join(word(p) for p in node.patterns) + r"(?!\w)"
        if isinstance(node, s.Tagged):
            return r"(?<![\w@])" + re.escape(node.tag.value) + word(node.pattern) + r"(?![\w])"
        if isinstance(node, s.Or):
            return "(?:" + "|".join(source(operand) for operand in node.operands) + ")"
        if isinstance(node, s.Near):
            left, right = source(node.left), source(node.right)
            gap = rf"\W+(?:\w+\W+){{0,{node.distance}}}"
            forward = f"(?:{left}{gap}{right})"
            return forward if node.ordered else f"(?:{forward}|(?:{right}{gap}{left}))"
        raise TypeError(type(node).__name__)

    def build(node: Any) -> Callable[[str, Any], bool]:
        if isinstance(node, s.And):
            tests = [build(operand) for operand in node.operands]
            return lambda text, post: all(test(text, post) for test in tests)
        if isinstance(node, s.Or) and not all(
            isinstance(o, s.Words | s.Tagged | s.Or | s.Near) for o in node.operands
        ):
            tests = [build(operand) for operand in node.operands]
            return lambda text, post: any(test(text, post) for test in tests)
        if isinstance(node, s.Not):
            inner = build(node.operand)
            return lambda text, post: not inner(text, post)
        if isinstance(node, s.Followers):
            holds = node.holds
            return lambda text, post: holds(post.followers)
        if isinstance(node, s.FieldIs):
            value = node.pattern.text
            if node.field is s.Field.LANG:
                return lambda text, post: language_code(post.lang) == value
            if node.field is s.Field.NETWORK:
                return lambda text, post: post.network == value
            if node.field is s.Field.SITE:
                return lambda text, post: (host := host_of(post.url)) == value or host.endswith("." + value)
            return lambda text, post: post.author.lower().removeprefix("@") == value
        search = re.compile(source(node)).search
        return lambda text, post: search(text) is not None

    return build(root)


# -- PostgreSQL -------------------------------------------------------------------------------


def lexeme(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(node: Any) -> str | None:
    """The query as a tsquery, or None when nothing of it is text (filters are SQL columns).

    Words are lexemes, phrases `a <-> b`, a trailing wildcard a prefix (`compet:*`; other
    wildcards keep their first literal part as a prefix), hashtags and mentions their word (the
    parser drops the mark). NEAR/n is spelt out: `(a <1> b | a <2> b | ... | a <n+1> b)`, and the
    same with b first unless ordered. Filters inside OR or NOT are dropped (only top-level lang:,
    network: and followers: are kept, as columns); site: is always dropped.
    """
    from tertulia.listening.query import syntax as s

    def pattern(p: Any) -> str:
        if not p.is_wildcard:
            return lexeme(p.text)
        first = re.split(r"[*?]", p.text)[0] or max(p.literal_pieces(), key=len)
        return lexeme(first) + ":*"

    def build(n: Any) -> str | None:
        if isinstance(n, s.Words):
            return " <-> ".join(pattern(p) for p in n.patterns)
        if isinstance(n, s.Tagged):
            return pattern(n.pattern)
        if isinstance(n, s.Or | s.And):
            parts = [part for part in map(build, n.operands) if part is not None]
            joiner = " | " if isinstance(n, s.Or) else " & "
            return "(" + joiner.join(parts) + ")" if parts else None
        if isinstance(n, s.Not):
            inner = build(n.operand)
            return None if inner is None else f"!{inner}"
        if isinstance(n, s.Near):
            left, right = build(n.left), build(n.right)
            forms = [f"({left}) <{gap}> ({right})" for gap in range(1, n.distance + 2)]
            if not n.ordered:
                forms += [f"({right}) <{gap}> ({left})" for gap in range(1, n.distance + 2)]
            return "(" + " | ".join(forms) + ")"
        return None  # a filter

    return build(node)


def columns(root: Any) -> tuple[str | None, str | None, int | None, int | None]:
    """lang, network, least and most followers of a query's top-level AND (None: no filter)."""
    from tertulia.listening.query import syntax as s

    lang = network = None
    least = most = None
    for operand in root.operands if isinstance(root, s.And) else (root,):
        if isinstance(operand, s.FieldIs) and operand.field is s.Field.LANG:
            lang = operand.pattern.text
        elif isinstance(operand, s.FieldIs) and operand.field is s.Field.NETWORK:
            network = operand.pattern.text
        elif isinstance(operand, s.Followers):
            bound = {
                ">": (operand.count + 1, None),
                ">=": (operand.count, None),
                "<": (None, operand.count - 1),
                "<=": (None, operand.count),
            }[operand.comparison.value]
            least, most = (
                bound[0] if bound[0] is not None else least,
                bound[1] if bound[1] is not None else most,
            )
    return lang, network, least, most


POSTGRES_MATCH = """
WITH batch AS MATERIALIZED (
    SELECT id, lang, network, followers, to_tsvector('tertulia_fold', text) AS tsv
    FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::bigint[])
        AS t(id, text, lang, network, followers)
)
SELECT b.id, q.id FROM batch b JOIN bench_queries q
    ON (q.lang IS NULL OR q.lang = b.lang)
    AND (q.network IS NULL OR q.network = b.network)
    AND (q.least IS NULL OR b.followers >= q.least)
    AND (q.most IS NULL OR b.followers <= q.most)
    AND b.tsv @@ q.tsq
"""


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process on this machine (the PostgreSQL backend), if readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres(
    url: str, parsed: dict[str, Any], posts: Sequence[Any], results: Sequence[list[str]], budget: float
) -> None:
    import psycopg

    from tertulia.listening.query.document import language_code

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        connection.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS tertulia_fold")
        # 'simple' (no stemming, no stop words) plus unaccent: the matcher's folding, roughly.
        connection.execute("CREATE TEXT SEARCH CONFIGURATION tertulia_fold (COPY = simple)")
        connection.execute(
            "ALTER TEXT SEARCH CONFIGURATION tertulia_fold ALTER MAPPING FOR "
            "asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple"
        )
        connection.execute("DROP TABLE IF EXISTS bench_queries")
        connection.execute(
            "CREATE TABLE bench_queries (id int PRIMARY KEY, tsq tsquery NOT NULL, lang text, network text, "
            "least bigint, most bigint)"
        )
        rows, skipped = [], 0
        for number, query in enumerate(parsed.values()):
            text = tsquery(query.root)
            if text is None:
                skipped += 1
                continue
            rows.append((number, text, *columns(query.root)))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_queries VALUES (%s, to_tsquery('tertulia_fold', %s), %s, %s, %s, %s)", rows
            )
        connection.execute("ANALYZE bench_queries")
        loaded = time.perf_counter() - started
        done = matched = agree = 0
        elapsed = 0.0
        batch = 1000
        backend = connection.execute("SELECT pg_backend_pid()").fetchone()
        pid = int(backend[0]) if backend else 0
        ids = list(parsed)
        cpu_before = cpu_seconds(pid)
        while done < len(posts) and elapsed < budget:
            chunk = posts[done : done + batch]
            arguments = (
                list(range(done, done + len(chunk))),
                [post.text for post in chunk],
                [language_code(post.lang) for post in chunk],
                [post.network for post in chunk],
                [post.followers for post in chunk],
            )
            started = time.perf_counter()
            found = connection.execute(POSTGRES_MATCH, arguments).fetchall()
            elapsed += time.perf_counter() - started
            by_post: dict[int, list[str]] = {}
            for post, query in sorted(found):
                by_post.setdefault(post, []).append(ids[query])
            matched += len(by_post)
            agree += sum(
                by_post.get(number, []) == results[number] for number in range(done, done + len(chunk))
            )
            done += len(chunk)
        cpu_after = cpu_seconds(pid)
        share = "all" if done == len(posts) else f"the first {done:,}"
        cpu = (
            f"{done / (cpu_after - cpu_before):,.0f} posts/s by the backend's CPU time, "
            if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before
            else ""
        )
        print(
            f"  PostgreSQL FTS: {cpu}{done / elapsed:,.0f} by wall clock (measured on {share} posts in "
            f"{elapsed:.1f} s; {matched:,} matched; same answer as the matcher on {agree / done:.1%}; "
            f"{skipped} filter-only queries skipped; loading the queries {loaded:.1f} s)"
        )


# -- prefilter alternatives -------------------------------------------------------------------


def prefilter_alternatives(prefilter: Any, folded_batches: Sequence[list[str]], posts: int) -> None:
    """Only the finding of candidate queries (before the matcher's substring checks), same atoms."""
    import ahocorasick

    from tertulia.listening.query.document import TOKEN

    atoms: list[tuple[str, str]] = list(prefilter.atoms)
    queries_of: list[Sequence[int]] = list(prefilter.queries_of_literal)

    def hyperscan_step(batch: list[str]) -> int:
        found: dict[int, set[int]] = {}
        prefilter.scan_text(batch, found)
        return sum(map(len, found.values()))

    automaton = ahocorasick.Automaton()
    for number, (_, literal) in enumerate(atoms):
        automaton.add_word(literal, number)
    automaton.make_automaton()
    word = re.compile(r"\w")
    # The same edge checks as the matcher's (a "word" atom is not inside a longer word), on str.
    edges = [
        (
            len(value),
            kind in ("word", "start") and bool(word.match(value[0])),
            kind in ("word", "end") and bool(word.match(value[-1])),
        )
        for kind, value in atoms
    ]

    def aho_step(batch: list[str]) -> int:
        joined = "\x1e".join(batch)
        starts = [0]
        for text in batch[:-1]:
            starts.append(starts[-1] + len(text) + 1)
        found: dict[int, set[int]] = {}
        seen: set[tuple[int, int]] = set()
        size = len(joined)
        for last, literal in automaton.iter(joined):
            length, left, right = edges[literal]
            first = last - length + 1
            if (left and first > 0 and joined[first - 1].isalnum()) or (
                right and last + 1 < size and joined[last + 1].isalnum()
            ):
                continue
            post = bisect_right(starts, last) - 1
            if (post, literal) not in seen:
                seen.add((post, literal))
                found.setdefault(post, set()).update(queries_of[literal])
        return sum(map(len, found.values()))

    # Whole words, #hashtags and @mentions by dictionary; what is not a whole token (the start of a
    # wildcard, a part inside one) has no token to look up: it is searched as a substring.
    by_token: dict[str, list[int]] = {}
    pieces: list[tuple[str, Sequence[int]]] = []
    for number, (kind, literal) in enumerate(atoms):
        if kind == "word" or (kind == "end" and literal[:1] in "#@"):
            by_token.setdefault(literal, []).extend(queries_of[number])
        else:
            pieces.append((literal, queries_of[number]))

    def token_step(batch: list[str]) -> int:
        total = 0
        for text in batch:
            here: set[int] = set()
            for mention, hashtag, plain in TOKEN.findall(text):
                token = plain or hashtag or mention
                hit = by_token.get(token)
                if hit:
                    here.update(hit)
                if not plain:
                    hit = by_token.get(("#" if hashtag else "@") + token)
                    if hit:
                        here.update(hit)
            for literal, queries in pieces:
                if literal in text:
                    here.update(queries)
            total += len(here)
        return total

    for label, step in (
        ("Hyperscan (one database, batch as one buffer)", hyperscan_step),
        ("pyahocorasick (same literals, batch as one string)", aho_step),
        (f"token set (dict of whole tokens; {len(pieces):,} partial words as substrings)", token_step),
    ):
        started = time.process_time()
        candidates = sum(step(batch) for batch in folded_batches)
        elapsed = time.process_time() - started
        print(
            f"  prefilter {label}: {posts / elapsed:,.0f} posts/s by CPU time, "
            f"{candidates / posts:.3f} candidates per post"
        )


# -- the run ----------------------------------------------------------------------------------


def options() -> argparse.Namespace:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--posts", type=int, default=200_000, help="posts in the stream")
    parser.add_argument(
        "--queries", default="100,1000,10000", help="numbers of active queries, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of the matcher; the best is reported"
    )
    parser.add_argument(
        "--budget", type=float, default=20.0, help="seconds for each naive and PostgreSQL run"
    )
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = options()
    import django

    django.setup()
    from tertulia.listening.matcher import BATCH, Matcher
    from tertulia.listening.query import parse
    from tertulia.listening.query.folding import fold, fold_many

    sizes = sorted(int(size) for size in args.queries.split(","))
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}; one process, one thread"
    )
    rng = random.Random(args.seed)
    tweets = umsab_texts()
    pool = tweets + simulator_texts(rng, len(tweets))
    specs = make_queries(rng, sizes[-1], rare_words(pool))
    posts, planted = make_stream(rng, args.posts, specs, pool)
    mean = sum(len(post.text) for post in posts) / len(posts)
    print(
        f"stream: {len(posts):,} posts (seed {args.seed}) from {len(tweets):,} UMSAB tweets and "
        f"{len(pool) - len(tweets):,} simulator messages, mean {mean:.0f} characters; "
        f"{planted:,} ({planted / len(posts):.1%}) with a query's brand planted"
    )
    for spec in specs[:3] + specs[-2:]:
        print(f"  query example: {spec.text}")
    parsed_all = {f"q{number}": parse(spec.text) for number, spec in enumerate(specs)}
    database_url = os.environ.get("DATABASE_URL", "")
    if not args.skip_postgres and not database_url:
        print("PostgreSQL: skipped (DATABASE_URL is not set; .ci/services.sh starts a throwaway one)")

    for size in sizes:
        parsed = dict(list(parsed_all.items())[:size])
        print(f"{size:,} queries:")
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        matcher = Matcher(parsed)
        print(
            f"  compile: {(time.process_time() - cpu) * 1000:,.0f} ms CPU "
            f"({(time.perf_counter() - started) * 1000:,.0f} ms wall)"
        )
        best = best_wall = float("inf")
        results: list[list[str]] = []
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), time.process_time()
            results = matcher.match(posts)
            best = min(best, time.process_time() - cpu)
            best_wall = min(best_wall, time.perf_counter() - started)
        print(
            f"  Tertulia matcher: {len(posts) / best:,.0f} posts/s by CPU time "
            f"({len(posts) / best_wall:,.0f} by wall clock; best of {args.repeat}); "
            f"{sum(1 for found in results if found):,} posts matched at least one query "
            f"({sum(1 for found in results if found) / len(posts):.1%}), {sum(map(len, results)):,} matches"
        )
        folded_batches = [
            fold_many([post.text for post in posts[start : start + BATCH]])
            for start in range(0, len(posts), BATCH)
        ]
        triggered = candidates = 0
        for start, batch in zip(range(0, len(posts), BATCH), folded_batches, strict=True):
            found: dict[int, set[int]] = {}
            if matcher.prefilter.database is not None:
                matcher.prefilter.scan_text(batch, found)
            triggered += sum(map(len, found.values()))
            chosen = matcher.prefilter.candidates(batch, posts[start : start + BATCH])
            candidates += sum(map(len, chosen.values()))
        print(
            f"  prefilter: {len(matcher.prefilter.literals):,} literals; "
            f"per post {triggered / len(posts):.3f} "
            f"queries triggered by the scan, {candidates / len(posts):.3f} candidates left after the "
            f"substring and field checks (evaluated exactly)"
        )
        prefilter_alternatives(matcher.prefilter, folded_batches, len(posts))

        if not args.skip_naive:
            tests = [naive_compile(query.root) for query in parsed.values()]
            ids = list(parsed)
            done = agree = 0
            started = time.process_time()
            while done < len(posts) and (done < 20 or time.process_time() - started < args.budget):
                post = posts[done]
                text = fold(post.text)
                found_ids = [ids[number] for number, test in enumerate(tests) if test(text, post)]
                agree += found_ids == results[done]
                done += 1
            elapsed = time.process_time() - started
            share = "all" if done == len(posts) else f"the first {done:,}"
            print(
                f"  naive regex: {done / elapsed:,.0f} posts/s by CPU time (measured on {share} posts in "
                f"{elapsed:.1f} s; same answer as the matcher on {agree / done:.1%} of them)"
            )
        if not args.skip_postgres and database_url:
            postgres(database_url, parsed, posts, results, args.budget)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
