"""Internal notes: a word to teammates on a conversation. @mentions notify the people named."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, User
from tertulia.core.permissions import may_operate_channel
from tertulia.core.text import fold
from tertulia.inbox.actions.common import ActionRefused, audit, changed
from tertulia.inbox.models import Conversation, Note, NotificationKind
from tertulia.inbox.notifications import notify

MAX_NOTE = 5000
MENTION = re.compile(r"(?<![\w@.])@([\w.+-]+)", re.UNICODE)


def mention_keys(user: User) -> set[str]:
    """How a teammate can be @mentioned: the e-mail's local part, or their first name (accents optional)."""
    keys = {fold(user.email.split("@", 1)[0])}
    if user.display_name.strip():
        keys.add(fold(user.display_name.split()[0]))
    return keys


def mentioned(text: str, organization_id: int) -> list[User]:
    """The organization's active members @mentioned in `text`; a name shared by two people is ambiguous
    and mentions nobody (better silent than notifying the wrong person)."""
    words = {fold(m.rstrip(".")) for m in MENTION.findall(text)}
    if not words:
        return []
    members = [
        m.user
        for m in Membership.objects.filter(organization_id=organization_id, is_active=True).select_related(
            "user"
        )
    ]
    owners: dict[str, list[User]] = {}
    for user in members:
        for key in mention_keys(user):
            owners.setdefault(key, []).append(user)
    return [owners[w][0] for w in sorted(words) if len(owners.get(w, [])) == 1]


@transaction.atomic
def add_note(actor: Actor, conversation: Conversation, text: str) -> Note:
    if not text.strip():
        raise ActionRefused(_("A note cannot be empty."))
    if len(text) > MAX_NOTE:
        raise ActionRefused(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
    note = Note.objects.create(conversation=conversation, author=actor.user, text=text)
    # Only people who can open the conversation are told about it.
    people = [
        u
        for u in mentioned(text, conversation.organization_id)
        if may_operate_channel(u, conversation.channel)
    ]
    note.mentions.set(people)
    notify(people, NotificationKind.MENTION, conversation, text[:200], skip=actor.user)
    audit(
        actor,
        conversation,
        "conversation.note",
        {"note": [None, note.pk], "mentions": [None, [u.pk for u in people]]},
    )
    changed(conversation)
    return note
