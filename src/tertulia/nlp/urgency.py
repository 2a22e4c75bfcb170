"""How soon someone should look, from the text alone (the inbox adds the author's reach later).

CRITICAL: health, safety or legal words (an intoxication, an allergy, a lawyer, a data leak) in
anything but praise, a question or spam; in praise or a question they make it HIGH.
HIGH: a complaint with strong feeling (clearly negative, swearing, shouting, "!!", "nooooo") or
saying it cannot wait or will go public; a question that says it is urgent.
NORMAL: other complaints and questions, and abuse (a moderator decides, but nobody is waiting).
LOW: praise, spam, everything else.
"""

from __future__ import annotations

from tertulia.nlp.lexicon import Cue
from tertulia.nlp.normalize import Normalized
from tertulia.nlp.result import Intent, Urgency

STRONGLY_NEGATIVE = -0.6


def _heated(text: Normalized, cues: dict[Cue, int], sentiment_score: float) -> bool:
    return (
        sentiment_score <= STRONGLY_NEGATIVE
        or Cue.PROFANITY in cues
        or Cue.INSULT in cues
        or text.shouting
        or text.exclamations >= 2
        or text.elongated
    )


def classify(text: Normalized, intent: Intent, cues: dict[Cue, int], sentiment_score: float) -> Urgency:
    if intent is Intent.SPAM:
        return Urgency.LOW
    if Cue.CRITICAL in cues:
        # A question about allergens, or thanks from a parent whose allergic child could eat the
        # cake, is not an incident; but a person should read it soon, not whenever.
        return Urgency.HIGH if intent in (Intent.QUESTION, Intent.PRAISE) else Urgency.CRITICAL
    if intent is Intent.PRAISE:
        return Urgency.LOW
    if intent is Intent.COMPLAINT:
        heated = _heated(text, cues, sentiment_score)
        return Urgency.HIGH if heated or Cue.URGENT in cues else Urgency.NORMAL
    if intent is Intent.QUESTION:
        return Urgency.HIGH if Cue.URGENT in cues else Urgency.NORMAL
    if intent is Intent.ABUSE:
        return Urgency.NORMAL
    return Urgency.LOW
