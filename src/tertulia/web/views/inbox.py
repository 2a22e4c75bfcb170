"""The inbox: the conversation list and one conversation, worked live. Thin: business rules are in
tertulia.inbox.actions, reading in tertulia.inbox.selectors, access in tertulia.inbox.access."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, Membership, User
from tertulia.core.permissions import Perm, operable_channels
from tertulia.inbox import presence, saved_replies, selectors
from tertulia.inbox.access import brand_operable_channels, get_conversation, get_conversations, get_message
from tertulia.inbox.actions import assignment, escalation, notes, replies, status, tags
from tertulia.inbox.actions.bulk import bulk
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.models import Conversation, Delivery, Direction, Kind, Message, Status
from tertulia.inbox.notifications import notifications_of
from tertulia.inbox.profiles import ContactProfile, contact_profile
from tertulia.web.forms_conversations import (
    SNOOZE_CHOICES,
    AvailabilityForm,
    BulkForm,
    InboxFilterForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    snooze_until,
)
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

# Shown at once; the others wait under "More filters" (opened when one of them is in use).
MAIN_FILTERS = ("status", "assignee", "channel", "intent")
MORE_FILTERS = ("kind", "sentiment", "language", "tag", "due", "escalated")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _filters(request: HttpRequest, channels: list[Channel]) -> InboxFilterForm:
    return InboxFilterForm(
        request.GET or None, channels=[(c.pk, f"@{c.handle} · {c.network}") for c in channels]
    )


def _page(request: HttpRequest, tenant: Tenant) -> dict[str, Any]:
    user = signed_in_user(request)
    brand_channels = (
        list(Channel.objects.filter(brand=tenant.brand).order_by("network", "handle")) if tenant.brand else []
    )
    channels = operable_channels(user, tenant.organization, brand_channels) if tenant.organization else []
    form = _filters(request, channels)
    page = (
        selectors.conversation_page(
            tenant.brand, channels, user, form.query(), cursor=request.GET.get("after") or None
        )
        if tenant.brand
        else selectors.ConversationPage([], None)
    )
    query = request.GET.copy()
    query.pop("after", None)
    return {
        "form": form,
        "main_filters": MAIN_FILTERS,
        "more_filters_used": any(request.GET.get(name) for name in MORE_FILTERS),
        "page": page,
        "channels": channels,
        "unreadable": selectors.unreadable(channels),
        "hidden_channels": len(brand_channels) - len(channels),
        "filter_query": query.urlencode(),
        "assignable": _assignable(tenant),
        "availability": assignment.availability_of(tenant.membership) if tenant.membership else None,
        "next_url": f"{reverse('web:inbox-list')}?{_with(query, 'after', page.next_cursor)}"
        if page.next_cursor
        else "",
    }


def _with(query: QueryDict, key: str, value: str | None) -> str:
    copy = query.copy()
    copy[key] = value or ""
    return copy.urlencode()


def _assignable(tenant: Tenant) -> list[User]:
    if tenant.organization is None:
        return []
    return [
        m.user
        for m in Membership.objects.filter(
            organization=tenant.organization, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__display_name", "user__email")
    ]


@section("inbox")
@require_GET
def inbox(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    context = _page(request, tenant)
    return render(request, "web/inbox.html", {"section": "inbox", **context})


@section("inbox")
@require_GET
def inbox_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The list alone (filters changed, the next page, or a live refresh)."""
    template = (
        "web/partials/conversation_rows.html"
        if request.GET.get("after")
        else "web/partials/conversation_list.html"
    )
    return render(request, template, _page(request, tenant))


def _saved_replies(conversation: Conversation, user: User) -> list[dict[str, str]]:
    """The brand's saved replies in the conversation's language, filled in for this person and customer;
    what is pinned for now (a crisis's holding statements) comes first, marked."""
    pinned = [
        {
            "shortcut": p.shortcut,
            "title": p.title,
            "language": p.language,
            "text": saved_replies.render(p.body, conversation, user),
            "pinned": p.label,
        }
        for p in saved_replies.pinned_for(conversation)
    ]
    return pinned + [
        {
            "shortcut": r.shortcut,
            "title": r.title,
            "language": r.language,
            "text": saved_replies.render(r.body, conversation, user),
            "pinned": "",
        }
        for r in saved_replies.for_conversation(conversation)
    ]


def _profile(tenant: Tenant, conversation: Conversation, user: User) -> ContactProfile | None:
    """Who the person is: the conversation's customer, or under a post, whoever commented last."""
    if not tenant.can(Perm.VIEW_CONTACTS):
        return None
    contact = conversation.contact
    if conversation.kind == Kind.THREAD:
        latest = (
            Message.objects.filter(
                conversation=conversation, direction=Direction.INBOUND, author__isnull=False
            )
            .select_related("author__contact")
            .order_by("-sent_at", "-id")
            .first()
        )
        contact = latest.author.contact if latest is not None and latest.author is not None else contact
    if contact is None:
        return None
    channels = brand_operable_channels(user, conversation.brand)
    return contact_profile(contact, conversation.brand, channels=channels)


def _conversation_context(request: HttpRequest, tenant: Tenant, conversation: Conversation) -> dict[str, Any]:
    user = signed_in_user(request)
    return {
        "conversation": conversation,
        "thread": selectors.thread(conversation),
        "notes": list(conversation.notes.select_related("author").prefetch_related("mentions")),
        "tags": list(conversation.tags.all()),
        "others": presence.others(conversation.pk, user),
        "can_reply": replies.can_reply(conversation),
        "statuses": Status,
        "snooze_choices": SNOOZE_CHOICES,
        "heartbeat_seconds": presence.HEARTBEAT_SECONDS,
        "inbound": Direction.INBOUND,
        "assignable": _assignable(tenant),
    }


def _pane_context(request: HttpRequest, tenant: Tenant, conversation: Conversation) -> dict[str, Any]:
    """The live part plus what only the whole pane shows: the composer and the contact card."""
    user = signed_in_user(request)
    choices = _saved_replies(conversation, user)
    wanted = request.GET.get("reply", "")
    return {
        **_conversation_context(request, tenant, conversation),
        "reply_form": ReplyForm(initial={"idempotency_key": uuid.uuid4().hex}),
        "saved_replies": choices,
        "reply_text": next((c["text"] for c in choices if c["shortcut"] == wanted), ""),
        "profile": _profile(tenant, conversation, user),
    }


@section("inbox")
@require_GET
def conversation(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    user = signed_in_user(request)
    assert tenant.organization is not None
    item = get_conversation(user, tenant.organization, conversation_id)
    presence.mark(tenant.organization.pk, item.pk, user, presence.VIEWING)
    context = {**_pane_context(request, tenant, item), "section": "inbox"}
    if _is_htmx(request):
        return render(request, "web/partials/conversation_pane.html", context)
    return render(request, "web/conversation.html", context)


@section("inbox")
@require_GET
def conversation_thread(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    """The parts that change while a person works (live refresh): header, thread, notes, who else is here."""
    user = signed_in_user(request)
    assert tenant.organization is not None
    item = get_conversation(user, tenant.organization, conversation_id)
    return render(
        request, "web/partials/conversation_live.html", _conversation_context(request, tenant, item)
    )


@section("inbox", write=Perm.VIEW)
@require_POST
def conversation_presence(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    """The page's heartbeat: "I am here" (viewing or typing), or "I left"; answers who else is."""
    user = signed_in_user(request)
    assert tenant.organization is not None
    item = get_conversation(user, tenant.organization, conversation_id)
    state = request.POST.get("state", presence.VIEWING)
    if state == "left":
        presence.leave(tenant.organization.pk, item.pk, user)
    else:
        presence.mark(tenant.organization.pk, item.pk, user, state)
    return render(request, "web/partials/presence.html", {"others": presence.others(item.pk, user)})


def _done(
    request: HttpRequest, tenant: Tenant, item: Conversation, ok: str = "", error: str = ""
) -> HttpResponse:
    """After an action: HTMX swaps the refreshed pane in; without JavaScript, back to the page."""
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    if _is_htmx(request):
        context = _conversation_context(request, tenant, item)
        context["flash"] = error or ok
        context["flash_error"] = bool(error)
        list(messages.get_messages(request))  # shown in the pane instead; consume them
        response = render(request, "web/partials/conversation_live.html", context)
        if error:
            # Swapped in like any answer (the reason shows in the pane), but the page keeps what was typed.
            response["X-Tertulia-Refused"] = "1"
        return response
    return redirect("web:conversation", conversation_id=item.pk)


def _act(request: HttpRequest, tenant: Tenant, conversation_id: int) -> tuple[Actor, Conversation]:
    user = signed_in_user(request)
    assert tenant.organization is not None
    return Actor.from_request(request), get_conversation(user, tenant.organization, conversation_id)


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def conversation_status(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    actor, item = _act(request, tenant, conversation_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _done(request, tenant, item, error=_("Choose a status."))
    until = form.cleaned_data.get("until") or snooze_until(form.cleaned_data.get("snooze") or "")
    try:
        item = status.set_status(actor, item, form.cleaned_data["status"], until)
    except ActionRefused as refusal:
        return _done(request, tenant, item, error=str(refusal))
    return _done(request, tenant, item, ok=_("Status changed."))


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def conversation_assign(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    actor, item = _act(request, tenant, conversation_id)
    raw = request.POST.get("assignee", "")
    if raw == "me":
        assignee: User | None = signed_in_user(request)
    elif raw.isdigit():
        assignee = User.objects.filter(
            pk=int(raw), memberships__organization=tenant.organization, memberships__is_active=True
        ).first()
        if assignee is None:
            return _done(request, tenant, item, error=_("That person is not in this organization."))
    else:
        assignee = None
    try:
        assignment.assign(actor, item, assignee)
    except ActionRefused as refusal:
        return _done(request, tenant, item, error=str(refusal))
    return _done(
        request,
        tenant,
        get_conversation(signed_in_user(request), item.organization, item.pk),
        ok=_("Assignment saved."),
    )


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def conversation_tags(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    actor, item = _act(request, tenant, conversation_id)
    add = [t for t in request.POST.get("add", "").split(",") if t.strip()]
    remove = [t for t in request.POST.getlist("remove") if t.strip()]
    try:
        tags.change_tags(actor, item, add=add, remove=remove)
    except ActionRefused as refusal:
        return _done(request, tenant, item, error=str(refusal))
    return _done(request, tenant, item)


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def conversation_note(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    actor, item = _act(request, tenant, conversation_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _done(request, tenant, item, error=_("A note needs text (at most 5,000 characters)."))
    try:
        notes.add_note(actor, item, form.cleaned_data["text"])
    except ActionRefused as refusal:
        return _done(request, tenant, item, error=str(refusal))
    return _done(request, tenant, item, ok=_("Note added."))


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def conversation_reply(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    actor, item = _act(request, tenant, conversation_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _done(request, tenant, item, error=_("A reply needs text (at most 10,000 characters)."))
    try:
        sent = replies.send_reply(
            actor, item, form.cleaned_data["text"], idempotency_key=form.cleaned_data["idempotency_key"]
        )
        then = form.cleaned_data.get("then")
        if then:
            item = status.set_status(actor, item, then)
    except ActionRefused as refusal:
        return _done(request, tenant, item, error=str(refusal))
    presence.mark(item.organization_id, item.pk, signed_in_user(request), presence.VIEWING)
    if sent.delivery == Delivery.HELD:
        held = _("Held for review by the hijack guard: a second person must release it before it goes out.")
        return _done(request, tenant, item, ok=held)
    return _done(request, tenant, item, ok=_("Reply queued: it shows as sent once the network has it."))


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def message_retry(request: HttpRequest, tenant: Tenant, message_id: int) -> HttpResponse:
    user = signed_in_user(request)
    assert tenant.organization is not None
    message: Message = get_message(user, tenant.organization, message_id)
    try:
        replies.retry_reply(Actor.from_request(request), message)
    except ActionRefused as refusal:
        return _done(request, tenant, message.conversation, error=str(refusal))
    return _done(request, tenant, message.conversation, ok=_("Sending again."))


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def conversation_escalate(request: HttpRequest, tenant: Tenant, conversation_id: int) -> HttpResponse:
    actor, item = _act(request, tenant, conversation_id)
    if request.POST.get("resolve"):
        escalation.resolve_escalation(actor, item)
        return _done(request, tenant, item, ok=_("Escalation resolved."))
    reason = request.POST.get("reason", "").strip()[:255] or _("Escalated by hand")
    escalation.escalate(actor, item, reason)
    return _done(request, tenant, item, ok=_("Escalated."))


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def inbox_bulk(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    assert tenant.organization is not None
    data = request.POST.copy()
    data["ids"] = " ".join(request.POST.getlist("ids"))
    form = BulkForm(data)
    if not form.is_valid():
        messages.error(request, _("Choose at least one conversation and an action."))
        return redirect("web:inbox")
    chosen = get_conversations(user, tenant.organization, form.cleaned_data["ids"])
    assignee = None
    if form.cleaned_data.get("assignee"):
        assignee = User.objects.filter(
            pk=form.cleaned_data["assignee"], memberships__organization=tenant.organization
        ).first()
    try:
        result = bulk(
            Actor.from_request(request),
            chosen,
            form.cleaned_data["action"],
            assignee=assignee,
            tag=form.cleaned_data.get("tag") or "",
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("%(n)d conversations changed.") % {"n": result.done})
        for _pk, why in result.refused[:5]:
            messages.warning(request, why)
    back = request.POST.get("back", "")
    return redirect(
        f"{reverse('web:inbox')}?{back}" if back and not back.startswith(("/", "http")) else "web:inbox"
    )


@section("inbox", Perm.OPERATE_CHANNELS)
@require_POST
def inbox_availability(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Whether automatic assignment gives me new conversations, and how many I carry at once."""
    assert tenant.membership is not None
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Capacity must be between 0 (no limit) and 10000."))
    else:
        assignment.set_availability(
            Actor.from_request(request),
            tenant.membership,
            available=form.cleaned_data["available"],
            capacity=form.cleaned_data["capacity"],
        )
        messages.success(
            request,
            _("You take new conversations.")
            if form.cleaned_data["available"]
            else _("You are away: no new conversations."),
        )
    return redirect("web:inbox")


@section("inbox")
@require_GET
def notifications_badge(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    assert tenant.organization is not None
    count = notifications_of(user, tenant.organization).filter(read_at__isnull=True).count()
    return HttpResponse(str(count) if count else "")


@section("inbox", write=Perm.VIEW)
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    assert tenant.organization is not None
    mine = notifications_of(user, tenant.organization)
    if request.method == "POST":
        mine.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("web:notifications")
    return render(
        request,
        "web/notifications.html",
        {
            "section": "inbox",
            "notifications": mine.select_related("conversation")[:100],
        },
    )
