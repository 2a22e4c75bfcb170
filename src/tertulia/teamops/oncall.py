"""Who is on call, when: shifts, overrides, time off and the gaps they leave (docs/team-operations.md).

`on_call(brand, at)` is the question the rest of Tertulia asks (crisis escalation pages them,
inbox assignment falls back on them). The schedule is computed, never stored: shift `k` of a
rotation starts on local day `first_day + k * shift_days` at the hand-over time, in the rotation's
time zone, and belongs to member `k mod len(members)`. An override covering an instant wins over
the schedule. Someone on time off, or who lost access, is not on call: that span is a gap.

Daylight-saving changes follow the wall clock, with the rules of `inbox.businesshours`: a hand-over
time skipped when clocks spring forward happens at the jump, one repeated when they fall back happens
the first time. A weekly shift over a change lasts 167 or 169 hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import brand_limits, is_limited, member_works_in
from tertulia.core.zones import zone
from tertulia.teamops.models import GapKind, Override, Rotation, RotationMember, TimeOff

HORIZON = timedelta(days=14)


def wall_to_utc(tz: ZoneInfo, day: date, at: time) -> datetime:
    """The UTC instant of a local wall-clock time: a skipped time is the jump, a repeated one the first."""
    naive = datetime.combine(day, at.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz).utcoffset()
    second = naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert first is not None and second is not None  # a ZoneInfo always has an offset
    as_first = (naive - first).replace(tzinfo=UTC)
    if first == second or as_first.astimezone(tz).replace(tzinfo=None) == naive:
        return as_first
    # In a gap: fold=1 lands before the jump, fold=0 after it; find the jump to the second.
    before, after = (naive - second).replace(tzinfo=UTC), as_first
    offset = before.astimezone(tz).utcoffset()
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (before + timedelta(seconds=middle)).astimezone(tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return before + timedelta(seconds=high)


def first_day(rotation: Rotation) -> date:
    """The local day of the first shift: `starts_on`, moved on to the hand-over weekday if one is set."""
    if rotation.handover_weekday is None:
        return rotation.starts_on
    return rotation.starts_on + timedelta(days=(rotation.handover_weekday - rotation.starts_on.weekday()) % 7)


@dataclass
class Plan:
    """One rotation with its members and overrides, loaded once to answer many questions."""

    rotation: Rotation
    members: list[Membership]
    overrides: list[Override] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.rotation.timezone)

    def shift_start(self, index: int) -> datetime:
        day = first_day(self.rotation) + timedelta(days=index * self.rotation.shift_days)
        return wall_to_utc(self.tz, day, self.rotation.handover_time)

    def shift_index(self, at: datetime) -> int | None:
        """The shift running at `at`; None before the first one."""
        if at < self.shift_start(0):
            return None
        local = at.astimezone(self.tz).date()
        index = max((local - first_day(self.rotation)).days // self.rotation.shift_days, 0)
        while index > 0 and self.shift_start(index) > at:
            index -= 1
        while self.shift_start(index + 1) <= at:
            index += 1
        return index

    def scheduled(self, index: int) -> Membership | None:
        return self.members[index % len(self.members)] if self.members else None

    def next_handover(self, at: datetime) -> datetime:
        index = self.shift_index(at)
        return self.shift_start(0 if index is None else index + 1)

    def people_at(self, at: datetime) -> tuple[list[User], Override | None]:
        """Who is on call at `at` by the plan (overrides first), with the override that decided it."""
        covering = [o for o in self.overrides if o.starts_at <= at < o.ends_at]
        if covering:
            people: list[User] = []
            for override in covering:
                if all(p.pk != override.user_id for p in people):
                    people.append(override.user)
            return people, covering[0]
        index = self.shift_index(at)
        member = self.scheduled(index) if index is not None else None
        return ([member.user] if member is not None else []), None

    def boundaries(self, start: datetime, end: datetime) -> set[datetime]:
        """Instants in (start, end) where who is on call may change."""
        found: set[datetime] = set()
        index = self.shift_index(start)
        index = 0 if index is None else index + 1
        while (at := self.shift_start(index)) < end:
            if at > start:
                found.add(at)
            index += 1
        for override in self.overrides:
            found.update(t for t in (override.starts_at, override.ends_at) if start < t < end)
        return found


def covering(organization: Organization, brand: Brand | None = None) -> QuerySet[Rotation]:
    """Active rotations of the organization (covering `brand`, when given)."""
    found = Rotation.objects.filter(organization=organization, is_active=True)
    if brand is not None:
        found = found.filter(Q(all_brands=True) | Q(brands=brand)).distinct()
    return found


def load_plans(rotations: Iterable[Rotation], start: datetime, end: datetime) -> list[Plan]:
    """Plans for `rotations`, with the overrides that touch [start, end] (three queries)."""
    rotations = list(rotations)
    ids = [r.pk for r in rotations]
    members: dict[int, list[Membership]] = {pk: [] for pk in ids}
    for row in (
        RotationMember.objects.filter(rotation_id__in=ids)
        .select_related("membership__user")
        .order_by("rotation_id", "position")
    ):
        members[row.rotation_id].append(row.membership)
    overrides: dict[int, list[Override]] = {pk: [] for pk in ids}
    for override in (
        Override.objects.filter(rotation_id__in=ids, starts_at__lte=end, ends_at__gt=start)
        .select_related("user", "covers_for")
        .order_by("starts_at", "id")
    ):
        overrides[override.rotation_id].append(override)
    return [Plan(r, members[r.pk], overrides[r.pk]) for r in rotations]


def time_off_of(
    organization_id: int, user_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[TimeOff]]:
    """user id → their time off touching [start, end] in the organization."""
    found: dict[int, list[TimeOff]] = {}
    for row in TimeOff.objects.filter(
        membership__organization_id=organization_id,
        membership__user_id__in=list(user_ids),
        starts_at__lte=end,
        ends_at__gt=start,
    ).select_related("membership"):
        found.setdefault(row.membership.user_id, []).append(row)
    return found


def is_away(spans: Sequence[TimeOff], at: datetime) -> bool:
    return any(s.starts_at <= at < s.ends_at for s in spans)


def active_members(organization_id: int) -> dict[int, Membership]:
    """user id → active membership, for people whose account is active."""
    return {
        m.user_id: m
        for m in Membership.objects.filter(
            organization_id=organization_id, is_active=True, user__is_active=True
        )
    }


def on_call(brand: Brand, at: datetime | None = None) -> list[User]:
    """Who is on call for `brand` at `at` (now): for every active rotation covering it, the override's
    person if one covers `at`, else the scheduled one; leaving out people on time off, who lost
    access, or who do not work in the brand. Empty when no rotation covers the brand."""
    at = at or timezone.now()
    plans = load_plans(covering(brand.organization, brand), at, at)
    if not plans:
        return []
    candidates: list[User] = []
    for plan in plans:
        for user in plan.people_at(at)[0]:
            if all(u.pk != user.pk for u in candidates):
                candidates.append(user)
    if not candidates:
        return []
    members = active_members(brand.organization_id)
    limits = brand_limits([m for m in members.values() if m.user_id in {u.pk for u in candidates}])
    away = time_off_of(brand.organization_id, [u.pk for u in candidates], at, at)
    return [
        user
        for user in candidates
        if user.pk in members
        and member_works_in(members[user.pk], brand.pk, limits)
        and not is_away(away.get(user.pk, []), at)
    ]


# --- the schedule and its gaps -------------------------------------------------------------------


@dataclass
class Segment:
    """A span of one rotation in which the same people are on call (or nobody)."""

    plan: Plan
    starts_at: datetime
    ends_at: datetime
    people: list[User]
    override: Override | None
    problems: dict[int, str]  # user id → GapKind (time off, no access)

    @property
    def rotation(self) -> Rotation:
        return self.plan.rotation

    @property
    def covered(self) -> bool:
        return any(p.pk not in self.problems for p in self.people)

    def gap(self) -> tuple[str, User | None] | None:
        """(kind, person) when nobody can take the pager in this span."""
        if self.covered:
            return None
        if not self.people:
            return GapKind.NOBODY, None
        person = self.people[0]
        return self.problems[person.pk], person


def segments(
    plan: Plan, start: datetime, end: datetime, away: dict[int, list[TimeOff]], members: dict[int, Membership]
) -> list[Segment]:
    """The rotation's schedule over [start, end), cut wherever people, overrides or time off change."""
    cuts = plan.boundaries(start, end)
    for spans in away.values():
        for span in spans:
            cuts.update(t for t in (span.starts_at, span.ends_at) if start < t < end)
    points = [start, *sorted(cuts), end]
    found: list[Segment] = []
    for begin, finish in pairwise(points):
        people, override = plan.people_at(begin)
        problems: dict[int, str] = {}
        for person in people:
            if person.pk not in members:
                problems[person.pk] = GapKind.INACTIVE
            elif is_away(away.get(person.pk, []), begin):
                problems[person.pk] = GapKind.TIME_OFF
        last = found[-1] if found else None
        if (
            last is not None
            and [p.pk for p in last.people] == [p.pk for p in people]
            and last.override is override
            and last.problems == problems
        ):
            last.ends_at = finish
        else:
            found.append(Segment(plan, begin, finish, people, override, problems))
    return found


@dataclass
class Gap:
    kind: str
    starts_at: datetime
    ends_at: datetime
    rotation: Rotation | None = None
    brand: Brand | None = None
    user: User | None = None

    @property
    def label(self) -> str:
        return str(GapKind(self.kind).label)


@dataclass
class Outlook:
    """Everything the on-call page and the gap job need for some rotations over a window."""

    plans: list[Plan]
    schedule: list[Segment]
    gaps: list[Gap]


def outlook(
    organization: Organization,
    rotations: Iterable[Rotation],
    brands: Iterable[Brand],
    start: datetime | None = None,
    end: datetime | None = None,
) -> Outlook:
    """The schedule of `rotations` over [start, end) (now and the next 14 days) and its gaps, plus a gap
    for each of `brands` that no active rotation covers."""
    start = start or timezone.now()
    end = end or start + HORIZON
    plans = load_plans(rotations, start, end)
    members = active_members(organization.pk)
    people = {m.user_id for p in plans for m in p.members} | {o.user_id for p in plans for o in p.overrides}
    away = time_off_of(organization.pk, people, start, end)
    schedule: list[Segment] = []
    gaps: list[Gap] = []
    for plan in plans:
        if not plan.rotation.is_active:
            continue
        mine = segments(plan, start, end, away, members)
        schedule.extend(mine)
        for segment in mine:
            found = segment.gap()
            if found is None:
                continue
            kind, user = found
            last = gaps[-1] if gaps else None
            if (
                last is not None
                and last.rotation == plan.rotation
                and last.kind == kind
                and last.user == user
                and last.ends_at == segment.starts_at
            ):
                last.ends_at = segment.ends_at
            else:
                gaps.append(Gap(kind, segment.starts_at, segment.ends_at, plan.rotation, user=user))
    covered_all = Rotation.objects.filter(organization=organization, is_active=True, all_brands=True).exists()
    covered = set(
        Rotation.brands.through.objects.filter(
            rotation__organization=organization, rotation__is_active=True
        ).values_list("brand_id", flat=True)
    )
    if not covered_all:
        for brand in brands:
            if not brand.is_archived and brand.pk not in covered:
                gaps.append(Gap(GapKind.NO_ROTATION, start, end, brand=brand))
    schedule.sort(key=lambda s: (s.starts_at, s.rotation.name, s.rotation.pk))
    gaps.sort(key=lambda g: (g.starts_at, g.kind))
    return Outlook(plans, schedule, gaps)


def may_cover(member: Membership, rotation: Rotation, brand_ids: Sequence[int]) -> bool:
    """Whether the member works in every brand the rotation covers (all of them for an all-brands one)."""
    if not is_limited(member):
        return True
    if rotation.all_brands:
        return False
    limits = brand_limits([member])
    return all(member_works_in(member, brand_id, limits) for brand_id in brand_ids)
