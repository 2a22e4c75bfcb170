"""Tags: the organization's shared labels, put on conversations by people and by rules."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.inbox.actions.common import ActionRefused, audit, changed
from tertulia.inbox.models import Conversation, Tag

MAX_TAG = 50
MAX_TAGS = 20


def clean_tag(name: str) -> str:
    """One visible label: NFC, no control or zero-width characters, spaces collapsed, lower case."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    text = " ".join(text.split()).casefold()
    if not text:
        raise ActionRefused(_("A tag needs at least one visible character."))
    if len(text) > MAX_TAG:
        raise ActionRefused(_("A tag has at most %(n)d characters.") % {"n": MAX_TAG})
    return text


def tags_named(organization_id: int, names: Iterable[str]) -> list[Tag]:
    """The organization's tags with these names, created where missing."""
    wanted = sorted({clean_tag(n) for n in names})
    if len(wanted) > MAX_TAGS:
        raise ActionRefused(_("At most %(n)d tags at once.") % {"n": MAX_TAGS})
    found = {t.name: t for t in Tag.objects.filter(organization_id=organization_id, name__in=wanted)}
    for name in wanted:
        if name not in found:
            found[name], _created = Tag.objects.get_or_create(organization_id=organization_id, name=name)
    return [found[n] for n in wanted]


@transaction.atomic
def change_tags(
    actor: Actor, conversation: Conversation, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> list[str]:
    """Add and remove tags; returns the conversation's tag names afterwards."""
    before = set(conversation.tags.values_list("name", flat=True))
    adding = tags_named(conversation.organization_id, add)
    removing = {clean_tag(n) for n in remove}
    if len(before | {t.name for t in adding}) > MAX_TAGS:
        raise ActionRefused(_("A conversation has at most %(n)d tags.") % {"n": MAX_TAGS})
    conversation.tags.add(*adding)
    if removing:
        conversation.tags.remove(
            *Tag.objects.filter(organization_id=conversation.organization_id, name__in=removing)
        )
    after = set(conversation.tags.values_list("name", flat=True))
    if after != before:
        audit(actor, conversation, "conversation.tags", {"tags": [sorted(before), sorted(after)]})
        changed(conversation)
    return sorted(after)
