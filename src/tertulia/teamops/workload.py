"""Workload per person, and the signs that someone carries too much (docs/team-operations.md#workload).

Seed 002: the team must be there 24/7/365, "everyone needs a backup", and "burnout is real". This
module reads what people did (the daily PersonDay rollups of tertulia.analytics; the messages
themselves only for a person whose own time zone is not the brand's, grouped by day in one query per
zone: `_add_days`), the crisis pages they received, the on-call hours the rotations gave them and the
conversations waiting on them now, and says in plain words where the pace is not sustainable.

Who sees what (`scope_for`): everybody's row needs `Perm.MANAGE_MEMBERS` (owners, administrators);
a brand manager (`Perm.MANAGE_BRANDS`) sees the people who work in the brands they manage, counted
in those brands only; anyone else sees only their own row, counted in their own brands. Comparisons
with the team (the median pace) are made against everyone who works in those brands, whoever looks,
so the same person gets the same signal from every viewer of the same brands; only the median
itself is shown, never another person's figures.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tertulia.analytics.models import PersonDay
from tertulia.analytics.periods import Period, last_days
from tertulia.analytics.rollup import QUIET_HOURS_END, QUIET_HOURS_START
from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import (
    Perm,
    brand_limits,
    brands_for,
    member_works_in,
    membership,
    permissions_of,
)
from tertulia.core.zones import zone
from tertulia.crisis.models import AlertNotice, Medium
from tertulia.governance.coverage import Gap
from tertulia.governance.coverage import GapKind as CoverageGap
from tertulia.governance.coverage import gaps as coverage_gaps
from tertulia.inbox.models import AgentStatus, Conversation, Direction, Message, Status

# --- thresholds -----------------------------------------------------------------------------------
# Each is a line past which a pace stops being sustainable for one person for long; none of them is
# a verdict. They are deliberately simple so that a manager can explain them in one sentence.

# Replies per day worked above this multiple of the team's median: someone absorbs the team's load.
# Half again as much is a gap a person feels within a week; below it, differences are ordinary.
PACE_FACTOR = 1.5
# A median of fewer people is not a team's pace: the pace signal needs this many who worked.
MIN_PEERS = 3
# Replies sent outside business hours (20:00-08:00 for a brand open around the clock), in percent:
# more than a quarter means evenings and nights have become part of the job, not the exception.
AFTER_HOURS_PERCENT = 25
# Below this many replies in the period a share says nothing (1 of 2 replies is 50 %).
MIN_REPLIES_FOR_SHARE = 10
# Days worked in a row: six means one day off a week at the most; rest needs two.
STREAK_DAYS = 6
# Weekends worked in a row (a Saturday or Sunday with replies): the second one in a row means the
# person has had no full weekend for three weeks.
WEEKENDS_IN_A_ROW = 2
# Crisis pages received at night (20:00-08:00 in the person's time zone) within any 7 days: three
# broken nights in a week is where sleep debt and mistakes start.
NIGHT_PAGES_PER_WEEK = 3

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30


class SignalKind:
    PACE = "pace"
    AFTER_HOURS = "after_hours"
    STREAK = "streak"
    WEEKENDS = "weekends"
    NIGHT_PAGES = "night_pages"
    CAPACITY = "capacity"
    NO_BACKUP = "no_backup"


@dataclass(frozen=True)
class Signal:
    """One sign of overload, with what is needed to say why in the reader's language."""

    kind: str
    value: float = 0
    limit: float = 0
    detail: str = ""  # e.g. the channels without a backup

    @property
    def reason(self) -> str:
        """The plain-language reason, translated when read (the page's language, the CSV's)."""
        value, limit = self.value, self.limit
        match self.kind:
            case SignalKind.PACE:
                return _(
                    "Answers %(pace)s replies per day worked: more than %(factor)s times the team's median "
                    "(%(median)s)."
                ) % {"pace": _number(value), "factor": _number(PACE_FACTOR), "median": _number(limit)}
            case SignalKind.AFTER_HOURS:
                return _("%(share)s %% of their replies were sent after hours (more than %(limit)s %%).") % {
                    "share": _number(value),
                    "limit": _number(limit),
                }
            case SignalKind.STREAK:
                return ngettext(
                    "Worked %(days)d day in a row: rest needs at least one day off in every %(limit)d.",
                    "Worked %(days)d days in a row: rest needs at least one day off in every %(limit)d.",
                    int(value),
                ) % {"days": int(value), "limit": int(limit)}
            case SignalKind.WEEKENDS:
                return ngettext(
                    "Worked %(weekends)d weekend in a row without a full weekend off.",
                    "Worked %(weekends)d weekends in a row without a full weekend off.",
                    int(value),
                ) % {"weekends": int(value)}
            case SignalKind.NIGHT_PAGES:
                return ngettext(
                    "Woken by %(pages)d crisis page at night within one week.",
                    "Woken by %(pages)d crisis pages at night within one week.",
                    int(value),
                ) % {"pages": int(value)}
            case SignalKind.CAPACITY:
                return _(
                    "Has %(open)d open conversations assigned, above their capacity of %(capacity)d."
                ) % {
                    "open": int(value),
                    "capacity": int(limit),
                }
            case SignalKind.NO_BACKUP:
                return _("Nobody covers for them on %(channels)s.") % {"channels": self.detail}
        return self.kind


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


@dataclass
class PersonLoad:
    """One person's work over a period, in the brands the viewer may see."""

    user: User
    role: str
    conversations: int = 0  # conversations answered, counted once per day answered
    replies: int = 0
    days_worked: int = 0
    after_hours: int = 0
    weekend_replies: int = 0
    weekend_days: int = 0
    longest_streak: int = 0
    current_streak: int = 0
    weekends_in_a_row: int = 0
    pages: int = 0
    night_pages: int = 0
    night_pages_in_a_week: int = 0  # the most within any 7 days
    on_call_hours: float | None = None  # None: no on-call rotations to read
    open_now: int = 0
    capacity: int = 0  # 0: no limit
    signals: list[Signal] = field(default_factory=list)

    @property
    def replies_per_day(self) -> float | None:
        return round(self.replies / self.days_worked, 1) if self.days_worked else None

    @property
    def after_hours_percent(self) -> float | None:
        return round(100 * self.after_hours / self.replies, 1) if self.replies else None

    @property
    def signal_kinds(self) -> set[str]:
        return {s.kind for s in self.signals}


@dataclass(frozen=True)
class Scope:
    """Whose rows a viewer sees, and in which brands their work is counted."""

    organization: Organization
    viewer: User
    brand_ids: tuple[int, ...]
    team: tuple[Membership, ...]  # everyone counted (the median's peers)
    shown: frozenset[int]  # user ids whose rows the viewer sees
    everybody: bool  # sees other people's rows (a manager)


def scope_for(viewer: User, organization: Organization) -> Scope:
    """What `viewer` may see of the organization's workload (see the module's docstring)."""
    member = membership(viewer, organization)
    perms = permissions_of(member)
    if Perm.MANAGE_MEMBERS in perms:
        brands = list(Brand.objects.filter(organization=organization).values_list("pk", flat=True))
        manager = True
    elif Perm.MANAGE_BRANDS in perms:
        brands = list(brands_for(viewer, organization, Perm.MANAGE_BRANDS).values_list("pk", flat=True))
        manager = True
    elif Perm.VIEW in perms:
        brands = list(brands_for(viewer, organization, Perm.VIEW).values_list("pk", flat=True))
        manager = False
    else:
        brands, manager = [], False
    everyone = list(
        Membership.objects.filter(organization=organization, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__display_name", "user__email", "pk")
    )
    limits = brand_limits(everyone)
    team = tuple(m for m in everyone if any(member_works_in(m, b, limits) for b in brands))
    if member is None:
        shown: frozenset[int] = frozenset()
    elif manager:
        shown = frozenset(m.user_id for m in team) | {viewer.pk}
    else:
        shown = frozenset({viewer.pk})
    if member is not None and all(m.user_id != viewer.pk for m in team):
        team = (*team, member)  # a person always sees their own row, even without brands
    return Scope(organization, viewer, tuple(sorted(brands)), team, shown, manager)


# --- whose calendar -------------------------------------------------------------------------------
# A day, a weekend, a night are the person's: their own time zone (Time off → working hours) when they
# set one, else the brand's (each brand's rolled-up days are in its own zone), else the organization's
# (the zone most of the brands use; UTC for one without brands). docs/team-operations.md#workload.


@dataclass(frozen=True)
class Calendars:
    own: dict[int, ZoneInfo]  # user id → the zone they set themselves
    brands: dict[int, ZoneInfo]  # brand id (the scope's) → its zone
    default: ZoneInfo  # the zone most of the scope's brands (else the organization's) use

    def of(self, user_id: int) -> ZoneInfo:
        """The calendar of a person as a whole (their pages, their hours on call, "today")."""
        return self.own.get(user_id, self.default)


def calendars_of(scope: Scope) -> Calendars:
    """Two queries, whatever the number of people and brands."""
    names = dict(Brand.objects.filter(organization=scope.organization).values_list("pk", "timezone"))
    mine = [names[pk] for pk in scope.brand_ids if pk in names] or list(names.values())
    if mine:
        # The most used; on a tie, the first in name order, so the choice does not change between pages.
        counted = Counter(mine)
        default = zone(max(sorted(counted), key=counted.__getitem__))
    else:
        default = zone("UTC")
    brands = {pk: zone(names[pk]) for pk in scope.brand_ids if pk in names}
    return Calendars(_person_zones(scope), brands, default)


def today_for(scope: Scope, now: datetime | None = None, calendars: Calendars | None = None) -> date:
    """Today in the viewer's calendar: the last day of the period they read."""
    now = now or timezone.now()
    return now.astimezone((calendars or calendars_of(scope)).of(scope.viewer.pk)).date()


def period_of(days: object, today: date) -> Period:
    """`?days=`: one of PERIODS, anything else the default (never an error)."""
    try:
        wanted = int(str(days))
    except (TypeError, ValueError):
        wanted = DEFAULT_DAYS
    return last_days(wanted if wanted in PERIODS else DEFAULT_DAYS, today)


def span_of(period: Period, now: datetime, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The instants of the period's days in the calendar `tz` (UTC when not given): from the first
    day's midnight to the midnight after the last (summer time included), never past now."""
    start = _midnight(period.first, tz or UTC)
    end = _midnight(period.last + timedelta(days=1), tz or UTC)
    return start, max(min(end, now), start)


def _midnight(day: date, tz: tzinfo) -> datetime:
    # Normalised through UTC: a zone whose clocks jump at midnight starts the day at the jump.
    local = datetime.combine(day, time(0), tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz) if isinstance(tz, ZoneInfo) else local


# --- the figures ----------------------------------------------------------------------------------


@dataclass
class Report:
    rows: list[PersonLoad]
    median: float | None  # the team's replies per day worked; None with fewer than MIN_PEERS


def workload(scope: Scope, period: Period, now: datetime | None = None) -> list[PersonLoad]:
    """Every row `scope` may see over `period`, with its overload signals, in name order."""
    return report(scope, period, now).rows


def report(
    scope: Scope, period: Period, now: datetime | None = None, calendars: Calendars | None = None
) -> Report:
    """The rows and the team's median pace they were compared with (`calendars`: the scope's, when
    the caller already read them to find the period)."""
    now = now or timezone.now()
    members = {m.user_id: m for m in scope.team}
    loads = {uid: PersonLoad(user=m.user, role=m.role) for uid, m in members.items()}
    calendars = calendars or calendars_of(scope)
    # Each person's period: the same days, in their own calendar.
    windows = {uid: span_of(period, now, calendars.of(uid)) for uid in loads}
    start, end = span_of(period, now, calendars.default)
    if windows:
        start = min(start, *(w[0] for w in windows.values()))
        end = max(end, *(w[1] for w in windows.values()))
    days: dict[int, set[date]] = defaultdict(set)
    _add_days(scope, period, now, calendars, loads, days)
    for uid, worked in days.items():
        load = loads[uid]
        load.days_worked = len(worked)
        load.weekend_days = sum(1 for d in worked if d.weekday() >= 5)
        load.longest_streak, load.current_streak = streaks(worked, period.last)
        load.weekends_in_a_row = weekends_in_a_row(worked)
    _add_pages(scope, start, end, loads, calendars, windows)
    hours = on_call_hours(scope, start, end, windows)
    if hours is not None:
        for uid, load in loads.items():
            load.on_call_hours = round(hours.get(uid, 0.0), 1)
    _add_open(scope, members, loads)
    median = team_median(loads.values())
    backups = no_backup_people(scope)
    for uid, load in loads.items():
        load.signals = signals_of(load, median, backups.get(uid, []))
    rows = [loads[uid] for uid in members if uid in scope.shown]
    return Report(rows, round(median, 1) if median is not None else None)


def _add_days(
    scope: Scope,
    period: Period,
    now: datetime,
    calendars: Calendars,
    loads: dict[int, PersonLoad],
    days: dict[int, set[date]],
) -> None:
    """Replies, conversations, weekend replies and the days worked, in each person's calendar.

    The daily rollup (PersonDay) counts each brand's replies in the brand's days: right for everyone
    without a zone of their own, and for those whose zone is the brand's. For a person whose own zone
    differs from a brand's, that brand's replies are counted again from the messages, by day in their
    zone: one grouped query per such zone, never one per person or per day. After-hours replies are
    the rollup's in every case: "after hours" is judged against the brand's business hours (or 20:00 to
    08:00 in the brand's zone for a brand open around the clock), as the analytics dashboards do.
    """
    own = {uid: found for uid, found in calendars.own.items() if uid in loads}
    rows = PersonDay.objects.filter(
        organization=scope.organization,
        brand_id__in=scope.brand_ids,
        user_id__in=list(loads),
        day__gte=period.first,
        day__lte=period.last,
    ).values_list("user_id", "brand_id", "day", "replies", "conversations", "after_hours", "weekend")
    for user_id, brand_id, day, replies, conversations, after_hours, weekend in rows:
        load = loads[user_id]
        load.after_hours += after_hours
        if _moved(own.get(user_id), calendars.brands.get(brand_id)):
            continue  # counted from the messages below, in the person's own calendar
        load.replies += replies
        load.conversations += conversations
        load.weekend_replies += weekend
        if replies:
            days[user_id].add(day)
    by_zone: dict[str, list[int]] = defaultdict(list)
    for user_id, found in own.items():
        by_zone[found.key].append(user_id)
    for key, people in sorted(by_zone.items()):
        tz = zone(key)
        brand_ids = [pk for pk in scope.brand_ids if _moved(tz, calendars.brands.get(pk))]
        if not brand_ids:
            continue
        start, end = span_of(period, now, tz)
        grouped = (
            Message.objects.filter(
                organization=scope.organization,
                brand_id__in=brand_ids,
                direction=Direction.OUTBOUND,
                sent_by_id__in=people,
                sent_at__gte=start,
                sent_at__lt=end,
            )
            .annotate(day=TruncDate("sent_at", tzinfo=tz))
            .order_by()
            .values_list("sent_by_id", "day")
            .annotate(replies=Count("id"), conversations=Count("conversation_id", distinct=True))
        )
        for user_id, day, replies, conversations in grouped:
            load = loads[user_id]
            load.replies += replies
            load.conversations += conversations
            if day.weekday() >= 5:
                load.weekend_replies += replies
            days[user_id].add(day)


def _moved(own: ZoneInfo | None, brand: ZoneInfo | None) -> bool:
    """Whether a brand's days are not the person's: they set a zone of their own, and it is another."""
    return own is not None and brand is not None and own.key != brand.key


def streaks(worked: Iterable[date], last: date) -> tuple[int, int]:
    """(longest run of consecutive days, the run still going at `last`: ending on it or the day
    before, since today may not be worked yet)."""
    ordered = sorted(set(worked))
    longest = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = run if previous is not None and (last - previous).days <= 1 else 0
    return longest, current


def weekends_in_a_row(worked: Iterable[date]) -> int:
    """The longest run of consecutive weekends with work on the Saturday or the Sunday."""
    saturdays = sorted({d - timedelta(days=d.weekday() - 5) for d in worked if d.weekday() >= 5})
    longest = run = 0
    previous: date | None = None
    for saturday in saturdays:
        run = run + 1 if previous is not None and saturday - previous == timedelta(days=7) else 1
        longest = max(longest, run)
        previous = saturday
    return longest


def _person_zones(scope: Scope) -> dict[int, ZoneInfo]:
    """user id → their own time zone, where the on-call module keeps one."""
    try:
        from tertulia.teamops.models import WorkingHours
    except ImportError:  # pragma: no cover - teamops without working hours
        return {}
    found = {}
    for user_id, name in WorkingHours.objects.filter(membership__in=[m.pk for m in scope.team]).values_list(
        "membership__user_id", "timezone"
    ):
        if name:
            found[user_id] = zone(name)
    return found


def is_night(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return local >= QUIET_HOURS_START or local < QUIET_HOURS_END


def most_within_a_week(instants: Sequence[datetime]) -> int:
    ordered = sorted(instants)
    best = low = 0
    for high, at in enumerate(ordered):
        while at - ordered[low] >= timedelta(days=7):
            low += 1
        best = max(best, high - low + 1)
    return best


def _add_pages(
    scope: Scope,
    start: datetime,
    end: datetime,
    loads: dict[int, PersonLoad],
    calendars: Calendars,
    windows: dict[int, tuple[datetime, datetime]],
) -> None:
    """A page is one telling of an alert to a person (its level), by the app or e-mail, that went
    out; both media of the same telling are one page. Rehearsals wake nobody for real: not counted.
    Read over [start, end), counted within each person's own `windows` (their calendar's days)."""
    first_sent: dict[tuple[int, int, int], tuple[datetime, str]] = {}
    for user_id, alert_id, level, sent_at, brand_zone in AlertNotice.objects.filter(
        alert__organization=scope.organization,
        alert__brand_id__in=scope.brand_ids,
        alert__is_rehearsal=False,
        user_id__in=list(loads),
        medium__in=(Medium.APP, Medium.EMAIL),
        error="",
        sent_at__gte=start,
        sent_at__lt=end,
    ).values_list("user_id", "alert_id", "level", "sent_at", "alert__brand__timezone"):
        key = (user_id, alert_id, level)
        if key not in first_sent or sent_at < first_sent[key][0]:
            first_sent[key] = (sent_at, brand_zone)
    zones = calendars.own
    nights: dict[int, list[datetime]] = defaultdict(list)
    for (user_id, _alert, _level), (sent_at, brand_zone) in first_sent.items():
        window = windows.get(user_id)
        if window is not None and not window[0] <= sent_at < window[1]:
            continue
        loads[user_id].pages += 1
        if is_night(sent_at, zones.get(user_id) or zone(brand_zone)):
            nights[user_id].append(sent_at)
    for user_id, instants in nights.items():
        loads[user_id].night_pages = len(instants)
        loads[user_id].night_pages_in_a_week = most_within_a_week(instants)


def on_call_hours(
    scope: Scope, start: datetime, end: datetime, windows: dict[int, tuple[datetime, datetime]] | None = None
) -> dict[int, float] | None:
    """user id → hours on call in [start, end) (or in the person's own window of `windows`, within it)
    for rotations covering the scope's brands; None when Tertulia has no on-call rotations (the module
    is optional here). Overlapping rotations count once."""
    try:
        from tertulia.teamops.models import Rotation
        from tertulia.teamops.oncall import active_members, load_plans, segments, time_off_of
    except ImportError:  # pragma: no cover - an installation without on-call rotations
        return None
    if end <= start:
        return {}
    rotations = (
        Rotation.objects.filter(organization=scope.organization, is_active=True)
        .filter(Q(all_brands=True) | Q(brands__in=scope.brand_ids))
        .distinct()
    )
    plans = load_plans(rotations, start, end)
    if not plans:
        return {}
    members = active_members(scope.organization.pk)
    people = {m.user_id for p in plans for m in p.members} | {o.user_id for p in plans for o in p.overrides}
    away = time_off_of(scope.organization.pk, people, start, end)
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for plan in plans:
        for segment in segments(plan, start, end, away, members):
            for person in segment.people:
                if person.pk not in segment.problems:
                    spans[person.pk].append((segment.starts_at, segment.ends_at))
    if windows:
        for uid, found in spans.items():
            if uid in windows:
                low, high = windows[uid]
                spans[uid] = [(max(a, low), min(b, high)) for a, b in found if min(b, high) > max(a, low)]
    return {uid: _union_hours(found) for uid, found in spans.items()}


def _union_hours(spans: list[tuple[datetime, datetime]]) -> float:
    total = timedelta()
    current: tuple[datetime, datetime] | None = None
    for begin, finish in sorted(spans):
        if current is None or begin > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (begin, finish)
        else:
            current = (current[0], max(current[1], finish))
    if current is not None:
        total += current[1] - current[0]
    return total.total_seconds() / 3600


def _add_open(scope: Scope, members: dict[int, Membership], loads: dict[int, PersonLoad]) -> None:
    """Open and pending conversations assigned now (the ones inbox assignment counts against capacity),
    in the scope's brands; the capacity each person set (25 unless they changed it; 0: no limit)."""
    for row in (
        Conversation.objects.filter(
            organization=scope.organization,
            brand_id__in=scope.brand_ids,
            assignee_id__in=list(loads),
            status__in=(Status.OPEN, Status.PENDING),
        )
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
    ):
        loads[row["assignee_id"]].open_now = row["n"]
    default = int(AgentStatus._meta.get_field("capacity").get_default())
    set_by = dict(
        AgentStatus.objects.filter(membership__in=[m.pk for m in members.values()]).values_list(
            "membership__user_id", "capacity"
        )
    )
    for uid, load in loads.items():
        load.capacity = int(set_by.get(uid, default))


def team_median(loads: Iterable[PersonLoad]) -> float | None:
    """The median replies per day worked of those who worked; None with fewer than MIN_PEERS."""
    paces = [load.replies / load.days_worked for load in loads if load.days_worked]
    if len(paces) < MIN_PEERS:
        return None
    return float(statistics.median(paces))


def signals_of(load: PersonLoad, median: float | None, no_backup: Sequence[str] = ()) -> list[Signal]:
    """The overload signals of one person (each threshold is explained where it is defined)."""
    found: list[Signal] = []
    if median and load.days_worked:
        pace = load.replies / load.days_worked
        if pace > PACE_FACTOR * median:
            found.append(Signal(SignalKind.PACE, round(pace, 1), round(median, 1)))
    if load.replies >= MIN_REPLIES_FOR_SHARE and 100 * load.after_hours > AFTER_HOURS_PERCENT * load.replies:
        found.append(
            Signal(
                SignalKind.AFTER_HOURS, round(100 * load.after_hours / load.replies, 1), AFTER_HOURS_PERCENT
            )
        )
    if load.longest_streak >= STREAK_DAYS:
        found.append(Signal(SignalKind.STREAK, load.longest_streak, STREAK_DAYS))
    if load.weekends_in_a_row >= WEEKENDS_IN_A_ROW:
        found.append(Signal(SignalKind.WEEKENDS, load.weekends_in_a_row, WEEKENDS_IN_A_ROW))
    if load.night_pages_in_a_week >= NIGHT_PAGES_PER_WEEK:
        found.append(Signal(SignalKind.NIGHT_PAGES, load.night_pages_in_a_week, NIGHT_PAGES_PER_WEEK))
    if load.capacity and load.open_now > load.capacity:
        found.append(Signal(SignalKind.CAPACITY, load.open_now, load.capacity))
    if no_backup:
        found.append(Signal(SignalKind.NO_BACKUP, len(no_backup), detail=", ".join(no_backup)))
    return found


# --- backup coverage --------------------------------------------------------------------------------


def channel_gaps(scope: Scope) -> list[Gap]:
    """The backup-coverage gaps (tertulia.governance.coverage) of the channels of the scope's brands."""
    brand_ids = set(scope.brand_ids)
    return [gap for gap in coverage_gaps(scope.organization) if gap.channel.brand_id in brand_ids]


def no_backup_people(scope: Scope) -> dict[int, list[str]]:
    """user id → the channels (@handle) that depend on them alone: the only operator, or a channel
    acting through their own login on the network."""
    found: dict[int, list[str]] = defaultdict(list)
    for gap in channel_gaps(scope):
        if gap.kind not in (CoverageGap.ONE_OPERATOR, CoverageGap.PERSONAL_ACCOUNT):
            continue
        for person in gap.people:
            label = f"@{gap.channel.handle}"
            if label not in found[person.pk]:
                found[person.pk].append(label)
    return dict(found)


# --- sorting and the CSV ------------------------------------------------------------------------------

SORTS: dict[str, str] = {
    "name": "name",
    "signals": "signals",
    "conversations": "conversations",
    "replies": "replies",
    "pace": "replies_per_day",
    "after_hours": "after_hours_percent",
    "weekend": "weekend_days",
    "streak": "longest_streak",
    "pages": "pages",
    "night_pages": "night_pages",
    "on_call": "on_call_hours",
    "open": "open_now",
}
DEFAULT_SORT = "signals"


def parse_sort(raw: object) -> tuple[str, bool]:
    """`?sort=replies` (the most first; names A to Z), `?sort=-replies` the other way. Anything
    unknown: the default (most signals first)."""
    text = str(raw or "").strip()
    flipped = text.startswith("-")
    name = text[1:] if flipped else text
    if name not in SORTS:
        return DEFAULT_SORT, False
    return name, flipped


def sort_loads(loads: Sequence[PersonLoad], name: str, flipped: bool = False) -> list[PersonLoad]:
    def label(load: PersonLoad) -> str:
        return str(load.user).casefold()

    if name == "name":
        return sorted(loads, key=label, reverse=flipped)
    attribute = SORTS[name]

    def value(load: PersonLoad) -> float:
        if attribute == "signals":
            return float(len(load.signals) * 1_000_000 + load.replies)
        found = getattr(load, attribute)
        return float(found) if found is not None else -1.0

    by_name = sorted(loads, key=label)
    return sorted(by_name, key=value, reverse=not flipped)


def csv_header() -> list[str]:
    return [
        _("Name"),
        _("E-mail address"),
        _("Conversations"),
        _("Replies"),
        _("Days worked"),
        _("Replies per day worked"),
        _("After-hours replies"),
        _("After-hours %"),
        _("Weekend replies"),
        _("Weekend days worked"),
        _("Longest run of days"),
        _("Current run of days"),
        _("Weekends in a row"),
        _("Crisis pages"),
        _("Pages at night"),
        _("Hours on call"),
        _("Open conversations now"),
        _("Capacity"),
        _("Signals"),
    ]


def csv_values(loads: Iterable[PersonLoad]) -> Iterable[list[object]]:
    for load in loads:
        yield [
            load.user.display_name,
            load.user.email,
            load.conversations,
            load.replies,
            load.days_worked,
            load.replies_per_day,
            load.after_hours,
            load.after_hours_percent,
            load.weekend_replies,
            load.weekend_days,
            load.longest_streak,
            load.current_streak,
            load.weekends_in_a_row,
            load.pages,
            load.night_pages,
            load.on_call_hours,
            load.open_now,
            load.capacity or "",
            " | ".join(signal.reason for signal in load.signals),
        ]
