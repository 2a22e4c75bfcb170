"""Backup coverage: which channels would stop being looked after if one person left (seed 002:
"everyone needs a backup"). Read-only; docs/governance.md#backup-coverage explains each gap.

Who counts as an operator here: an active member, with a role that operates channels
(`Perm.OPERATE_CHANNELS`), who works in the channel's brand, and who holds an explicit grant on the
channel (`ChannelOperator`). Owners and administrators can operate every channel by their role, but
they count only when they hold a grant too: they are who a team escalates to, not its day-to-day
backup, and an organization of one owner would otherwise never see a gap.

The gaps, for every channel that is not disconnected, of a brand that is not archived:

- `NO_OPERATOR`: nobody holds a grant;
- `OPERATORS_INACTIVE`: grants exist, but none of their holders counts any more (deactivated, a
  role that does not operate channels, or no longer in the brand);
- `ONE_OPERATOR`: exactly one person: nobody covers for them;
- `PERSONAL_ACCOUNT`: the channel's credentials are the connecting person's own login on the network
  (`Connector.credentials_belong_to_person`: Facebook, Instagram, LinkedIn): it depends on them.
  A `CoverageWaiver` (with a note) accepts this while that person stays and the channel is not
  reconnected by someone else;
- `CONNECTED_BY_DEPARTED`: whoever connected it is no longer an active member: rotate its
  credentials (or reconnect it, for a personal login, before it stops working).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tertulia.connectors.registry import UnknownNetwork, connector_class
from tertulia.core.models import Channel, ChannelOperator, ChannelStatus, Membership, Organization, User
from tertulia.core.permissions import Perm, brand_limits, member_works_in, permissions_of
from tertulia.governance.models import CoverageWaiver


class GapKind(StrEnum):
    OPERATORS_INACTIVE = "operators_inactive"
    NO_OPERATOR = "no_operator"
    CONNECTED_BY_DEPARTED = "connected_by_departed"
    PERSONAL_ACCOUNT = "personal_account"
    ONE_OPERATOR = "one_operator"


# In this order on the page: the most urgent first.
SEVERITY = {kind: n for n, kind in enumerate(GapKind)}

TITLES: dict[GapKind, Promise] = {
    GapKind.OPERATORS_INACTIVE: _("Its only operators are no longer active"),
    GapKind.NO_OPERATOR: _("Nobody operates it (only owners and administrators, by their role)"),
    GapKind.CONNECTED_BY_DEPARTED: _("Connected by someone who is no longer a member"),
    GapKind.PERSONAL_ACCOUNT: _("Depends on one person's own account"),
    GapKind.ONE_OPERATOR: _("One operator: nobody covers for them"),
}
ADVICE: dict[GapKind, Promise] = {
    GapKind.OPERATORS_INACTIVE: _("Give at least two active people a grant on it."),
    GapKind.NO_OPERATOR: _("Give at least two people a grant on it."),
    GapKind.CONNECTED_BY_DEPARTED: _(
        "Rotate its credentials: reconnect it yourself (a new app password or a new sign-in) and revoke "
        "the old one on the network."
    ),
    GapKind.PERSONAL_ACCOUNT: _(
        "Reconnect it from an account the organization controls (for Meta, one that Business Manager "
        "administers; for LinkedIn, a page administrator who will stay), or make sure a second person "
        "administers it on the network and record that here."
    ),
    GapKind.ONE_OPERATOR: _("Give a second person a grant on it."),
}


@dataclass(frozen=True)
class Gap:
    channel: Channel
    kind: GapKind
    # The one operator, the inactive operators, or the person whose account it depends on.
    people: tuple[User, ...] = ()

    @property
    def title(self) -> Promise:
        return TITLES[self.kind]

    @property
    def advice(self) -> Promise:
        return ADVICE[self.kind]

    @property
    def needs_reconnect(self) -> bool:
        return self.kind in {GapKind.PERSONAL_ACCOUNT, GapKind.CONNECTED_BY_DEPARTED}

    @property
    def may_waive(self) -> bool:
        return self.kind == GapKind.PERSONAL_ACCOUNT and bool(self.people)


@dataclass
class Operators:
    """A channel's grant holders, split into those who count and those who no longer do."""

    counting: list[User] = field(default_factory=list)
    not_counting: list[User] = field(default_factory=list)


def personal_networks() -> frozenset[str]:
    """Networks whose channels act through the connecting person's own login."""
    from tertulia.connectors.registry import networks

    found = set()
    for name in networks():
        try:
            if connector_class(name).credentials_belong_to_person:
                found.add(name)
        except (UnknownNetwork, ImportError):
            continue
    return frozenset(found)


def depends_on_person(channel: Channel) -> bool:
    try:
        return connector_class(channel.network).credentials_belong_to_person
    except (UnknownNetwork, ImportError):
        return False


def covered_channels(organization: Organization) -> list[Channel]:
    """The channels coverage looks at: not disconnected, of brands that are not archived."""
    return list(
        Channel.objects.filter(organization=organization, brand__is_archived=False)
        .exclude(status=ChannelStatus.DISCONNECTED)
        .select_related("brand", "connected_by")
        .order_by("brand__name", "network", "handle", "pk")
    )


def operators_by_channel(organization: Organization, channels: Iterable[Channel]) -> dict[int, Operators]:
    """For each channel, who holds a grant and counts as an operator (see the module's docstring)."""
    channels = list(channels)
    members = list(Membership.objects.filter(organization=organization).select_related("user"))
    by_user = {m.user_id: m for m in members}
    limits = brand_limits([m for m in members if m.is_active])
    brand_of = {c.pk: c.brand_id for c in channels}
    found: dict[int, Operators] = defaultdict(Operators)
    grants = (
        ChannelOperator.objects.filter(channel_id__in=brand_of)
        .select_related("user")
        .order_by("user__email", "pk")
    )
    for grant in grants:
        member = by_user.get(grant.user_id)
        counts = (
            member is not None
            and member.is_active
            and grant.user.is_active
            and Perm.OPERATE_CHANNELS in permissions_of(member)
            and member_works_in(member, brand_of[grant.channel_id], limits)
        )
        target = found[grant.channel_id]
        (target.counting if counts else target.not_counting).append(grant.user)
    return found


def active_member_ids(organization: Organization) -> set[int]:
    return set(
        Membership.objects.filter(
            organization=organization, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def gaps(organization: Organization) -> list[Gap]:
    """Every gap of the organization, most urgent first."""
    channels = covered_channels(organization)
    operators = operators_by_channel(organization, channels)
    present = active_member_ids(organization)
    personal = personal_networks()
    waivers = {
        w.channel_id: w.connected_by_id
        for w in CoverageWaiver.objects.filter(organization=organization, channel__in=channels)
    }
    found: list[Gap] = []
    for channel in channels:
        ops = operators.get(channel.pk, Operators())
        if not ops.counting:
            kind = GapKind.OPERATORS_INACTIVE if ops.not_counting else GapKind.NO_OPERATOR
            found.append(Gap(channel, kind, tuple(ops.not_counting)))
        elif len(ops.counting) == 1:
            found.append(Gap(channel, GapKind.ONE_OPERATOR, tuple(ops.counting)))
        connector = channel.connected_by
        departed = connector is not None and connector.pk not in present
        if departed:
            assert connector is not None
            found.append(Gap(channel, GapKind.CONNECTED_BY_DEPARTED, (connector,)))
        if channel.network in personal:
            waived = not departed and connector is not None and waivers.get(channel.pk) == connector.pk
            if not waived:
                found.append(Gap(channel, GapKind.PERSONAL_ACCOUNT, (connector,) if connector else ()))
    found.sort(
        key=lambda gap: (SEVERITY[gap.kind], gap.channel.brand.name, gap.channel.handle, gap.channel.pk)
    )
    return found


def channels_with_gaps(organization: Organization) -> int:
    """How many channels have at least one gap: the count next to "Team" in the navigation."""
    return len({gap.channel.pk for gap in gaps(organization)})
