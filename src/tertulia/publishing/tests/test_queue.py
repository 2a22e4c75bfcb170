"""Queue slots: setting them, and the next free slot across time zones and summer time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from tertulia.core.actions.channels import set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Channel, Role, User
from tertulia.core.tests.factories import make_member
from tertulia.publishing.actions import queue
from tertulia.publishing.actions.compose import ComposeRefused
from tertulia.publishing.actions.queue import (
    MAX_SLOTS,
    QueueRefused,
    add_to_queue,
    next_free_slot,
    set_slots,
    slot_instant,
)
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.models import DeliveryTarget, Post, PostState, QueueSlot, Variant

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
PostMaker = Callable[..., Post]
Clock = Callable[[datetime], None]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Set what `timezone.now()` answers everywhere (the actions read it through the module)."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


@pytest.fixture
def madrid(brand: Brand) -> Brand:
    brand.timezone = "Europe/Madrid"
    brand.save(update_fields=["timezone"])
    return brand


@pytest.fixture
def new_york(brand: Brand) -> Brand:
    brand.timezone = "America/New_York"
    brand.save(update_fields=["timezone"])
    return brand


@pytest.fixture
def make_post(brand: Brand, author: User) -> PostMaker:
    def make(
        channels: Sequence[Channel],
        *,
        state: str = PostState.DRAFT,
        at: datetime | None = None,
        text: str = "Hola",
    ) -> Post:
        post = Post.objects.create(
            organization=brand.organization,
            brand=brand,
            created_by=author,
            text=text,
            state=state,
            scheduled_at=at,
        )
        for channel in channels:
            Variant.objects.create(post=post, channel=channel)
        return post

    return make


def slots(channel: Channel, *pairs: tuple[int, str]) -> None:
    QueueSlot.objects.filter(channel=channel).delete()
    for weekday, at in pairs:
        QueueSlot.objects.create(channel=channel, weekday=weekday, time=time.fromisoformat(at))


# --- setting slots -------------------------------------------------------------------------------


def test_set_slots_replaces_dedupes_sorts_and_audits(channels: list[Channel], author: User) -> None:
    channel = channels[0]
    slots(channel, (FRI, "18:00"))
    saved = set_slots(
        Actor(user=author, via="web"),
        channel,
        [(WED, time(9, 30)), (MON, time(9, 0)), (WED, time(9, 30)), (MON, time(17, 45))],
    )
    assert saved == [(MON, time(9, 0)), (MON, time(17, 45)), (WED, time(9, 30))]
    assert queue.slots_of(channel) == saved
    entry = AuditEntry.objects.get(action="queue_slots.set")
    assert entry.object_id == str(channel.pk)
    assert entry.changes["slots"] == [[[4, "18:00"]], [[0, "09:00"], [0, "17:45"], [2, "09:30"]]]
    # Saving the same slots again changes nothing and records nothing.
    set_slots(
        Actor(user=author, via="web"), channel, [(MON, time(9, 0)), (MON, time(17, 45)), (WED, time(9, 30))]
    )
    assert AuditEntry.objects.filter(action="queue_slots.set").count() == 1


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ((7, time(9, 0)), "0 (Monday) to 6 (Sunday)"),
        ((-1, time(9, 0)), "0 (Monday) to 6 (Sunday)"),
        ((True, time(9, 0)), "0 (Monday) to 6 (Sunday)"),
        (("1", time(9, 0)), "0 (Monday) to 6 (Sunday)"),
        ((1, "09:00"), "needs a time"),
        ((1, None), "needs a time"),
        ((1, time(9, 0, 30)), "whole minutes"),
        ((1, time(9, 0, tzinfo=UTC)), "time zone"),
    ],
)
def test_invalid_slots_are_refused_and_nothing_changes(
    channels: list[Channel], author: User, bad: tuple[object, object], message: str
) -> None:
    channel = channels[0]
    slots(channel, (FRI, "18:00"))
    with pytest.raises(QueueRefused) as refused:
        set_slots(Actor(user=author, via="web"), channel, [(MON, time(9, 0)), bad])
    assert message in " ".join(refused.value.messages)
    assert queue.slots_of(channel) == [(FRI, time(18, 0))]


def test_at_most_max_slots_per_channel(channels: list[Channel], author: User) -> None:
    many = [(day, time(hour, minute)) for day in range(7) for hour in range(8) for minute in (0, 30)]
    assert len(many) > MAX_SLOTS
    with pytest.raises(QueueRefused, match="at most 100"):
        set_slots(Actor(user=author, via="web"), channels[0], many)
    assert not QueueSlot.objects.filter(channel=channels[0]).exists()
    # Exactly the limit is fine (repeats do not count).
    saved = set_slots(Actor(user=author, via="web"), channels[0], many[:MAX_SLOTS] + many[:10])
    assert len(saved) == MAX_SLOTS


def test_who_may_set_slots(org, brand: Brand, channels: list[Channel], author: User) -> None:
    channel = channels[0]
    contributor = make_member(org, Role.CONTRIBUTOR)
    stranger_cm = make_member(org, Role.COMMUNITY_MANAGER)  # may publish, but does not operate the channel
    manager = make_member(org, Role.BRAND_MANAGER)  # manages publishing: no grant needed
    for person in (contributor, stranger_cm):
        with pytest.raises(QueueRefused, match="may not change the queue"):
            set_slots(Actor(user=person, via="web"), channel, [(MON, time(9, 0))])
    with pytest.raises(QueueRefused):
        set_slots(Actor.system(), channel, [(MON, time(9, 0))])
    assert not QueueSlot.objects.exists()
    set_slots(Actor(user=manager, via="web"), channel, [(MON, time(9, 0))])
    set_channel_operators(Actor.system(), channel, [author, stranger_cm])
    set_slots(Actor(user=stranger_cm, via="web"), channel, [(TUE, time(9, 0))])
    assert queue.slots_of(channel) == [(TUE, time(9, 0))]


# --- the next free slot --------------------------------------------------------------------------


def test_next_slot_in_madrid_winter_and_summer(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock
) -> None:
    slots(channels[0], (SUN, "09:00"))
    post = make_post(channels[:1])
    clock(utc(2026, 3, 21, 12))  # Saturday before the change: Sunday 09:00 is CET, UTC+1
    assert next_free_slot(post) == utc(2026, 3, 22, 8)
    clock(utc(2026, 3, 28, 12))  # the clocks go forward that night: Sunday 09:00 is CEST, UTC+2
    assert next_free_slot(post) == utc(2026, 3, 29, 7)
    clock(utc(2026, 10, 24, 12))  # and back in October: UTC+1 again
    assert next_free_slot(post) == utc(2026, 10, 25, 8)


def test_a_slot_the_clocks_skip_goes_out_when_they_have_moved_on(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock
) -> None:
    slots(channels[0], (SUN, "02:30"))
    post = make_post(channels[:1])
    clock(utc(2026, 3, 28, 12))
    found = next_free_slot(post)
    # 02:30 does not exist on 29 March 2026 in Madrid: it is 03:30 local (01:30 UTC), not skipped.
    assert found == utc(2026, 3, 29, 1, 30)
    assert found is not None and found.astimezone(queue.brand_zone(madrid)).strftime("%H:%M") == "03:30"


def test_a_slot_that_happens_twice_is_used_once_at_its_first_occurrence(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock, author: User
) -> None:
    slots(channels[0], (SUN, "02:30"))
    clock(utc(2026, 10, 24, 12))
    post = make_post(channels[:1])
    first = next_free_slot(post)
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, before the clocks go back
    add_to_queue(Actor(user=author, via="web"), post)
    # The second 02:30 (CET) is not another slot: the next post goes a week later.
    assert next_free_slot(make_post(channels[:1])) == utc(2026, 11, 1, 1, 30)


def test_new_york_summer_time_and_a_slot_on_the_next_utc_day(
    new_york: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock
) -> None:
    slots(channels[0], (MON, "21:00"))
    post = make_post(channels[:1])
    # Monday 18:00 in New York is already Monday 23:00 UTC; its 21:00 slot is Tuesday 02:00 UTC.
    clock(utc(2026, 1, 5, 23))
    assert next_free_slot(post) == utc(2026, 1, 6, 2)
    # After 8 March 2026 (EDT, UTC-4) the same slot is an hour earlier in UTC.
    clock(utc(2026, 3, 8, 12))
    assert next_free_slot(post) == utc(2026, 3, 10, 1)
    slots(channels[0], (SUN, "02:30"))
    clock(utc(2026, 3, 7, 12))
    assert next_free_slot(post) == utc(2026, 3, 8, 7, 30)  # 03:30 EDT: the 02:30 the clocks skipped


def test_occupied_slots_are_skipped_and_only_on_the_posts_channels(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock
) -> None:
    clock(utc(2026, 5, 4, 6))  # Monday 08:00 in Madrid
    slots(channels[0], (MON, "09:00"), (MON, "17:00"), (TUE, "09:00"))
    post = make_post(channels[:1])
    nine, five, tuesday = utc(2026, 5, 4, 7), utc(2026, 5, 4, 15), utc(2026, 5, 5, 7)
    assert next_free_slot(post) == nine
    make_post(channels[:1], state=PostState.SCHEDULED, at=nine)
    # A post a few seconds past the minute still holds it.
    make_post(channels[:1], state=PostState.IN_REVIEW, at=five + timedelta(seconds=20))
    # Posts elsewhere, or no longer headed out, hold nothing here.
    make_post(channels[1:2], state=PostState.SCHEDULED, at=tuesday)
    make_post(channels[:1], state=PostState.CANCELLED, at=tuesday)
    make_post(channels[:1], state=PostState.FAILED, at=tuesday)
    assert next_free_slot(post) == tuesday
    # The post's own time is not "taken" by itself.
    Post.objects.filter(pk=post.pk).update(scheduled_at=tuesday)
    assert next_free_slot(post) == tuesday


def test_margin_and_after(madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock) -> None:
    slots(channels[0], (MON, "09:00"), (MON, "10:00"))
    post = make_post(channels[:1])
    clock(utc(2026, 5, 4, 6, 58))  # two minutes before the 09:00 slot: too close
    assert next_free_slot(post) == utc(2026, 5, 4, 8)
    assert next_free_slot(post, after=utc(2026, 5, 4, 8)) == utc(2026, 5, 11, 7)
    # An `after` in the past changes nothing: never before now.
    assert next_free_slot(post, after=utc(2020, 1, 1)) == utc(2026, 5, 4, 8)


def test_slots_shared_by_every_channel(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock, author: User
) -> None:
    clock(utc(2026, 5, 4, 6))
    slots(channels[0], (MON, "09:00"), (WED, "09:00"))
    slots(channels[1], (WED, "09:00"), (THU, "12:00"))
    post = make_post(channels[:2])
    assert next_free_slot(post) == utc(2026, 5, 6, 7)
    # Taken on one of them is taken.
    make_post(channels[1:2], state=PostState.APPROVED, at=utc(2026, 5, 6, 7))
    assert next_free_slot(post) == utc(2026, 5, 13, 7)
    slots(channels[1], (THU, "12:00"))
    assert next_free_slot(post) is None
    with pytest.raises(QueueRefused, match="share no queue slot") as refused:
        add_to_queue(Actor(user=author, via="web"), post)
    assert isinstance(refused.value, ComposeRefused)
    slots(channels[1])
    with pytest.raises(QueueRefused, match="@marca_1 has no queue slots"):
        add_to_queue(Actor(user=author, via="web"), post)
    post.refresh_from_db()
    assert post.scheduled_at is None


def test_none_when_everything_is_taken_within_the_horizon(
    madrid: Brand,
    channels: list[Channel],
    make_post: PostMaker,
    clock: Clock,
    author: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue, "HORIZON_DAYS", 14)
    clock(utc(2026, 5, 4, 6))
    slots(channels[0], (TUE, "09:00"))
    for week in range(3):
        make_post(channels[:1], state=PostState.SCHEDULED, at=utc(2026, 5, 5, 7) + timedelta(weeks=week))
    post = make_post(channels[:1])
    assert next_free_slot(post) is None
    with pytest.raises(QueueRefused, match="taken"):
        add_to_queue(Actor(user=author, via="web"), post)


# --- add to queue --------------------------------------------------------------------------------


def test_add_to_queue_sets_a_drafts_time(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, clock: Clock, author: User
) -> None:
    clock(utc(2026, 5, 4, 6))
    slots(channels[0], (TUE, "09:00"))
    post = make_post(channels[:1])
    moved = add_to_queue(Actor(user=author, via="web"), post)
    assert moved.scheduled_at == utc(2026, 5, 5, 7) and moved.state == PostState.DRAFT
    assert AuditEntry.objects.filter(action="post.queued", object_id=str(post.pk)).exists()
    # The next post goes to the next week's slot.
    other = add_to_queue(Actor(user=author, via="web"), make_post(channels[:1]))
    assert other.scheduled_at == utc(2026, 5, 12, 7)


def test_add_to_queue_moves_a_scheduled_posts_deliveries(
    madrid: Brand, channels: list[Channel], make_post: PostMaker, author: User
) -> None:
    slots(channels[0], *[(day, "09:00") for day in range(7)])
    post = make_post(channels[:1], state=PostState.APPROVED)
    actor = Actor(user=author, via="web")
    schedule(actor, post, timezone.now() + timedelta(days=30))
    moved = add_to_queue(actor, post)
    assert moved.state == PostState.SCHEDULED
    expected = next_free_slot(make_post(channels[:1]))
    assert expected is not None and moved.scheduled_at is not None
    assert moved.scheduled_at < timezone.now() + timedelta(days=2)
    target = DeliveryTarget.objects.get(post=post)
    assert target.due_at == moved.scheduled_at
    local = moved.scheduled_at.astimezone(queue.brand_zone(madrid))
    assert (local.hour, local.minute) == (9, 0)


def test_add_to_queue_refusals(
    org, madrid: Brand, channels: list[Channel], make_post: PostMaker, author: User
) -> None:
    slots(channels[0], (TUE, "09:00"))
    published = make_post(channels[:1], state=PostState.PUBLISHED)
    with pytest.raises(QueueRefused, match="cannot be moved"):
        add_to_queue(Actor(user=author, via="web"), published)
    # A contributor may not touch someone else's post.
    contributor = make_member(org, Role.CONTRIBUTOR)
    draft = make_post(channels[:1])
    with pytest.raises(QueueRefused, match="may not edit"):
        add_to_queue(Actor(user=contributor, via="web"), draft)
    with pytest.raises(QueueRefused, match="at least one channel"):
        add_to_queue(Actor(user=author, via="web"), make_post([]))
    draft.refresh_from_db()
    assert draft.scheduled_at is None


def test_slot_instant_is_the_wall_clock_time_in_the_zone() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Madrid")
    assert slot_instant(zone, datetime(2026, 1, 15).date(), time(9, 0)) == utc(2026, 1, 15, 8)
    assert slot_instant(zone, datetime(2026, 7, 15).date(), time(9, 0)) == utc(2026, 7, 15, 7)
