"""The inbox: conversations, their messages and notes, and everything the web inbox can do to them.

Only conversations of channels the token's owner may operate are ever visible; any other id is a 404.
The conversation list is paginated by cursor (`after`), not offset: it changes while it is read.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.inbox_schemas import (
    AvailabilityIn,
    AvailabilityOut,
    BulkIn,
    BulkOut,
    ConversationDetailOut,
    ConversationOut,
    ConversationPageOut,
    ConversationPatch,
    EscalationIn,
    MessageOut,
    NoteIn,
    NoteOut,
    NotificationOut,
    ReplyIn,
    TagsIn,
)
from tertulia.api.schemas import ObjectId, Text
from tertulia.api.scopes import Scope
from tertulia.core.models import Membership, User
from tertulia.inbox import selectors
from tertulia.inbox.access import brand_operable_channels, get_conversation, get_conversations, get_message
from tertulia.inbox.actions import assignment, escalation, notes, replies, status, tags
from tertulia.inbox.actions.bulk import bulk
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.models import (
    AgentStatus,
    Conversation,
    Intent,
    Kind,
    Message,
    Note,
    Notification,
    Sentiment,
)
from tertulia.inbox.models import Status as ConversationStatus
from tertulia.inbox.notifications import notifications_of

router = Router(tags=["inbox"])


class ConversationFilter(Schema):
    status: list[ConversationStatus] = Field(
        default_factory=lambda: [ConversationStatus.OPEN], description="Repeat for several; empty list: any."
    )
    any_status: bool = Field(False, description="Every status (overrides `status`).")
    assignee: Text = Field("", max_length=20, description="`me`, `none`, or a user id.")
    channel_id: int | None = Field(None, ge=1)
    kind: Kind | None = None
    intent: Intent | None = None
    sentiment: Sentiment | None = None
    language: Text = Field("", max_length=8)
    tag: Text = Field("", max_length=50)
    min_urgency: int | None = Field(None, ge=0, le=3)
    due: Text = Field("", max_length=10, description="`soon` (warned) or `breached`.")
    escalated: bool | None = None
    contact_id: int | None = Field(None, ge=1)
    q: Text = Field("", max_length=200, description="Full-text search over messages and handles.")
    after: Text = Field("", max_length=100, description="The `next_cursor` of the previous page.")
    limit: int = Field(selectors.PAGE, ge=1, le=selectors.MAX_PAGE)


def _refused(refusal: ActionRefused) -> ApiError:
    return ApiError(422, str(refusal), "refused")


def _conversation(
    request: HttpRequest, scope: Scope, conversation_id: int
) -> tuple[ApiContext, Conversation]:
    ctx = require(request, scope)
    return ctx, get_conversation(ctx.user, ctx.organization, conversation_id)


@router.get(
    "/brands/{brand_id}/conversations",
    response=ConversationPageOut,
    summary="List and search a brand's inbox",
)
def list_conversations(
    request: HttpRequest, brand_id: ObjectId, filters: Query[ConversationFilter]
) -> dict[str, Any]:
    ctx = require(request, Scope.INBOX_READ)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    query = selectors.ConversationQuery(
        statuses=() if filters.any_status else tuple(filters.status),
        assignee=filters.assignee,
        channel_id=filters.channel_id,
        kind=filters.kind or "",
        intent=filters.intent or "",
        sentiment=filters.sentiment or "",
        language=filters.language.lower(),
        tag=filters.tag.casefold(),
        min_urgency=filters.min_urgency,
        due=filters.due,
        escalated=filters.escalated,
        contact_id=filters.contact_id,
        q=filters.q,
    )
    try:
        page = selectors.conversation_page(
            brand,
            brand_operable_channels(ctx.user, brand),
            ctx.user,
            query,
            filters.after or None,
            filters.limit,
        )
    except selectors.BadCursor:
        raise ApiError(422, "`after` is not a cursor this API gave out.", "bad_cursor") from None
    return {"items": page.items, "next_cursor": page.next_cursor}


# Before /conversations/{conversation_id}: the first pattern that matches a path takes it.
@router.post("/conversations/bulk", response=BulkOut, summary="One action on many conversations")
def bulk_action(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    ctx = require(request, Scope.INBOX_WRITE)
    chosen = get_conversations(ctx.user, ctx.organization, payload.ids)
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(
            pk=payload.assignee_id, memberships__organization=ctx.organization
        ).first()
    try:
        result = bulk(ctx.actor(request), chosen, payload.action, assignee=assignee, tag=payload.tag)
    except ActionRefused as refusal:
        raise _refused(refusal) from None
    missing = sorted(set(payload.ids) - {c.pk for c in chosen})
    refused = [{"id": pk, "reason": why} for pk, why in result.refused]
    refused += [{"id": pk, "reason": "not found"} for pk in missing]
    return {"done": result.done, "refused": refused}


@router.get(
    "/conversations/{conversation_id}",
    response=ConversationDetailOut,
    summary="One conversation, with its messages and notes",
)
def get_one(request: HttpRequest, conversation_id: ObjectId) -> Conversation:
    _ctx, conversation = _conversation(request, Scope.INBOX_READ, conversation_id)
    return conversation


@router.patch(
    "/conversations/{conversation_id}", response=ConversationOut, summary="Change status or assignee"
)
def update_conversation(
    request: HttpRequest, conversation_id: ObjectId, payload: ConversationPatch
) -> Conversation:
    ctx, conversation = _conversation(request, Scope.INBOX_WRITE, conversation_id)
    actor = ctx.actor(request)
    try:
        if payload.unassign or payload.assignee_id is not None:
            assignee = None
            if payload.assignee_id is not None:
                assignee = User.objects.filter(
                    pk=payload.assignee_id,
                    memberships__organization=ctx.organization,
                    memberships__is_active=True,
                ).first()
                if assignee is None:
                    raise ApiError(
                        422, "That person is not an active member of this organization.", "unknown_member"
                    )
            assignment.assign(actor, conversation, assignee)
        if payload.status is not None:
            status.set_status(actor, conversation, payload.status, payload.snoozed_until)
    except ActionRefused as refusal:
        raise _refused(refusal) from None
    return get_conversation(ctx.user, ctx.organization, conversation.pk)


@router.post("/conversations/{conversation_id}/tags", response=ConversationOut, summary="Add and remove tags")
def change_tags(request: HttpRequest, conversation_id: ObjectId, payload: TagsIn) -> Conversation:
    ctx, conversation = _conversation(request, Scope.INBOX_WRITE, conversation_id)
    try:
        tags.change_tags(ctx.actor(request), conversation, add=payload.add, remove=payload.remove)
    except ActionRefused as refusal:
        raise _refused(refusal) from None
    return conversation


@router.post(
    "/conversations/{conversation_id}/notes", response={201: NoteOut}, summary="Add an internal note"
)
def add_note(request: HttpRequest, conversation_id: ObjectId, payload: NoteIn) -> Status[Note]:
    ctx, conversation = _conversation(request, Scope.INBOX_WRITE, conversation_id)
    try:
        return Status(201, notes.add_note(ctx.actor(request), conversation, payload.text))
    except ActionRefused as refusal:
        raise _refused(refusal) from None


@router.post(
    "/conversations/{conversation_id}/replies",
    response={202: MessageOut},
    summary="Answer through the channel, in the conversation's thread",
    description=(
        "The reply is stored and delivered in the background: `delivery` goes from `sending` to "
        "`sent` (or `failed`, with `delivery_error`). The same `idempotency_key` returns the first "
        "reply, never a second."
    ),
)
def reply(request: HttpRequest, conversation_id: ObjectId, payload: ReplyIn) -> Status[Message]:
    ctx, conversation = _conversation(request, Scope.INBOX_WRITE, conversation_id)
    try:
        message = replies.send_reply(
            ctx.actor(request), conversation, payload.text, idempotency_key=payload.idempotency_key
        )
    except ActionRefused as refusal:
        raise _refused(refusal) from None
    message.refresh_from_db()
    return Status(202, message)


@router.post("/messages/{message_id}/retry", response={202: MessageOut}, summary="Send a failed reply again")
def retry(request: HttpRequest, message_id: ObjectId) -> Status[Message]:
    ctx = require(request, Scope.INBOX_WRITE)
    message = get_message(ctx.user, ctx.organization, message_id)
    try:
        message = replies.retry_reply(ctx.actor(request), message)
    except ActionRefused as refusal:
        raise _refused(refusal) from None
    message.refresh_from_db()
    return Status(202, message)


@router.post("/conversations/{conversation_id}/escalation", response=ConversationOut, summary="Escalate")
def escalate(request: HttpRequest, conversation_id: ObjectId, payload: EscalationIn) -> Conversation:
    ctx, conversation = _conversation(request, Scope.INBOX_WRITE, conversation_id)
    return escalation.escalate(
        ctx.actor(request), conversation, payload.reason or "Escalated through the API"
    )


@router.delete(
    "/conversations/{conversation_id}/escalation", response=ConversationOut, summary="Resolve an escalation"
)
def resolve(request: HttpRequest, conversation_id: ObjectId) -> Conversation:
    ctx, conversation = _conversation(request, Scope.INBOX_WRITE, conversation_id)
    return escalation.resolve_escalation(ctx.actor(request), conversation)


@router.get("/availability", response=AvailabilityOut, summary="Whether you take new conversations")
def get_availability(request: HttpRequest) -> AgentStatus:
    ctx = require(request, Scope.INBOX_READ)
    return assignment.availability_of(_membership(ctx))


@router.put("/availability", response=AvailabilityOut, summary="Take new conversations, or be away")
def set_availability(request: HttpRequest, payload: AvailabilityIn) -> AgentStatus:
    ctx = require(request, Scope.INBOX_WRITE)
    return assignment.set_availability(
        ctx.actor(request), _membership(ctx), available=payload.available, capacity=payload.capacity
    )


def _membership(ctx: ApiContext) -> Membership:
    return Membership.objects.get(organization=ctx.organization, user=ctx.user, is_active=True)


@router.get("/notifications", response=list[NotificationOut], summary="Your newest notifications")
def list_notifications(request: HttpRequest, unread: bool = False) -> list[Notification]:
    ctx = require(request, Scope.INBOX_READ)
    mine = notifications_of(ctx.user, ctx.organization)
    if unread:
        mine = mine.filter(read_at__isnull=True)
    return list(mine[:100])


@router.post("/notifications/read", response={204: None}, summary="Mark all your notifications as read")
def read_notifications(request: HttpRequest) -> Status[None]:
    ctx = require(request, Scope.INBOX_READ)
    Notification.objects.filter(user=ctx.user, organization=ctx.organization, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return Status(204, None)
