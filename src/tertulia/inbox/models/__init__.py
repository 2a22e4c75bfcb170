from tertulia.inbox.models.conversation import Conversation, Intent, Kind, Sentiment, Status, Urgency
from tertulia.inbox.models.cursor import ChannelCursor
from tertulia.inbox.models.message import Delivery, Direction, Message
from tertulia.inbox.models.message import Kind as MessageKind
from tertulia.inbox.models.sla import ResponseTarget, SlaPolicy
from tertulia.inbox.models.work import (
    AgentStatus,
    Assignment,
    InboxSettings,
    Note,
    Notification,
    NotificationKind,
    SavedReply,
    Tag,
)

__all__ = [
    "AgentStatus",
    "Assignment",
    "ChannelCursor",
    "Conversation",
    "Delivery",
    "Direction",
    "InboxSettings",
    "Intent",
    "Kind",
    "Message",
    "MessageKind",
    "Note",
    "Notification",
    "NotificationKind",
    "ResponseTarget",
    "SavedReply",
    "Sentiment",
    "SlaPolicy",
    "Status",
    "Tag",
    "Urgency",
]
