"""The words (and emoji) a surge is about: over-represented in the surge window against the hours before.

Texts go through tertulia.nlp.normalize, the same pass the sentiment model reads: accents are folded for
counting ("intoxicación" and "intoxicacion" are one term) but the most common written form is shown;
zero-width and bidi marks, HTML, URLs and @mentions are dropped; emoji are terms of their own; letters
of any script make words. Spanish and English function words never rise.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tertulia.nlp.normalize import normalize

_STOP_TEXT = """
a al algo algun alguna ante antes aqui asi aun como con contra cual cuando de del desde donde dos el
ella ellas ellos en entre era eres es esa esas ese eso esos esta estas este esto estos estoy estan fue
ha han has hay hoy la las le les lo los mas me mi mis muy nada ni no nos nosotros o os otra otro para
pero poco por porque pues que quien se ser si sin sobre solo son soy su sus tambien tan te tengo tiene
tienen todo todos tu tus un una uno unos unas vosotros y ya yo vez ver va vais van hace hacer about
after again all also am an and any are as at be because been before being but by can could did do does
doing for from had has have he her here him his how i if in into is it its just like me more most my no
not now of off on once only or other our out over own she should so some such than that the their them
then there these they this those through to too under until up us very was we were what when where which
while who why will with would you your yours http https www com rt amp via
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
MAX_TEXTS = 2_000


@dataclass(frozen=True)
class Term:
    term: str  # as people wrote it most often
    count: int  # texts of the surge window using it
    share: float  # of the surge window's texts
    baseline_share: float  # of the baseline window's texts
    lift: float

    def as_json(self) -> dict[str, object]:
        return {
            "term": self.term,
            "count": self.count,
            "share": round(self.share, 4),
            "baseline_share": round(self.baseline_share, 4),
            "lift": round(self.lift, 2),
        }


def terms_of(text: str, shown: dict[str, Counter[str]] | None = None) -> set[str]:
    """The distinct terms of one text (folded); `shown` collects the written forms of each."""
    normalized = normalize(text)
    found = set()
    for written, folded in zip(normalized.spoken.split(" "), normalized.tokens, strict=False):
        if folded in STOP_WORDS or folded.isdigit():
            continue
        if len(folded) < 3 and folded.isalpha() and folded.isascii():
            continue  # "ok", "jk": too short to say anything; emoji and CJK characters stay
        if not any(ch.isalnum() for ch in folded) and len(folded) > 1:
            continue  # emoticons such as ":(" say the mood, which the negative share already tells
        found.add(folded)
        if shown is not None:
            shown.setdefault(folded, Counter())[written] += 1
    return found


def top_terms(surge_texts: Iterable[str], baseline_texts: Iterable[str], limit: int = 10) -> list[Term]:
    """Terms by how much more often the surge's texts use them than the baseline's (smoothed lift),
    weighted by how many surge texts use them; at least 2 texts, and more than in the baseline."""
    shown: dict[str, Counter[str]] = {}
    surge: Counter[str] = Counter()
    surge_n = 0
    for text in list(surge_texts)[:MAX_TEXTS]:
        surge.update(terms_of(text, shown))
        surge_n += 1
    before: Counter[str] = Counter()
    before_n = 0
    for text in list(baseline_texts)[:MAX_TEXTS]:
        before.update(terms_of(text))
        before_n += 1
    if not surge_n:
        return []
    found = []
    for term, count in surge.items():
        if count < 2:
            continue
        share = count / surge_n
        base = before.get(term, 0) / before_n if before_n else 0.0
        lift = ((count + 0.5) / (surge_n + 1)) / ((before.get(term, 0) + 0.5) / (before_n + 1))
        if lift <= 1.2:
            continue
        label = shown[term].most_common(1)[0][0]
        found.append((count * math.log(lift), Term(label, count, share, base, lift)))
    found.sort(key=lambda pair: (-pair[0], pair[1].term))
    return [term for _, term in found[:limit]]
