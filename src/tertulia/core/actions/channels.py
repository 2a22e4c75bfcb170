from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction

from tertulia.connectors.base import ConnectedAccount
from tertulia.connectors.registry import connector_class
from tertulia.core.actions.audit import apply_changes, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, ChannelOperator, ChannelStatus, Membership, User
from tertulia.live.publish import notify_organization


class ChannelTaken(ValueError):
    """The account is already connected, here or in another organization."""


class WrongAccount(ValueError):
    """Reconnecting signed in to a different account than the channel's."""


class NotAMember(ValueError):
    """Only active members of the channel's organization can operate it.

    The message carries user ids only: an e-mail address here could tell the
    caller about people in another organization.
    """


@transaction.atomic
def connect_channel(actor: Actor, brand: Brand, network: str, handle: str, display_name: str = "") -> Channel:
    """Connect an account that needs no sign-in flow (the sandbox; app-password networks later)."""
    cls = connector_class(network)
    info = cls.prepare_account(handle, display_name)
    _refuse_if_taken(brand, network, info.handle, info.external_id)
    channel = Channel(
        organization=brand.organization,
        brand=brand,
        network=network,
        handle=info.handle,
        display_name=info.display_name,
        external_id=info.external_id,
        capabilities=sorted(cls.capabilities),
        connected_by=actor.user,
    )
    channel.full_clean()
    channel.save()
    record(
        actor,
        brand.organization,
        "channel.connect",
        channel,
        snapshot(channel, ["network", "handle", "display_name", "external_id", "capabilities"]),
    )
    notify_organization(brand.organization_id, "channels")
    return channel


def _refuse_if_taken(brand: Brand, network: str, handle: str, external_id: str) -> None:
    taken = Channel.objects.filter(network=network, handle=handle, organization=brand.organization)
    if external_id:
        taken = taken | Channel.objects.filter(network=network, external_id=external_id)
    if taken.exists():
        raise ChannelTaken(handle)


@transaction.atomic
def connect_account(
    actor: Actor,
    brand: Brand,
    network: str,
    connected: ConnectedAccount,
    settings: Mapping[str, str] | None = None,
) -> Channel:
    """Create the channel for an account that finished a sign-in flow, its credentials sealed in the vault."""
    from tertulia.vault.actions import store_credentials

    cls = connector_class(network)
    info = connected.info
    _refuse_if_taken(brand, network, info.handle, info.external_id)
    channel = Channel(
        organization=brand.organization,
        brand=brand,
        network=network,
        handle=info.handle,
        display_name=info.display_name,
        external_id=info.external_id,
        capabilities=sorted(cls.capabilities),
        settings=dict(settings or {}),
        connected_by=actor.user,
    )
    channel.full_clean()
    channel.save()
    record(
        actor,
        brand.organization,
        "channel.connect",
        channel,
        snapshot(channel, ["network", "handle", "display_name", "external_id", "capabilities", "settings"]),
    )
    store_credentials(actor, channel, connected.credentials, connected.expires_at)
    notify_organization(brand.organization_id, "channels")
    return channel


@transaction.atomic
def connect_or_reconnect(
    actor: Actor,
    brand: Brand,
    network: str,
    connected: ConnectedAccount,
    settings: Mapping[str, str] | None = None,
) -> Channel:
    """Sign-in for an account this organization already has a channel for, which lost its
    credentials, reconnects that channel; otherwise a new channel is connected."""
    existing = Channel.objects.filter(
        organization=brand.organization, network=network, external_id=connected.info.external_id
    ).exclude(status=ChannelStatus.ACTIVE)
    channel = existing.first() if connected.info.external_id else None
    if channel is not None:
        return reconnect_account(actor, channel, connected)
    return connect_account(actor, brand, network, connected, settings)


@transaction.atomic
def reconnect_account(actor: Actor, channel: Channel, connected: ConnectedAccount) -> Channel:
    """New credentials for an existing channel (after "needs reconnect"); the account must be the same."""
    from tertulia.vault.actions import store_credentials

    if channel.external_id and connected.info.external_id != channel.external_id:
        raise WrongAccount(connected.info.handle)
    store_credentials(actor, channel, connected.credentials, connected.expires_at)
    if actor.user is not None and channel.connected_by_id != actor.user.pk:
        changes = apply_changes(channel, {"connected_by": actor.user})
        channel.save(update_fields=["connected_by"])
        record(actor, channel.organization, "channel.reconnect", channel, changes)
    return set_channel_status(actor, channel, ChannelStatus.ACTIVE)


@transaction.atomic
def set_channel_status(actor: Actor, channel: Channel, status: str) -> Channel:
    changes = apply_changes(channel, {"status": status})
    if changes:
        channel.full_clean()
        channel.save(update_fields=["status"])
        record(actor, channel.organization, "channel.status", channel, changes)
        notify_organization(channel.organization_id, "channels")
    return channel


@transaction.atomic
def set_channel_operators(actor: Actor, channel: Channel, users: Iterable[User]) -> list[User]:
    wanted = {u.pk: u for u in users}
    members = set(
        Membership.objects.filter(
            organization=channel.organization, user_id__in=wanted, is_active=True
        ).values_list("user_id", flat=True)
    )
    outsiders = set(wanted) - members
    if outsiders:
        raise NotAMember(", ".join(str(pk) for pk in sorted(outsiders)))
    current = set(channel.operator_grants.values_list("user_id", flat=True))
    added, removed = set(wanted) - current, current - set(wanted)
    ChannelOperator.objects.filter(channel=channel, user_id__in=removed).delete()
    ChannelOperator.objects.bulk_create(
        [ChannelOperator(channel=channel, user_id=pk) for pk in sorted(added)]
    )
    if added or removed:
        emails = dict(User.objects.filter(pk__in=added | removed).values_list("pk", "email"))
        record(
            actor,
            channel.organization,
            "channel.operators",
            channel,
            {
                "added": [None, sorted(emails[pk] for pk in added)],
                "removed": [sorted(emails[pk] for pk in removed), None],
            },
        )
        notify_organization(channel.organization_id, "channels")
    return list(wanted.values())
