"""Words and phrases in a message, as a person means them: "envio" finds "Envío", "spam" does not
find "spammer", and zero-width characters slipped in to dodge a filter do not hide a word."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tertulia.core.text import fold

__all__ = ["fold", "phrase_pattern"]


def phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One expression finding any of `phrases` (already folded) as whole words in folded text."""
    parts = [r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in phrases if phrase.strip()]
    if not parts:
        return None
    # Longest first, so "envío gratis" is preferred over "envío" (the answer is the same; it reads better).
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")
