"""What the writer wants, by transparent rules over the lexicon's cues and the sentiment score.

The order of the checks is the policy: spam first (whatever it says, it is spam), then a real
problem (a complaint, even with a swear word or an insult in it: an angry customer with a lost
order must be answered, not hidden), then insults with no problem behind them (abuse), then
questions, praise, and what the sentiment alone suggests. Spanish and English have
lexicons; other languages fall back to punctuation and sentiment, unless Spanish or English cue
words turn up in them.
"""

from __future__ import annotations

import re

from tertulia.nlp.lexicon import QUESTION_OPENERS, Cue, terms
from tertulia.nlp.normalize import Normalized
from tertulia.nlp.result import Intent

LEXICON_LANGUAGES = frozenset({"es", "en", ""})  # "": unsure, and short messages often are
# Words that say what a message wants. Found in a message identified as another language, they
# mean the identification was probably wrong (short English is sometimes taken for Hungarian) or
# the writer mixes languages: the lexicon rules apply then too.
_TELLING = frozenset(
    {Cue.PROBLEM, Cue.DISSATISFIED, Cue.PRAISE, Cue.INSULT, Cue.DISMISSAL, Cue.PROMO, Cue.CRITICAL, Cue.HELP}
)
# Sentiment scores (-1..1) beyond which the model alone is taken at its word.
CLEARLY_NEGATIVE = -0.5
CLEARLY_POSITIVE = 0.5
SOMEWHAT_NEGATIVE = -0.2
_OPENERS = frozenset(terms(QUESTION_OPENERS))
# Amounts of money and percentages: what spam promises ("$500", "200 € diarios", "90%").
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?(?:[$€£%]|euros?\b|dollars?\b|usd\b|eur\b)")


def _asks(text: Normalized, cues: dict[Cue, int]) -> bool:
    """A question mark; or, in a message that neither exclaims nor thanks, an interrogative first
    word ("how do I ...") or a request for help ("quería saber ...")."""
    if text.questions:
        return True
    if text.exclamations or Cue.PRAISE in cues:  # "¡Qué maravilla!", "thanks, how kind"
        return False
    if Cue.HELP in cues:
        return True
    first = text.lowered.split(maxsplit=1)[:1]
    return bool(first) and first[0].strip("\"'()¡¿.,:;") in _OPENERS


def is_spam(text: Normalized, cues: dict[Cue, int]) -> bool:
    """Something to sell (easy money, crypto, followers...) pushed with a link or a call to DM."""
    promo = cues.get(Cue.PROMO, 0)
    if not promo:
        return False
    signals = promo + cues.get(Cue.CONTACT_ME, 0) + bool(_MONEY.search(text.lowered)) + text.shouting
    if text.urls:
        return signals >= 2
    return cues.get(Cue.CONTACT_ME, 0) > 0 and signals >= 3


def from_lexicon(text: Normalized, cues: dict[Cue, int], sentiment_score: float) -> Intent:
    if is_spam(text, cues):
        return Intent.SPAM
    problem = cues.get(Cue.PROBLEM, 0)
    dissatisfied = cues.get(Cue.DISSATISFIED, 0)
    about_us = Cue.BUSINESS in cues or Cue.YOU in cues
    # Every question is taken as one for the brand: in its mentions and DMs most are, and an
    # unanswered customer costs more than a chatty question answered.
    asks = _asks(text, cues)
    if problem:
        # "¿Ha salido ya mi pedido? No me llega el correo": one mild problem inside a question
        # is a question about the order; more, or real anger, is a complaint.
        mild = problem == 1 and not dissatisfied and sentiment_score > CLEARLY_NEGATIVE
        return Intent.QUESTION if asks and mild else Intent.COMPLAINT
    if Cue.INSULT in cues or Cue.DISMISSAL in cues:
        # Insults with no problem behind them; with one, they were a complaint above.
        return Intent.ABUSE
    if dissatisfied:
        return Intent.COMPLAINT
    if asks:
        return Intent.QUESTION
    if Cue.PRAISE in cues and sentiment_score > CLEARLY_NEGATIVE:
        return Intent.PRAISE
    if Cue.CRITICAL in cues:
        # "Toda la familia con vómitos tras la cena": an incident report, whatever its words.
        return Intent.COMPLAINT
    if about_us and sentiment_score >= CLEARLY_POSITIVE:
        return Intent.PRAISE
    if about_us and sentiment_score <= SOMEWHAT_NEGATIVE:
        # Unhappy about the order, the shop or the service, in words the lexicon lacks.
        return Intent.COMPLAINT
    return Intent.OTHER


def from_punctuation(text: Normalized, sentiment_score: float) -> Intent:
    """For languages without a lexicon: a question mark, or a clear sentiment, or nothing."""
    if text.questions:
        return Intent.QUESTION
    if sentiment_score <= CLEARLY_NEGATIVE:
        return Intent.COMPLAINT
    if sentiment_score >= CLEARLY_POSITIVE:
        return Intent.PRAISE
    return Intent.OTHER


def classify(text: Normalized, language: str, cues: dict[Cue, int], sentiment_score: float) -> Intent:
    if language in LEXICON_LANGUAGES or not _TELLING.isdisjoint(cues):
        return from_lexicon(text, cues, sentiment_score)
    return from_punctuation(text, sentiment_score)
