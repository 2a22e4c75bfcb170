"""Words and phrases in a message, as a person means them: "envio" finds "Envío", "spam" does not
find "spammer", and zero-width characters slipped in to dodge a filter do not hide a word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence


def fold(text: str) -> str:
    """Lower case, accents and invisible format characters removed, whitespace runs made one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    )
    return " ".join(kept.casefold().split())


def phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One expression finding any of `phrases` (already folded) as whole words in folded text."""
    parts = [r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in phrases if phrase.strip()]
    if not parts:
        return None
    # Longest first, so "envío gratis" is preferred over "envío" (the answer is the same; it reads better).
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")
