"""Analysis of inbound messages: language, sentiment, intent and urgency (docs/nlp.md).

The inbox ingestion calls `analyse_many` once per batch; nothing here touches the database, so
it runs (and is tested) without Django models.
"""

from tertulia.nlp.analysis import analyse, analyse_many
from tertulia.nlp.result import Analysis, Intent, Sentiment, Urgency

__all__ = ["Analysis", "Intent", "Sentiment", "Urgency", "analyse", "analyse_many"]
