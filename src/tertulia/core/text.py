"""Comparing what people type as a person reads it: "Lucía" is "lucia", "envío" is "envio", and
zero-width characters slipped in (to dodge a filter, or by a copy and paste) change nothing."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case, accents and invisible format characters removed, whitespace runs made one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    )
    return " ".join(kept.casefold().split())
