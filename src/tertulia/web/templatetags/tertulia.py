from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.utils import timezone

from tertulia.core.models import User
from tertulia.inbox.models import Conversation
from tertulia.web.labels import capability_label as label_of

register = template.Library()


@register.filter
def capability_label(value: str) -> str:
    return str(label_of(value))


@register.inclusion_tag("web/partials/sla_timer.html")
def sla_timer(conversation: Conversation) -> dict[str, object]:
    """The answer-by clock of a conversation, as the list and the conversation show it."""
    now = timezone.now()
    due = conversation.due_at
    if due is None:
        state = (
            "paused"
            if conversation.status in ("pending", "snoozed") and conversation.awaiting_since
            else "none"
        )
        return {"state": state, "due": None}
    left = due - now
    if left.total_seconds() <= 0:
        state = "overdue"
    elif conversation.sla_warned_at is not None or left.total_seconds() <= 3600:
        state = "soon"
    else:
        state = "ok"
    return {"state": state, "due": due, "minutes": abs(int(left.total_seconds() // 60))}


@register.filter
def web_url(value: object) -> str:
    """The address for a link, only when it is http(s): what networks, feeds and people give may be
    javascript: or data: (escaping alone does not stop those in href). Anything else links nowhere."""
    url = str(value or "")
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.hostname else ""


@register.filter
def initials(user: User | None) -> str:
    if user is None:
        return ""
    name = user.display_name or user.email
    parts = [p for p in name.replace("@", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper()
