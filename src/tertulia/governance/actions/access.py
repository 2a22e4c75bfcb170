"""Channel grants as invitations give them, and grants and brand access as offboarding takes them
away (setting a member's brands is `tertulia.core.actions.grants.set_brand_access`).

Each change is audited with the entries the rest of Tertulia writes for the same change
(`member.brands`, `channel.operators`), so a channel's history reads the same whoever changed it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, BrandAccess, Channel, ChannelOperator, Membership
from tertulia.live.publish import notify_organization


@transaction.atomic
def grant_channels(actor: Actor, member: Membership, channels: Iterable[Channel]) -> list[Channel]:
    """Let the member operate `channels` (of their organization); returns the ones newly granted."""
    granted = []
    for channel in channels:
        if channel.organization_id != member.organization_id:
            continue
        _grant, created = ChannelOperator.objects.get_or_create(channel=channel, user_id=member.user_id)
        if created:
            granted.append(channel)
            record(
                actor,
                member.organization,
                "channel.operators",
                channel,
                {"added": [None, [member.user.email]], "removed": [[], None]},
            )
    if granted:
        notify_organization(member.organization_id, "channels")
    return granted


@transaction.atomic
def remove_channel_grants(actor: Actor, member: Membership) -> list[Channel]:
    """Take away every channel grant the member has in their organization; returns those channels."""
    grants = list(
        ChannelOperator.objects.filter(
            channel__organization_id=member.organization_id, user_id=member.user_id
        )
        .select_related("channel")
        .order_by("channel__handle", "channel_id")
    )
    ChannelOperator.objects.filter(pk__in=[g.pk for g in grants]).delete()
    for grant in grants:
        record(
            actor,
            member.organization,
            "channel.operators",
            grant.channel,
            {"added": [None, []], "removed": [[member.user.email], None]},
        )
    if grants:
        notify_organization(member.organization_id, "channels")
    return [grant.channel for grant in grants]


@transaction.atomic
def remove_brand_access(actor: Actor, member: Membership) -> list[Brand]:
    """Take away the member's brand list (a member limited to some brands then has none)."""
    rows = list(BrandAccess.objects.filter(membership=member).select_related("brand").order_by("brand__name"))
    BrandAccess.objects.filter(pk__in=[row.pk for row in rows]).delete()
    if rows:
        record(
            actor,
            member.organization,
            "member.brands",
            member,
            {"brands": [sorted(row.brand.name for row in rows), []]},
        )
    return [row.brand for row in rows]
