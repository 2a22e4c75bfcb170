"""The features the sentiment model reads: shared by training and scoring, so they never drift."""

from __future__ import annotations

from tertulia.nlp.normalize import Normalized

# Cues that are not words; the double underscores keep them apart from any token.
EXCLAMATION = "__exclamation__"
QUESTION = "__question__"
LINK = "__link__"
MENTION = "__mention__"
SHOUTING = "__shouting__"
ELONGATED = "__elongated__"


def features(text: Normalized) -> set[str]:
    """Which words, emoji and emoticons occur (presence, not counts: tweets are short)."""
    found = set(text.tokens)
    if text.exclamations:
        found.add(EXCLAMATION)
    if text.questions:
        found.add(QUESTION)
    if text.urls:
        found.add(LINK)
    if text.mentions:
        found.add(MENTION)
    if text.shouting:
        found.add(SHOUTING)
    if text.elongated:
        found.add(ELONGATED)
    return found
