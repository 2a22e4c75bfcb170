"""Daily rollups: counted on the brand's calendar, the same figures as the source tables, idempotent."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection

from tertulia.analytics.dashboards import people_table
from tertulia.analytics.figures import figures, histogram_percentile
from tertulia.analytics.models import (
    BrandRollup,
    ChannelDay,
    PersonDay,
    PostMetrics,
    QueryDay,
    empty_histogram,
)
from tertulia.analytics.periods import Period
from tertulia.analytics.rollup import frt_bucket, roll_up, roll_up_due
from tertulia.analytics.tests.factories import conversation, message, query_match, sent_post, target
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.inbox.actions.settings import update_sla_policy
from tertulia.inbox.models import ResponseTarget
from tertulia.inbox.sla_report import sla_report
from tertulia.listening.models import ListeningQuery, QueryGroup

pytestmark = pytest.mark.django_db

Outcome = ResponseTarget.Outcome
SYSTEM = Actor.system("test")
# Friday 20 November 2026, 10:00 UTC (11:00 in Madrid).
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def brand() -> Brand:
    return make_brand(make_org(), "Marca")


@pytest.fixture
def channel(brand: Brand) -> Channel:
    return connect_channel(SYSTEM, brand, "sandbox", "@marca_uno", "Marca")


@pytest.fixture
def agent(brand: Brand) -> User:
    return make_member(brand.organization)


def test_messages_count_on_the_brands_calendar_day(brand: Brand, channel: Channel) -> None:
    # 23:30 UTC on the 20th is 00:30 on the 21st in Madrid.
    message(channel, datetime(2026, 11, 20, 23, 30, tzinfo=UTC), sentiment="negative")
    message(channel, datetime(2026, 11, 20, 22, 30, tzinfo=UTC), sentiment="positive")
    message(channel, datetime(2026, 11, 20, 22, 40, tzinfo=UTC), outbound=True)
    roll_up(brand, date(2026, 11, 19), date(2026, 11, 22))
    rows = {row.day: row for row in ChannelDay.objects.filter(channel=channel)}
    assert (rows[date(2026, 11, 20)].messages_in, rows[date(2026, 11, 20)].positive) == (1, 1)
    assert rows[date(2026, 11, 20)].messages_out == 1
    assert (rows[date(2026, 11, 21)].messages_in, rows[date(2026, 11, 21)].negative) == (1, 1)
    assert rows[date(2026, 11, 21)].conversations_new == 0  # conversations count when created (now)


def test_rolling_up_again_gives_the_same_rows_and_follows_deletions(brand: Brand, channel: Channel) -> None:
    kept = message(channel, T0)
    gone = message(channel, T0 + H)
    roll_up(brand, T0.date(), T0.date())
    roll_up(brand, T0.date(), T0.date())
    assert ChannelDay.objects.get(channel=channel, day=T0.date()).messages_in == 2
    gone.is_deleted = True
    gone.save()
    roll_up(brand, T0.date(), T0.date())
    assert ChannelDay.objects.filter(channel=channel).count() == 1
    assert ChannelDay.objects.get(channel=channel, day=T0.date()).messages_in == 1
    kept.delete()
    roll_up(brand, T0.date(), T0.date())
    assert ChannelDay.objects.get(channel=channel, day=T0.date()).messages_in == 0


def test_the_collectors_audience_columns_survive_a_rollup(brand: Brand, channel: Channel) -> None:
    ChannelDay.objects.create(
        organization=brand.organization, brand=brand, channel=channel, day=T0.date(), followers=1234
    )
    message(channel, T0)
    roll_up(brand, T0.date(), T0.date())
    row = ChannelDay.objects.get(channel=channel, day=T0.date())
    assert (row.followers, row.messages_in) == (1234, 1)


def test_sla_figures_agree_with_the_sla_report(brand: Brand, channel: Channel, agent: User) -> None:
    other = connect_channel(SYSTEM, brand, "sandbox", "@marca_dos", "Marca 2")
    now = T0 + 3 * D
    cases = [
        (channel, Outcome.MET, T0, T0 + D, T0 + 30 * M),
        (channel, Outcome.BREACHED, T0 + H, T0 + 2 * H, T0 + 4 * H),
        (other, Outcome.MET, T0 + 2 * H, T0 + D, T0 + 3 * H),
        (other, Outcome.RUNNING, T0 + D, T0 + D + H, None),  # late by now: breached so far
        (channel, Outcome.RUNNING, T0 + 2 * D, now + D, None),  # on time: in neither
        (channel, Outcome.STOPPED, T0 + H, T0 + D, T0 + 2 * H),  # closed unanswered: in neither
    ]
    for ch, outcome, started, due, ended in cases:
        thread = conversation(ch, started)
        target(thread, outcome, started, due, ended)
        if ended is not None and outcome != Outcome.STOPPED:
            message(ch, ended, outbound=True, by=agent, thread=thread)
    roll_up(brand, T0.date() - D, now.date(), now=now)
    report = sla_report(brand, T0 - D, now, now=now)
    rolled = figures(brand, Period(T0.date() - D, now.date()))
    assert (rolled.total.sla_met, rolled.total.sla_breached) == (report.overall.met, report.overall.breached)
    assert (rolled.total.sla_met, rolled.total.sla_breached) == (2, 2)
    assert rolled.total.sla_met_percent == report.met_percent == 50.0
    # First responses: 30 min, 3 h, 1 h; the median is in the 60-minute bucket (45, 60].
    assert rolled.total.answered == 3
    assert 45 < (rolled.total.first_response_median or 0) <= 60
    assert rolled.by_channel[other.pk].sla_met == 1
    # The answers were the agent's: their first responses are theirs, filed by channel.
    days = PersonDay.objects.filter(user=agent, day=T0.date())
    assert {d.channel_id: sum(d.first_responses) for d in days} == {channel.pk: 2, other.pk: 1}
    assert {d.channel_id: d.first_answers for d in days} == {channel.pk: 2, other.pk: 1}
    assert sum(rolled.people[agent.pk].first_responses) == 3
    one = figures(brand, Period(T0.date() - D, now.date()), [other.pk])
    assert sum(one.people[agent.pk].first_responses) == 1 and one.people[agent.pk].replies == 1
    assert rolled.people[agent.pk].days_worked == 1  # two channels, one day


def test_first_response_time_uses_business_hours(brand: Brand, channel: Channel) -> None:
    # Open 09:00-18:00 Madrid on weekdays: a message at 17:50 Friday answered 09:10 Monday took 20 minutes.
    update_sla_policy(
        SYSTEM,
        brand,
        business_hours={
            "timezone": "Europe/Madrid",
            "week": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        },
    )
    started = datetime(2026, 11, 20, 16, 50, tzinfo=UTC)
    answered = datetime(2026, 11, 23, 8, 10, tzinfo=UTC)
    target(conversation(channel, started), Outcome.MET, started, answered + H, answered)
    roll_up(brand, started.date(), answered.date(), now=answered)
    row = ChannelDay.objects.get(channel=channel, day=started.date())
    assert row.first_responses[frt_bucket(20)] == 1


def test_people_replies_weekends_and_after_hours(brand: Brand, channel: Channel, agent: User) -> None:
    thread = conversation(channel, T0)
    message(channel, T0, outbound=True, by=agent, thread=thread)  # Friday 11:00 Madrid
    message(channel, T0 + 11 * H, outbound=True, by=agent, thread=thread)  # Friday 22:00: after hours
    saturday = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    message(channel, saturday, outbound=True, by=agent)
    message(channel, T0, outbound=True)  # sent by nobody known (an automation): nobody's work
    roll_up(brand, T0.date(), saturday.date())
    friday = PersonDay.objects.get(user=agent, day=T0.date())
    assert (friday.replies, friday.conversations, friday.after_hours, friday.weekend) == (2, 1, 1, 0)
    sat = PersonDay.objects.get(user=agent, day=saturday.date())
    assert (sat.replies, sat.weekend, sat.after_hours) == (1, 1, 0)
    assert PersonDay.objects.count() == 2


def test_posts_and_their_engagement_count_on_the_day_they_went_out(brand: Brand, channel: Channel) -> None:
    first = sent_post(channel, T0)
    second = sent_post(channel, T0 + H)
    sent_post(channel, T0 + D)
    for tgt, likes, impressions in ((first, 10, 1000), (second, 5, None)):
        PostMetrics.objects.create(
            target=tgt,
            organization=brand.organization,
            brand=brand,
            channel=channel,
            sent_at=tgt.sent_at or T0,
            likes=likes,
            replies=2,
            impressions=impressions,
            collected_at=T0 + D,
        )
    roll_up(brand, T0.date(), T0.date() + D)
    day = ChannelDay.objects.get(channel=channel, day=T0.date())
    assert (day.posts_published, day.likes, day.replies, day.impressions) == (2, 15, 4, 1000)
    assert day.engagements_with_impressions == 12  # only the post whose network gave impressions
    assert ChannelDay.objects.get(channel=channel, day=T0.date() + D).posts_published == 1
    rolled = figures(brand, Period(T0.date(), T0.date() + D))
    assert rolled.engagement_rate == 1.2  # 12 engagements over 1,000 impressions


def test_mentions_by_query_and_share_of_voice(brand: Brand) -> None:
    ours = ListeningQuery.objects.create(
        organization=brand.organization, brand=brand, name="Marca", group=QueryGroup.BRAND, text="marca"
    )
    theirs = ListeningQuery.objects.create(
        organization=brand.organization, brand=brand, name="Rival", group=QueryGroup.COMPETITOR, text="rival"
    )
    for n in range(3):
        query_match(ours, T0 + n * M, "positive" if n else "negative")
    query_match(theirs, T0)
    roll_up(brand, T0.date(), T0.date())
    assert QueryDay.objects.get(query=ours).mentions == 3
    rolled = figures(brand, Period(T0.date(), T0.date()))
    assert rolled.share_of_voice == 75.0
    assert rolled.positive_share == pytest.approx(66.7)


def test_a_brands_rollup_never_touches_another_brand(brand: Brand, channel: Channel) -> None:
    elsewhere = make_brand(make_org(), "Otra")
    their_channel = connect_channel(SYSTEM, elsewhere, "sandbox", "@otra", "Otra")
    message(their_channel, T0)
    message(channel, T0)
    roll_up(brand, T0.date(), T0.date())
    assert not ChannelDay.objects.filter(brand=elsewhere).exists()
    assert figures(brand, Period(T0.date(), T0.date()), [their_channel.pk]).total.messages_in == 0


def test_the_job_rolls_up_each_brand_once_per_round(brand: Brand, channel: Channel) -> None:
    message(channel, T0)
    assert roll_up_due(now=T0 + M) == 1
    assert roll_up_due(now=T0 + 2 * M) == 0  # not due again for ten minutes
    assert ChannelDay.objects.get(channel=channel, day=T0.date()).messages_in == 1
    message(channel, T0 + 5 * M)
    assert roll_up_due(now=T0 + 12 * M) == 1
    assert ChannelDay.objects.get(channel=channel, day=T0.date()).messages_in == 2


def test_histogram_percentiles() -> None:
    assert histogram_percentile([0] * 20, 50) is None
    one_bucket = [0] * 20
    one_bucket[frt_bucket(7)] = 4  # four answers in (5, 10]
    assert histogram_percentile(one_bucket, 50) == 7.5
    assert histogram_percentile(one_bucket, 100) == 10.0


def test_the_backfill_command_recounts_older_days(brand: Brand, channel: Channel) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.utils import timezone

    message(channel, timezone.now() - 20 * D)
    call_command("analytics_rollup", "--days", "30", "--brand", str(brand.pk))
    assert sum(ChannelDay.objects.filter(channel=channel).values_list("messages_in", flat=True)) == 1
    with pytest.raises(CommandError):
        call_command("analytics_rollup", "--days", "0")


def test_engagement_collected_after_three_days_reaches_the_dashboards(brand: Brand, channel: Channel) -> None:
    now = T0 + 10 * D
    tgt = sent_post(channel, T0)
    roll_up(brand, T0.date(), T0.date(), now=T0 + H)
    PostMetrics.objects.create(
        target=tgt,
        organization=brand.organization,
        brand=brand,
        channel=channel,
        sent_at=T0,
        likes=40,
        collected_at=now,
    )
    assert roll_up_due(now=now) == 1  # recounts the last three days, and engagement back 30 days
    assert ChannelDay.objects.get(channel=channel, day=T0.date()).likes == 40


def test_one_brands_failure_does_not_stop_the_others(
    brand: Brand, channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tertulia.analytics.rollup as rollup

    other = make_brand(make_org(), "Otra")
    real = rollup.roll_up

    def flaky(b: Brand, first: date, last: date, *, now: datetime | None = None) -> None:
        if b.pk == brand.pk:
            raise RuntimeError("boom")
        real(b, first, last, now=now)

    monkeypatch.setattr(rollup, "roll_up", flaky)
    assert roll_up_due(now=T0) == 1
    assert BrandRollup.objects.get(brand=other).last_done_at == T0


def test_a_day_without_a_follower_reading_carries_the_last_one(brand: Brand, channel: Channel) -> None:
    for offset, followers in ((0, 100), (2, 130)):  # the collector missed the day in between
        ChannelDay.objects.create(
            organization=brand.organization,
            brand=brand,
            channel=channel,
            day=T0.date() + offset * D,
            followers=followers,
        )
    totals = figures(brand, Period(T0.date() - D, T0.date() + 2 * D)).followers_by_day()
    assert list(totals.values()) == [None, 100.0, 100.0, 130.0]


def test_person_days_counted_before_first_answers_existed_get_theirs(
    brand: Brand, channel: Channel, agent: User
) -> None:
    migration = importlib.import_module("tertulia.analytics.migrations.0004_person_day_first_answers")
    histogram = empty_histogram()
    histogram[3] = 2
    histogram[7] = 1
    made = PersonDay.objects.create(
        organization=brand.organization,
        brand=brand,
        channel=channel,
        user=agent,
        day=T0.date(),
        replies=3,
        first_responses=histogram,
    )
    odd = PersonDay.objects.create(  # a damaged histogram counts nothing rather than failing
        organization=brand.organization,
        brand=brand,
        channel=channel,
        user=agent,
        day=T0.date() + D,
        replies=1,
        first_responses={"x": 1},
    )
    migration.count_first_answers(django_apps, connection.schema_editor())
    made.refresh_from_db()
    odd.refresh_from_db()
    assert (made.first_answers, odd.first_answers) == (3, 0)
    assert figures(brand, Period(T0.date(), T0.date() + D)).people[agent.pk].first_responses == histogram


def test_the_per_person_figures_are_read_only_for_a_table_that_shows_someone(
    brand: Brand, channel: Channel, agent: User
) -> None:
    message(channel, T0, outbound=True, by=agent, thread=conversation(channel, T0))
    roll_up(brand, T0.date(), T0.date())
    rolled = figures(brand, Period(T0.date(), T0.date()))
    assert "people" not in vars(rolled)  # the overview, objectives and reports never pay for it
    assert people_table(rolled, set()).rows == [] and "people" not in vars(rolled)
    (row,) = people_table(rolled, {agent.pk}).rows
    assert row[1] == 1 and "people" in vars(rolled)
