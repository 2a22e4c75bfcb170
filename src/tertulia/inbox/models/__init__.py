from tertulia.inbox.models.conversation import Conversation, Intent, Kind, Sentiment, Status, Urgency
from tertulia.inbox.models.cursor import ChannelCursor
from tertulia.inbox.models.message import Delivery, Direction, Message
from tertulia.inbox.models.message import Kind as MessageKind
from tertulia.inbox.models.sla import ResponseTarget, SlaPolicy

__all__ = [
    "ChannelCursor",
    "Conversation",
    "Delivery",
    "Direction",
    "Intent",
    "Kind",
    "Message",
    "MessageKind",
    "ResponseTarget",
    "Sentiment",
    "SlaPolicy",
    "Status",
    "Urgency",
]
