"""Request and response shapes of the inbox endpoints (tertulia.api.routers.inbox)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from tertulia.api.schemas import Input, Moment, Text, UserId
from tertulia.inbox.actions.bulk import BULK_ACTIONS
from tertulia.inbox.actions.notes import MAX_NOTE
from tertulia.inbox.actions.replies import MAX_REPLY
from tertulia.inbox.models import Conversation, Message, Note, Status
from tertulia.inbox.selectors import thread


class ConversationOut(Schema):
    id: int
    brand_id: int
    channel_id: int
    kind: str
    status: str
    snoozed_until: datetime | None
    contact_id: int | None
    assignee_id: int | None
    preview: str
    intent: str
    sentiment: str
    urgency: int
    language: str
    message_count: int
    last_message_at: datetime
    awaiting_since: datetime | None = Field(None, description="The oldest customer message not answered yet.")
    due_at: datetime | None = Field(
        None, description="When the answer is due (the SLA clock); null when paused."
    )
    first_response_at: datetime | None
    sla_warned_at: datetime | None
    sla_breached_at: datetime | None
    escalated_at: datetime | None
    escalation_reason: str
    tags: list[str]

    @staticmethod
    def resolve_tags(obj: Conversation) -> list[str]:
        return sorted(t.name for t in obj.tags.all())


class ConversationPageOut(Schema):
    items: list[ConversationOut]
    next_cursor: str | None = Field(None, description="Pass as `after` for the next page; null on the last.")


class MessageOut(Schema):
    id: int
    remote_id: str
    direction: str
    kind: str
    author_handle: str
    author_name: str
    author_followers: int
    text: str
    url: str
    sent_at: datetime
    language: str
    sentiment: str
    intent: str
    urgency: int
    is_hidden: bool
    is_deleted: bool
    delivery: str
    delivery_error: str
    sent_by_id: int | None


class NoteOut(Schema):
    id: int
    author_id: int | None
    text: str
    mention_ids: list[int]
    created_at: datetime

    @staticmethod
    def resolve_mention_ids(obj: Note) -> list[int]:
        return sorted(u.pk for u in obj.mentions.all())


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut] = Field(..., description="The newest 500, oldest first.")
    notes: list[NoteOut]

    @staticmethod
    def resolve_messages(obj: Conversation) -> list[Message]:
        return thread(obj)

    @staticmethod
    def resolve_notes(obj: Conversation) -> list[Note]:
        return list(obj.notes.prefetch_related("mentions"))


class ConversationPatch(Input):
    status: Status | None = None
    snoozed_until: Moment | None = Field(None, description="Required with status `snoozed`.")
    assignee_id: UserId | None = Field(
        None, description="A member who may operate the channel; null unassigns."
    )
    unassign: bool = Field(False, description="Set to true to leave the conversation unassigned.")


class TagsIn(Input):
    add: list[Text] = Field(default_factory=list, max_length=20)
    remove: list[Text] = Field(default_factory=list, max_length=20)


class NoteIn(Input):
    text: Text = Field(..., min_length=1, max_length=MAX_NOTE)


class ReplyIn(Input):
    text: Text = Field(..., min_length=1, max_length=MAX_REPLY)
    idempotency_key: Text = Field(
        "", max_length=64, description="Send the same key again (a retry) and the first reply is returned."
    )


class EscalationIn(Input):
    reason: Text = Field("", max_length=255)


class BulkIn(Input):
    ids: list[int] = Field(..., min_length=1, max_length=500)
    action: str = Field(..., description=f"One of: {', '.join(BULK_ACTIONS)}.")
    assignee_id: UserId | None = None
    tag: Text = Field("", max_length=50)


class BulkOut(Schema):
    done: int
    refused: list[dict[str, str | int]]


class NotificationOut(Schema):
    id: int
    kind: str
    conversation_id: int | None
    text: str
    url: str = Field("", description="Where to look, a path inside Tertulia, when not a conversation.")
    created_at: datetime
    read_at: datetime | None


class AvailabilityIn(Input):
    available: bool
    capacity: int | None = Field(
        None, ge=0, le=10_000, description="Open conversations at once; 0: no limit."
    )


class AvailabilityOut(Schema):
    available: bool
    capacity: int
