"""The access review: who can do what where, and when they last did anything (docs/governance.md).

One row per member of the organization (deactivated ones too, so leftovers show): role, brands,
the channels they operate, whether they sign in with a second factor, their last sign-in, their last
action in this organization (the newest audit entry they wrote here) and their API tokens. A handful
of queries whatever the size of the team; filtering is done on the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.api.models import ApiToken
from tertulia.core.models import (
    AuditEntry,
    BrandAccess,
    Channel,
    ChannelOperator,
    Membership,
    Organization,
    Role,
)
from tertulia.core.permissions import FULL_ACCESS_ROLES, Perm, permissions_of
from tertulia.core.text import fold

# Second factors that count (recovery codes alone are a fallback, not a factor).
SECOND_FACTORS = ("totp", "webauthn")
IDLE_CHOICES = (30, 90, 180)


@dataclass
class Row:
    member: Membership
    brands: list[str] = field(default_factory=list)  # empty with all_brands
    brand_ids: set[int] = field(default_factory=set)
    channels: list[Channel] = field(default_factory=list)  # explicit grants
    second_factors: list[str] | None = None  # None: this installation has no second factors
    last_activity: datetime | None = None
    tokens: int = 0
    tokens_last_used: datetime | None = None

    @property
    def all_brands(self) -> bool:
        return self.member.all_brands or self.member.role in FULL_ACCESS_ROLES

    @property
    def operates_every_channel(self) -> bool:
        return self.member.is_active and self.member.role in FULL_ACCESS_ROLES

    @property
    def operates(self) -> bool:
        return Perm.OPERATE_CHANNELS in permissions_of(self.member)

    @property
    def has_second_factor(self) -> bool | None:
        return None if self.second_factors is None else bool(self.second_factors)

    @property
    def last_login(self) -> datetime | None:
        return self.member.user.last_login


@dataclass(frozen=True)
class Filters:
    q: str = ""
    role: str = ""
    state: str = "active"  # "active", "inactive" or "" (everyone)
    two_factor: str = ""  # "on", "off" or ""
    brand: int | None = None
    channel: int | None = None
    idle_days: int | None = None  # no action here for at least this many days

    @classmethod
    def from_query(cls, query: dict[str, str], organization: Organization) -> Filters:
        def number(name: str) -> int | None:
            raw = query.get(name, "").strip()
            return int(raw) if raw.isdigit() and len(raw) < 10 else None

        role = query.get("role", "")
        state = query.get("state", "active")
        two_factor = query.get("two_factor", "")
        idle = number("idle")
        return cls(
            q=query.get("q", "").strip()[:100],
            role=role if role in Role.values else "",
            state=state if state in {"active", "inactive", ""} else "active",
            two_factor=two_factor if two_factor in {"on", "off"} else "",
            brand=number("brand"),
            channel=number("channel"),
            idle_days=idle if idle in IDLE_CHOICES else None,
        )


def _second_factors(user_ids: list[int]) -> dict[int, list[str]] | None:
    if not apps.is_installed("allauth.mfa"):
        return None
    from allauth.mfa.models import Authenticator

    found: dict[int, list[str]] = defaultdict(list)
    rows = Authenticator.objects.filter(user_id__in=user_ids, type__in=SECOND_FACTORS).values_list(
        "user_id", "type"
    )
    for user_id, kind in rows.order_by("type"):
        if kind not in found[user_id]:
            found[user_id].append(kind)
    return found


def rows(organization: Organization) -> list[Row]:
    """Every member's row, active ones first, then by name."""
    members = list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-is_active", "user__display_name", "user__email")
    )
    user_ids = [m.user_id for m in members]
    result = {m.pk: Row(member=m) for m in members}
    by_user = {m.user_id: result[m.pk] for m in members}
    access = BrandAccess.objects.filter(membership__organization=organization)
    for membership_id, brand_id, name in access.values_list("membership_id", "brand_id", "brand__name"):
        result[membership_id].brands.append(name)
        result[membership_id].brand_ids.add(brand_id)
    grants = ChannelOperator.objects.filter(channel__organization=organization).select_related("channel")
    for grant in grants.order_by("channel__handle", "channel_id"):
        if grant.user_id in by_user:
            by_user[grant.user_id].channels.append(grant.channel)
    factors = _second_factors(user_ids)
    last_seen = (
        AuditEntry.objects.filter(organization=organization, actor_id__in=user_ids)
        .values("actor_id")
        .annotate(last=Max("created_at"))
    )
    for item in last_seen:
        by_user[item["actor_id"]].last_activity = item["last"]
    tokens = (
        ApiToken.objects.filter(organization=organization, user_id__in=user_ids)
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .values("user_id")
        .annotate(n=Count("id"), last=Max("last_used_at"))
    )
    for item in tokens:
        by_user[item["user_id"]].tokens = item["n"]
        by_user[item["user_id"]].tokens_last_used = item["last"]
    for row in result.values():
        row.brands.sort(key=str.casefold)
        row.second_factors = None if factors is None else factors.get(row.member.user_id, [])
    return list(result.values())


def apply(found: Iterable[Row], filters: Filters) -> list[Row]:
    now = timezone.now()
    wanted = fold(filters.q)
    kept = []
    for row in found:
        member, user = row.member, row.member.user
        if filters.state == "active" and not member.is_active:
            continue
        if filters.state == "inactive" and member.is_active:
            continue
        if filters.role and member.role != filters.role:
            continue
        if wanted and wanted not in fold(f"{user.display_name} {user.email}"):
            continue
        if filters.two_factor and row.has_second_factor is not (filters.two_factor == "on"):
            continue
        if filters.brand is not None and not row.all_brands and filters.brand not in row.brand_ids:
            continue
        if filters.channel is not None and not (
            row.operates_every_channel or any(c.pk == filters.channel for c in row.channels)
        ):
            continue
        recent = row.last_activity is not None and row.last_activity > now - timedelta(
            days=filters.idle_days or 0
        )
        if filters.idle_days is not None and recent:
            continue
        kept.append(row)
    return kept


# --- CSV -----------------------------------------------------------------------------------------


def csv_header() -> list[str]:
    return [
        _("Name"),
        _("E-mail address"),
        _("Role"),
        _("State"),
        _("Brands"),
        _("Channels operated"),
        _("Second factor"),
        _("Last sign-in"),
        _("Last activity here"),
        _("API tokens"),
        _("Tokens last used"),
        _("Member since"),
    ]


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def csv_values(found: Iterable[Row]) -> Iterator[list[object]]:
    for row in found:
        member, user = row.member, row.member.user
        factor = _("unknown") if row.second_factors is None else ", ".join(row.second_factors) or _("none")
        if row.operates_every_channel:
            channels = _("every channel (by role)")
        else:
            channels = ", ".join(f"@{c.handle} ({c.network})" for c in row.channels)
        yield [
            user.display_name,
            user.email,
            member.get_role_display(),
            _("Active") if member.is_active else _("Inactive"),
            _("All brands") if row.all_brands else ", ".join(row.brands),
            channels,
            factor,
            _when(row.last_login),
            _when(row.last_activity),
            row.tokens,
            _when(row.tokens_last_used),
            _when(member.created_at),
        ]
