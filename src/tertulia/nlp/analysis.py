"""The analysis step of inbox ingestion: language, sentiment, intent and urgency of each message."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.utils.translation import gettext as _

from tertulia.nlp import intent, sentiment, urgency
from tertulia.nlp.language import detect_language
from tertulia.nlp.matching import cues, spanish_and_english
from tertulia.nlp.normalize import normalize
from tertulia.nlp.result import Analysis, Intent, Sentiment, Urgency

logger = logging.getLogger(__name__)

# What a message gets when the analysis itself fails: stored and shown like any other, never lost.
UNANALYSED = Analysis(
    language="", sentiment=Sentiment.NEUTRAL, sentiment_score=0.0, intent=Intent.OTHER, urgency=Urgency.NORMAL
)


def _analyse(text: str, language_hint: str | None) -> Analysis:
    normalized = normalize(text)
    language = detect_language(normalized, language_hint)
    label, score = sentiment.score(normalized)
    found = cues(normalized.tokens, spanish_and_english())
    wants = intent.classify(normalized, language, found, score)
    return Analysis(
        language=language,
        sentiment=label,
        sentiment_score=score,
        intent=wants,
        urgency=urgency.classify(normalized, wants, found, score),
    )


def analyse(text: str, *, language_hint: str | None = None) -> Analysis:
    """Analyse one message. Never raises: hostile or broken input gets a neutral analysis."""
    try:
        return _analyse(text, language_hint)
    except Exception:
        # A bug here must not cost the message: the ingestion stores it with a neutral analysis.
        logger.exception("analysis failed; storing the message unanalysed")
        return UNANALYSED


def analyse_many(
    texts: Sequence[str], *, language_hints: Sequence[str | None] | None = None
) -> list[Analysis]:
    """Analyse a batch, in order. Identical messages (a spam wave, a copied complaint) are analysed once."""
    if language_hints is None:
        language_hints = [None] * len(texts)
    elif len(language_hints) != len(texts):
        raise ValueError(_("Give one language hint per text, or none at all."))
    done: dict[tuple[str, str | None], Analysis] = {}
    results = []
    for text, hint in zip(texts, language_hints, strict=True):
        key = (text, hint)
        result = done.get(key)
        if result is None:
            result = done[key] = analyse(text, language_hint=hint)
        results.append(result)
    return results
