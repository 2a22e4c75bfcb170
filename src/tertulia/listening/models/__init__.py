from tertulia.listening.models.alerts import AlertEvent, AlertKind, QueryAlert
from tertulia.listening.models.mentions import Mention, QueryMatch
from tertulia.listening.models.queries import ListeningQuery, QueryGroup
from tertulia.listening.models.sources import FirehoseState, ListeningSource, SourceKind

__all__ = [
    "AlertEvent",
    "AlertKind",
    "FirehoseState",
    "ListeningQuery",
    "ListeningSource",
    "Mention",
    "QueryAlert",
    "QueryGroup",
    "QueryMatch",
    "SourceKind",
]
