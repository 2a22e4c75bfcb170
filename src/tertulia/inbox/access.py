"""Which conversations a person may work: those of channels they may operate, in their organization.

Views and API endpoints fetch conversations only through here, so another organization's
conversation (or one of a channel the person was not granted) is simply not found.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import Http404

from tertulia.core.models import Brand, Channel, Organization, User
from tertulia.core.permissions import operable_channels
from tertulia.inbox.models import Conversation, Message


def brand_operable_channels(user: User, brand: Brand) -> list[Channel]:
    channels = list(Channel.objects.filter(brand=brand).order_by("network", "handle"))
    return operable_channels(user, brand.organization, channels)


def get_conversation(user: User, organization: Organization, pk: int) -> Conversation:
    conversation = (
        Conversation.objects.filter(organization=organization, pk=pk)
        .select_related("channel", "brand", "assignee", "contact")
        .first()
    )
    if conversation is None or not operable_channels(user, organization, [conversation.channel]):
        raise Http404
    return conversation


def get_conversations(user: User, organization: Organization, pks: Sequence[int]) -> list[Conversation]:
    """The ones among `pks` the person may work (others are silently left out)."""
    found = list(
        Conversation.objects.filter(organization=organization, pk__in=list(pks)[:500]).select_related(
            "channel", "brand"
        )
    )
    allowed = {c.pk for c in operable_channels(user, organization, list({c.channel for c in found}))}
    return [c for c in found if c.channel_id in allowed]


def get_message(user: User, organization: Organization, pk: int) -> Message:
    message = Message.objects.filter(organization=organization, pk=pk).select_related("conversation").first()
    if message is None:
        raise Http404
    get_conversation(user, organization, message.conversation_id)
    return message
