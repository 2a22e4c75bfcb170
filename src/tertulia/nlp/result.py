"""What the analysis says about one message: the values the inbox stores and routes on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Intent(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    PRAISE = "praise"
    SPAM = "spam"
    ABUSE = "abuse"
    OTHER = "other"


class Urgency(IntEnum):
    LOW = 0
    NORMAL = 1
    HIGH = 2
    CRITICAL = 3


@dataclass(frozen=True, slots=True)
class Analysis:
    language: str  # ISO 639-1 ("es", "en", ...) or "" when unsure
    sentiment: Sentiment
    sentiment_score: float  # -1.0 (negative) .. 1.0 (positive)
    intent: Intent
    urgency: Urgency  # from the text alone (the inbox adds author reach later)
