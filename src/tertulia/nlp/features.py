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
    """Which words, emoji and emoticons occur (presence, not counts: tweets are short), and which cues."""
    found = set(text.tokens)
    cues = (
        (EXCLAMATION, text.exclamations),
        (QUESTION, text.questions),
        (LINK, text.urls),
        (MENTION, text.mentions),
        (SHOUTING, text.shouting),
        (ELONGATED, text.elongated),
    )
    found.update(cue for cue, present in cues if present)
    return found
