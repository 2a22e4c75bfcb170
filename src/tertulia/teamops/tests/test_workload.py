"""Workload per person: the counts from real messages (through the daily rollup), pages, on-call
hours, open conversations, who sees whom, and every overload signal on both sides of its edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tertulia.analytics.models import PersonDay
from tertulia.analytics.periods import Period
from tertulia.analytics.rollup import roll_up
from tertulia.analytics.tests.factories import conversation, message
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import Brand, Channel, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.crisis.models import Alert, AlertNotice, Medium
from tertulia.inbox.models import AgentStatus, Conversation, Status
from tertulia.teamops import workload as wl
from tertulia.teamops.workload import PersonLoad, Signal, SignalKind

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
MADRID = ZoneInfo("Europe/Madrid")
# Monday 3 to Sunday 16 March 2025: Madrid is on UTC+1 all along (summer time starts on the 30th).
PERIOD = Period(date(2025, 3, 3), date(2025, 3, 16))
AFTER = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def madrid(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=MADRID)


@dataclass
class Org:
    org: Organization
    owner: User
    brand: Brand
    other: Brand
    channel: Channel
    other_channel: Channel
    cm: User
    cm2: User
    limited: User  # community manager of `other` only
    manager: User  # brand manager of `brand` only


def limit(user: User, org: Organization, *brands: Brand) -> None:
    set_brand_access(
        SYSTEM, Membership.objects.get(user=user, organization=org), all_brands=False, brands=brands
    )


@pytest.fixture
def o(db: None) -> Org:
    owner = make_user("owner@example.com", display_name="Olga Owner")
    org = make_org("Tertulia SA", owner=owner)
    brand, other = make_brand(org, "Marca"), make_brand(org, "Otra")
    cm = make_member(org, Role.COMMUNITY_MANAGER, email="cm@example.com", display_name="Carmen")
    cm2 = make_member(org, Role.COMMUNITY_MANAGER, email="cm2@example.com", display_name="Diego")
    limited = make_member(org, Role.COMMUNITY_MANAGER, email="lim@example.com", display_name="Lola")
    limit(limited, org, other)
    manager = make_member(org, Role.BRAND_MANAGER, email="bm@example.com", display_name="Bruno")
    limit(manager, org, brand)
    return Org(
        org=org,
        owner=owner,
        brand=brand,
        other=other,
        channel=connect_channel(SYSTEM, brand, "sandbox", "marca", "Marca"),
        other_channel=connect_channel(SYSTEM, other, "sandbox", "otra", "Otra"),
        cm=cm,
        cm2=cm2,
        limited=limited,
        manager=manager,
    )


def rows_by_email(viewer: User, org: Organization, period: Period = PERIOD) -> dict[str, PersonLoad]:
    return {row.user.email: row for row in wl.workload(wl.scope_for(viewer, org), period, AFTER)}


def reply(channel: Channel, at: datetime, by: User, thread: Conversation | None = None) -> None:
    message(channel, at, outbound=True, by=by, thread=thread)


# --- counts from real messages -------------------------------------------------------------------


def test_counts_come_from_the_messages_through_the_rollup(o: Org) -> None:
    a = conversation(o.channel, madrid(3, 9))
    b = conversation(o.channel, madrid(3, 9))
    message(o.channel, madrid(3, 9), thread=a)  # inbound: not anybody's work
    reply(o.channel, madrid(3, 10), o.cm, a)
    reply(o.channel, madrid(3, 10, 5), o.cm, a)
    reply(o.channel, madrid(3, 11), o.cm, b)
    reply(o.channel, madrid(3, 21, 30), o.cm, a)  # after hours (20:00-08:00, open around the clock)
    reply(o.channel, madrid(8, 11), o.cm)  # Saturday
    reply(o.channel, madrid(9, 23, 30), o.cm)  # Sunday night: weekend and after hours
    reply(o.channel, madrid(10, 0, 30), o.cm)  # Sunday 23:30 UTC, but Monday in Madrid
    reply(o.other_channel, madrid(4, 12), o.cm)  # another brand of the same organization
    reply(o.channel, madrid(17, 12), o.cm)  # after the period
    reply(o.channel, madrid(5, 12), o.cm2)
    for brand in (o.brand, o.other):
        roll_up(brand, date(2025, 3, 1), date(2025, 3, 20), now=AFTER)

    rows = rows_by_email(o.owner, o.org)
    carmen = rows["cm@example.com"]
    assert carmen.replies == 8
    # Distinct conversations per day, added up: Mon 3 (a, b), Tue 4, Sat 8, Sun 9, Mon 10.
    assert carmen.conversations == 6
    assert carmen.days_worked == 5  # 3, 4, 8, 9 and 10 March
    assert carmen.after_hours == 3
    assert carmen.after_hours_percent == 37.5
    assert carmen.weekend_replies == 2
    assert carmen.weekend_days == 2
    assert carmen.longest_streak == 3  # Saturday, Sunday, Monday
    assert carmen.current_streak == 0
    assert carmen.weekends_in_a_row == 1
    assert carmen.replies_per_day == 1.6
    assert rows["cm2@example.com"].replies == 1

    # The brand manager of `brand` counts Carmen's work in that brand only.
    seen_by_manager = rows_by_email(o.manager, o.org)
    assert seen_by_manager["cm@example.com"].replies == 7
    assert seen_by_manager["cm@example.com"].days_worked == 4


def test_days_worked_counts_each_date_once_across_brands(o: Org) -> None:
    for channel in (o.channel, o.other_channel):
        PersonDay.objects.create(
            organization=o.org,
            brand=channel.brand,
            channel=channel,
            user=o.cm,
            day=date(2025, 3, 4),
            replies=2,
        )
    PersonDay.objects.create(
        organization=o.org, brand=o.brand, channel=o.channel, user=o.cm, day=date(2025, 3, 5), replies=0
    )
    carmen = rows_by_email(o.owner, o.org)["cm@example.com"]
    assert (carmen.replies, carmen.days_worked) == (4, 1)


# --- who sees whom -------------------------------------------------------------------------------


def test_who_sees_whom(o: Org) -> None:
    outsider_org = make_org("Rival")
    outsider = make_member(outsider_org, Role.COMMUNITY_MANAGER, email="rival@example.com")
    everybody = {
        "owner@example.com",
        "cm@example.com",
        "cm2@example.com",
        "lim@example.com",
        "bm@example.com",
    }
    assert set(rows_by_email(o.owner, o.org)) == everybody
    # A brand manager: the people who work in their brand (Lola works only in the other one).
    assert set(rows_by_email(o.manager, o.org)) == everybody - {"lim@example.com"}
    # A community manager: only themselves, whoever else works with them.
    assert set(rows_by_email(o.cm, o.org)) == {"cm@example.com"}
    assert set(rows_by_email(o.limited, o.org)) == {"lim@example.com"}
    # Nothing of another organization, from either side.
    assert "rival@example.com" not in rows_by_email(o.owner, o.org)
    assert set(rows_by_email(outsider, outsider_org)) == {"rival@example.com"}
    assert rows_by_email(outsider, o.org) == {}
    assert wl.scope_for(o.cm, o.org).everybody is False
    assert wl.scope_for(o.manager, o.org).brand_ids == (o.brand.pk,)


# --- pages, on call, open conversations ------------------------------------------------------------


def page(
    o: Org, user: User, at: datetime, *, level: int = 0, rehearsal: bool = False, error: str = ""
) -> Alert:
    alert = Alert.objects.create(
        organization=o.org, brand=o.brand, title="Pico", raised_at=at, is_rehearsal=rehearsal
    )
    for medium in (Medium.APP, Medium.EMAIL):  # one telling by two media: one page
        AlertNotice.objects.create(
            alert=alert, level=level, medium=medium, user=user, sent_at=at, error=error
        )
    AlertNotice.objects.create(alert=alert, level=level, medium=Medium.WEBHOOK, user=None, sent_at=at)
    return alert


def test_pages_and_night_pages(o: Org) -> None:
    page(o, o.cm, madrid(4, 2))  # night
    page(o, o.cm, madrid(6, 23))  # night
    page(o, o.cm, madrid(7, 12))  # day
    page(o, o.cm, madrid(13, 3))  # night, but 9 days after the first
    page(o, o.cm, madrid(8, 3), rehearsal=True)  # a rehearsal wakes nobody for real
    page(o, o.cm, madrid(9, 3), error="SMTP down")  # never reached them
    page(o, o.cm, madrid(20, 3))  # after the period
    carmen = rows_by_email(o.owner, o.org)["cm@example.com"]
    assert (carmen.pages, carmen.night_pages, carmen.night_pages_in_a_week) == (4, 3, 2)
    assert SignalKind.NIGHT_PAGES not in carmen.signal_kinds

    page(o, o.cm, madrid(10, 4))  # the 6th, the 10th and the 13th: three nights within 7 days
    carmen = rows_by_email(o.owner, o.org)["cm@example.com"]
    assert (carmen.night_pages, carmen.night_pages_in_a_week) == (4, 3)
    assert SignalKind.NIGHT_PAGES in carmen.signal_kinds


def test_an_escalated_telling_is_another_page(o: Org) -> None:
    alert = page(o, o.cm2, madrid(5, 12), level=0)
    AlertNotice.objects.create(alert=alert, level=1, medium=Medium.APP, user=o.cm2, sent_at=madrid(5, 12, 10))
    assert rows_by_email(o.owner, o.org)["cm2@example.com"].pages == 2


def test_open_conversations_against_capacity(o: Org) -> None:
    member = Membership.objects.get(user=o.cm, organization=o.org)
    AgentStatus.objects.create(membership=member, capacity=2)
    for status in (Status.OPEN, Status.PENDING, Status.CLOSED, Status.SNOOZED):
        thread = conversation(o.channel, madrid(3, 9))
        thread.assignee, thread.status = o.cm, status
        thread.save()
    carmen = rows_by_email(o.owner, o.org)["cm@example.com"]
    assert (carmen.open_now, carmen.capacity) == (2, 2)
    assert SignalKind.CAPACITY not in carmen.signal_kinds
    thread = conversation(o.other_channel, madrid(3, 9))
    thread.assignee = o.cm
    thread.save()
    carmen = rows_by_email(o.owner, o.org)["cm@example.com"]
    assert carmen.open_now == 3
    assert SignalKind.CAPACITY in carmen.signal_kinds
    # Someone who never set a capacity has the default, 25.
    assert rows_by_email(o.owner, o.org)["cm2@example.com"].capacity == 25


def test_hours_on_call_follow_the_rotation(o: Org) -> None:
    oncall_models = pytest.importorskip("tertulia.teamops.models")
    rotation = oncall_models.Rotation.objects.create(
        organization=o.org,
        name="24/7",
        timezone="UTC",
        shift_days=7,
        handover_time=time(9),
        starts_on=PERIOD.first,
    )
    for position, user in enumerate((o.cm, o.cm2)):
        oncall_models.RotationMember.objects.create(
            rotation=rotation,
            membership=Membership.objects.get(user=user, organization=o.org),
            position=position,
        )
    rows = rows_by_email(o.owner, o.org)
    # Carmen: Monday 3 at 09:00 to Monday 10 at 09:00 UTC; Diego from then to the end of Sunday 16 in
    # their calendar, the brand's (Madrid, UTC+1): 23:00 UTC, not midnight UTC.
    assert rows["cm@example.com"].on_call_hours == 168.0
    assert rows["cm2@example.com"].on_call_hours == 6 * 24 + 14
    assert rows["owner@example.com"].on_call_hours == 0.0


# --- no backup -------------------------------------------------------------------------------------


def test_the_only_operator_of_a_channel_has_no_backup(o: Org) -> None:
    set_channel_operators(SYSTEM, o.channel, [o.cm])
    set_channel_operators(SYSTEM, o.other_channel, [o.cm, o.cm2])
    rows = rows_by_email(o.owner, o.org)
    signal = next(s for s in rows["cm@example.com"].signals if s.kind == SignalKind.NO_BACKUP)
    assert signal.detail == "@marca"
    assert "@marca" in signal.reason
    assert SignalKind.NO_BACKUP not in rows["cm2@example.com"].signal_kinds
    assert {gap.channel.handle for gap in wl.channel_gaps(wl.scope_for(o.owner, o.org))} == {"marca"}


# --- the signals, on both sides of each edge --------------------------------------------------------


def load(**figures: int) -> PersonLoad:
    # Only counts are passed here; mypy cannot tell them from PersonLoad's other fields in **figures.
    return PersonLoad(user=User(email="x@example.com"), role=Role.COMMUNITY_MANAGER, **figures)  # type: ignore[arg-type]  # see above


def kinds(found: list[Signal]) -> set[str]:
    return {s.kind for s in found}


def test_pace_against_the_team_median() -> None:
    # 1.5 times a median of 2.0 is 3.0: exactly that is not a signal; a little more is.
    assert wl.signals_of(load(replies=30, days_worked=10), 2.0) == []
    fired = wl.signals_of(load(replies=31, days_worked=10), 2.0)
    assert kinds(fired) == {SignalKind.PACE}
    assert "3.1" in fired[0].reason and "2" in fired[0].reason
    assert wl.signals_of(load(replies=31, days_worked=10), None) == []


def test_the_median_needs_three_people_who_worked() -> None:
    two = [load(replies=10, days_worked=5), load(replies=40, days_worked=5), load(replies=0, days_worked=0)]
    assert wl.team_median(two) is None
    three = [*two, load(replies=30, days_worked=10)]
    assert wl.team_median(three) == 3.0


def test_pace_fires_in_a_real_team(o: Org) -> None:
    for user, per_day in ((o.cm, 10), (o.cm2, 10), (o.limited, 10), (o.manager, 16)):
        brand = o.other if user == o.limited else o.brand
        channel = o.other_channel if brand == o.other else o.channel
        PersonDay.objects.create(
            organization=o.org, brand=brand, channel=channel, user=user, day=date(2025, 3, 4), replies=per_day
        )
    found = wl.report(wl.scope_for(o.owner, o.org), PERIOD, AFTER)
    assert found.median == 10.0
    by_email = {row.user.email: row for row in found.rows}
    assert SignalKind.PACE in by_email["bm@example.com"].signal_kinds  # 16 > 15
    assert SignalKind.PACE not in by_email["cm@example.com"].signal_kinds
    # Seen by the brand manager of `brand`: Lola (other brand) is not a peer; 10, 10 and 16 remain.
    assert wl.report(wl.scope_for(o.manager, o.org), PERIOD, AFTER).median == 10.0


def test_after_hours_share() -> None:
    assert wl.signals_of(load(replies=20, after_hours=5), None) == []  # 25 %: not more than 25 %
    assert kinds(wl.signals_of(load(replies=20, after_hours=6), None)) == {SignalKind.AFTER_HOURS}
    assert kinds(wl.signals_of(load(replies=10, after_hours=3), None)) == {SignalKind.AFTER_HOURS}
    assert wl.signals_of(load(replies=9, after_hours=9), None) == []  # too few replies to say


def test_days_and_weekends_in_a_row() -> None:
    assert wl.signals_of(load(longest_streak=5), None) == []
    assert kinds(wl.signals_of(load(longest_streak=6), None)) == {SignalKind.STREAK}
    assert wl.signals_of(load(weekends_in_a_row=1), None) == []
    assert kinds(wl.signals_of(load(weekends_in_a_row=2), None)) == {SignalKind.WEEKENDS}
    assert wl.signals_of(load(night_pages_in_a_week=2), None) == []
    assert kinds(wl.signals_of(load(night_pages_in_a_week=3), None)) == {SignalKind.NIGHT_PAGES}
    assert wl.signals_of(load(open_now=25, capacity=25), None) == []
    assert kinds(wl.signals_of(load(open_now=26, capacity=25), None)) == {SignalKind.CAPACITY}
    assert wl.signals_of(load(open_now=500, capacity=0), None) == []  # 0: no limit


def test_streaks_and_weekends_from_dates() -> None:
    last = date(2025, 3, 16)
    six = [date(2025, 3, d) for d in range(3, 9)]  # Monday to Saturday
    assert wl.streaks(six, last) == (6, 0)
    assert wl.streaks([*six, date(2025, 3, 15)], last) == (6, 1)  # yesterday still counts as now
    assert wl.streaks([date(2025, 3, 14), date(2025, 3, 16)], last) == (1, 1)
    assert wl.streaks([], last) == (0, 0)
    # Sunday 9 and Saturday 15: two weekends in a row; 1 and 15 March have a weekend between them.
    assert wl.weekends_in_a_row([date(2025, 3, 9), date(2025, 3, 15)]) == 2
    assert wl.weekends_in_a_row([date(2025, 3, 1), date(2025, 3, 15)]) == 1
    assert wl.weekends_in_a_row([date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 10)]) == 1


def test_most_pages_within_a_week() -> None:
    start = datetime(2025, 3, 1, 2, tzinfo=UTC)
    assert wl.most_within_a_week([start, start + timedelta(days=6, hours=23), start + timedelta(days=7)]) == 2
    assert wl.most_within_a_week([]) == 0


def test_sort_and_period_parsing_never_fail() -> None:
    assert wl.parse_sort("replies") == ("replies", False)
    assert wl.parse_sort("-name") == ("name", True)
    for bad in ("", None, "--replies", "user__password", "<x>", "-"):
        assert wl.parse_sort(bad) == ("signals", False)
    today = date(2025, 3, 16)
    assert wl.period_of("7", today) == Period(date(2025, 3, 10), today)
    for bad in ("abc", "-1", "0", "365", None, "9" * 400):
        assert wl.period_of(bad, today).days == 30
    rows = [load(replies=3), load(replies=9), load(replies=5)]
    assert [r.replies for r in wl.sort_loads(rows, "replies")] == [9, 5, 3]
    assert [r.replies for r in wl.sort_loads(rows, "replies", True)] == [3, 5, 9]


# --- whose calendar: the person's, the brand's, the organization's ------------------------------------


def own_zone(o: Org, user: User, name: str) -> None:
    from tertulia.teamops.models import WorkingHours

    WorkingHours.objects.create(
        membership=Membership.objects.get(user=user, organization=o.org), timezone=name
    )


def in_zone(brand: Brand, name: str) -> None:
    brand.timezone = name
    brand.save(update_fields=["timezone"])


def test_half_past_midnight_in_madrid_is_saturday_even_before_midnight_utc(o: Org) -> None:
    now = datetime(2025, 3, 8, 0, 45, tzinfo=MADRID)  # Friday 23:45 UTC
    reply(o.channel, madrid(7, 12), o.cm)  # Friday
    reply(o.channel, madrid(8, 0, 30), o.cm)  # Friday 23:30 UTC, Saturday in Madrid
    roll_up(o.brand, date(2025, 3, 1), date(2025, 3, 8), now=now)
    scope = wl.scope_for(o.owner, o.org)
    today = wl.today_for(scope, now)
    assert today == date(2025, 3, 8)  # UTC would still say the 7th, and leave Saturday out
    carmen = {r.user.email: r for r in wl.workload(scope, wl.period_of("7", today), now)}["cm@example.com"]
    assert (carmen.replies, carmen.days_worked) == (2, 2)
    assert (carmen.weekend_replies, carmen.weekend_days) == (1, 1)
    assert (carmen.longest_streak, carmen.current_streak) == (2, 2)
    assert carmen.after_hours == 1  # 00:30 in the brand's zone: after hours


def test_a_person_with_their_own_zone_is_counted_in_their_days(o: Org) -> None:
    in_zone(o.brand, "UTC")  # the brand's days are UTC days
    own_zone(o, o.cm, "Europe/Madrid")
    own_zone(o, o.manager, "Europe/Madrid")  # a second person in the same zone: still one query
    reply(o.channel, madrid(7, 23, 30), o.cm)  # Friday 22:30 UTC: Friday for both
    reply(o.channel, madrid(8, 0, 30), o.cm)  # Friday 23:30 UTC: Saturday for Carmen
    reply(o.channel, madrid(9, 12), o.cm)  # Sunday
    reply(o.channel, madrid(8, 0, 30), o.cm2)  # Diego has no zone of his own: the brand's Friday
    roll_up(o.brand, date(2025, 3, 1), date(2025, 3, 20), now=AFTER)
    with CaptureQueriesContext(connection) as queries:
        rows = rows_by_email(o.owner, o.org)
    assert sum('"inbox_message"' in q["sql"] for q in queries.captured_queries) == 1
    carmen, diego = rows["cm@example.com"], rows["cm2@example.com"]
    assert (carmen.replies, carmen.conversations, carmen.days_worked) == (3, 3, 3)
    assert (carmen.weekend_replies, carmen.weekend_days, carmen.longest_streak) == (2, 2, 3)
    # After hours is the brand's judgement (open around the clock: 20:00-08:00 in its zone, UTC).
    assert carmen.after_hours == 2
    assert (diego.replies, diego.days_worked, diego.weekend_replies, diego.weekend_days) == (1, 1, 0, 0)


def test_days_and_pages_follow_summer_time(o: Org) -> None:
    # Madrid moves from UTC+1 to UTC+2 at 02:00 on Sunday 30 March 2025.
    in_zone(o.brand, "UTC")
    own_zone(o, o.cm, "Europe/Madrid")
    week = Period(date(2025, 3, 24), date(2025, 3, 30))
    now = datetime(2025, 4, 2, tzinfo=UTC)
    reply(o.channel, datetime(2025, 3, 29, 23, 30, tzinfo=UTC), o.cm)  # Sunday 00:30 (UTC+1)
    reply(o.channel, datetime(2025, 3, 30, 21, 30, tzinfo=UTC), o.cm)  # Sunday 23:30 (UTC+2)
    reply(o.channel, datetime(2025, 3, 30, 22, 30, tzinfo=UTC), o.cm)  # Monday 00:30 (UTC+2): after it
    page(o, o.cm, datetime(2025, 3, 23, 22, 30, tzinfo=UTC))  # Sunday 23 23:30 (UTC+1): before it
    page(o, o.cm, datetime(2025, 3, 23, 23, 30, tzinfo=UTC))  # Monday 24 00:30: the first hour
    page(o, o.cm, datetime(2025, 3, 30, 21, 30, tzinfo=UTC))  # Sunday 30 23:30: the last hour
    page(o, o.cm, datetime(2025, 3, 30, 22, 30, tzinfo=UTC))  # Monday 31 00:30: after it
    roll_up(o.brand, date(2025, 3, 20), date(2025, 4, 1), now=now)
    carmen = {r.user.email: r for r in wl.workload(wl.scope_for(o.owner, o.org), week, now)}["cm@example.com"]
    assert (carmen.replies, carmen.days_worked) == (2, 1)
    assert (carmen.weekend_replies, carmen.weekend_days) == (2, 1)
    assert (carmen.pages, carmen.night_pages) == (2, 2)
    assert wl.span_of(week, now, MADRID) == (
        datetime(2025, 3, 23, 23, tzinfo=UTC),
        datetime(2025, 3, 30, 22, tzinfo=UTC),  # a 23-hour Sunday
    )


def test_the_calendar_is_the_person_s_then_the_brand_s_then_the_organization_s(o: Org) -> None:
    in_zone(o.brand, "America/Mexico_City")
    make_brand(o.org, "Tercera")  # Madrid, like `other`: Madrid is the organization's zone
    own_zone(o, o.cm, "America/Bogota")
    everybody = wl.calendars_of(wl.scope_for(o.owner, o.org))
    assert everybody.of(o.cm.pk).key == "America/Bogota"
    assert everybody.of(o.cm2.pk).key == "Europe/Madrid"
    assert everybody.brands[o.brand.pk].key == "America/Mexico_City"
    # The brand manager of `brand` reads in its calendar, Mexico's.
    mexico = wl.calendars_of(wl.scope_for(o.manager, o.org))
    assert mexico.of(o.manager.pk).key == "America/Mexico_City"
    at = datetime(2025, 3, 8, 3, tzinfo=UTC)  # Saturday in Madrid and Bogotá... Friday 21:00 in Mexico
    assert wl.today_for(wl.scope_for(o.manager, o.org), at) == date(2025, 3, 7)
    assert wl.today_for(wl.scope_for(o.owner, o.org), at) == date(2025, 3, 8)
    lonely = make_user("solo@example.com")
    assert wl.calendars_of(wl.scope_for(lonely, make_org("Sin marcas", owner=lonely))).default.key == "UTC"
