"""Find the lexicon's cues in a message's tokens: one pass, dictionary lookups only.

A regular expression with hundreds of alternatives would try each of them at every word
boundary; here each token costs one lookup for whole words, a few for stems, and phrase lookups
only when the token can start a phrase.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from tertulia.nlp.lexicon import LEXICON, Cue, terms
from tertulia.nlp.normalize import fold

# A praise word this many tokens or fewer after a negator is read as its opposite:
# "no lo recomiendo", "not that great", "nunca me ha gustado".
NEGATION_WINDOW = 3


@dataclass(frozen=True, slots=True)
class Index:
    words: Mapping[str, tuple[Cue, ...]]
    stems: Mapping[str, tuple[Cue, ...]]
    stem_lengths: tuple[int, ...]  # longest first
    phrases: Mapping[str, tuple[Cue, ...]]  # folded tokens joined by one space
    openings: frozenset[str]  # every phrase's first word, first two words, ... (all but the whole)


def build(lexicon: Mapping[Cue, Mapping[str, str]], languages: Iterable[str]) -> Index:
    words: dict[str, set[Cue]] = {}
    stems: dict[str, set[Cue]] = {}
    phrases: dict[str, set[Cue]] = {}
    wanted = set(languages)
    for cue, by_language in lexicon.items():
        for language, raw in by_language.items():
            if language not in wanted:
                continue
            for entry in terms(raw):
                folded = fold(entry.removesuffix("*"))
                if entry.endswith("*"):
                    stems.setdefault(folded, set()).add(cue)
                elif " " in folded:
                    phrases.setdefault(folded, set()).add(cue)
                else:
                    words.setdefault(folded, set()).add(cue)
    return Index(
        words={k: tuple(sorted(v)) for k, v in words.items()},
        stems={k: tuple(sorted(v)) for k, v in stems.items()},
        stem_lengths=tuple(sorted({len(s) for s in stems}, reverse=True)),
        phrases={k: tuple(sorted(v)) for k, v in phrases.items()},
        openings=frozenset(
            " ".join(words[:n]) for words in (p.split(" ") for p in phrases) for n in range(1, len(words))
        ),
    )


@cache
def spanish_and_english() -> Index:
    """Both lexicons at once: people mix them ("el refund no llega") and unsure detection is common."""
    return build(LEXICON, ("es", "en"))


def _word_cues(token: str, index: Index) -> tuple[Cue, ...]:
    hits = index.words.get(token)
    if hits is not None:
        return hits
    for length in index.stem_lengths:
        if len(token) >= length and (hits := index.stems.get(token[:length])):
            return hits
    return ()


# Token → its whole-word and stem cues. Words repeat from message to message (Zipf), so after
# a few thousand messages nearly every token is one lookup here. Bounded: cleared when full.
_seen: dict[str, tuple[Cue, ...]] = {}
_SEEN_MAX = 200_000


def cues(tokens: Sequence[str], index: Index) -> dict[Cue, int]:
    """How many times each cue occurs; a negated praise counts as DISSATISFIED instead."""
    if index is not spanish_and_english():
        seen: dict[str, tuple[Cue, ...]] = {}  # another lexicon (tests): no shared memo
    else:
        seen = _seen
        if len(seen) > _SEEN_MAX:
            seen.clear()
    found: dict[Cue, int] = {}
    phrases, openings = index.phrases, index.openings
    last_negator = -NEGATION_WINDOW - 1
    for i, token in enumerate(tokens):
        hits = seen.get(token)
        if hits is None:
            hits = seen[token] = _word_cues(token, index)
        if token in openings:
            phrase = token
            for following in tokens[i + 1 :]:
                phrase = f"{phrase} {following}"
                hits = hits + phrases.get(phrase, ())
                if phrase not in openings:
                    break
        for cue in hits:
            if cue is Cue.NEGATOR:
                last_negator = i
            elif cue is Cue.PRAISE and i - last_negator <= NEGATION_WINDOW:
                cue = Cue.DISSATISFIED
            found[cue] = found.get(cue, 0) + 1
    return found
