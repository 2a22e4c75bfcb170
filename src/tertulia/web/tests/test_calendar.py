"""Publish → Calendar and queue slots: month and week views in the brand's zone, moving posts, the queue."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Channel, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.delivery.ledger import new_idempotency_key
from tertulia.publishing.models import DeliveryTarget, Post, PostState, QueueSlot, TargetState, Variant
from tertulia.web.tests.helpers import signed_in

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202e\u200b😀'
PostMaker = Callable[..., Post]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def org() -> Organization:
    return make_org("Calendario SA")


@pytest.fixture
def brand(org: Organization) -> Brand:
    brand = make_brand(org, "Marca")
    brand.timezone = "Europe/Madrid"
    brand.save(update_fields=["timezone"])
    return brand


@pytest.fixture
def author(org: Organization, brand: Brand) -> User:
    """A community manager of the organization, which has a brand (the calendar's)."""
    return make_member(org, Role.COMMUNITY_MANAGER, email="autora@example.com")


@pytest.fixture
def channels(brand: Brand, author: User) -> list[Channel]:
    made = [connect_channel(Actor.system(), brand, "sandbox", f"@marca_{n}", f"Marca {n}") for n in range(2)]
    for channel in made:
        set_channel_operators(Actor.system(), channel, [author])
    return made


@pytest.fixture
def make_post(brand: Brand, author: User, channels: list[Channel]) -> PostMaker:
    def make(
        at: datetime | None,
        *,
        text: str = "Hola desde el calendario",
        state: str = PostState.DRAFT,
        on: Sequence[Channel] | None = None,
        by: User | None = None,
        of: Brand | None = None,
    ) -> Post:
        owner = of or brand
        post = Post.objects.create(
            organization=owner.organization,
            brand=owner,
            created_by=by or author,
            text=text,
            state=state,
            scheduled_at=at,
        )
        for channel in channels[:1] if on is None else on:
            Variant.objects.create(post=post, channel=channel)
        return post

    return make


def cell(html: str, date: str, hour: int | None = None) -> str:
    """The HTML of the calendar cell of `date` (and `hour`, by week)."""
    marker = f'data-date="{date}"' + (f' data-hour="{hour}"' if hour is not None else "")
    for part in html.split("<td")[1:]:
        opening = part.split(">", 1)[0]
        if marker in opening and (hour is not None or "data-hour" not in opening):
            return part.split("</td>", 1)[0]
    raise AssertionError(f"no cell {marker}")


def calendar(client: Client, **params: str) -> str:
    response = client.get(reverse("web:calendar"), params)
    assert response.status_code == 200
    return response.content.decode()


# --- seeing the calendar -------------------------------------------------------------------------


def test_month_view_places_posts_on_the_brands_day(author: User, make_post: PostMaker) -> None:
    late = make_post(utc(2031, 5, 31, 23, 30))  # 01:30 on 1 June in Madrid
    may = make_post(utc(2031, 5, 31, 12, 0), text="Mediodía")
    html = calendar(signed_in(author), date="2031-06-10")
    assert "Europe/Madrid (UTC+" in html
    first = cell(html, "2031-06-01")
    assert f'id="chip-{late.pk}"' in first and ">01:30<" in first
    assert f'id="chip-{may.pk}"' in cell(html, "2031-05-31")
    assert f'id="chip-{may.pk}"' not in first
    # Its link goes to the post's page; its network is shown.
    assert reverse("web:post-detail", args=[late.pk]) in first and "sandbox" in first
    # Viewed from New York the same post is still on 31 May.
    Brand.objects.filter(pk=late.brand_id).update(timezone="America/New_York")
    html = calendar(signed_in(author), date="2031-06-10")
    assert f'id="chip-{late.pk}"' in cell(html, "2031-05-31") and ">19:30<" in html


def test_week_view_shows_hours_and_queue_slots(
    author: User, make_post: PostMaker, channels: list[Channel]
) -> None:
    post = make_post(utc(2031, 6, 1, 23, 30))  # Monday 2 June, 01:30 in Madrid
    QueueSlot.objects.create(channel=channels[0], weekday=0, time=time(9, 30))
    QueueSlot.objects.create(channel=channels[1], weekday=0, time=time(9, 30))
    html = calendar(signed_in(author), view="week", date="2031-06-04")
    assert f'id="chip-{post.pk}"' in cell(html, "2031-06-02", 1)
    assert 'data-date="2031-06-01"' not in html  # Sunday 1 June is the week before
    slot = cell(html, "2031-06-02", 9)
    assert "cal-slot" in slot and "09:30" in slot and "@marca_0" in slot and "@marca_1" in slot
    assert "cal-slot" not in cell(html, "2031-06-03", 9)
    # The week runs Monday to Sunday.
    assert 'data-date="2031-06-02" data-hour="0"' in html and 'data-date="2031-06-08" data-hour="23"' in html
    assert 'data-date="2031-06-09"' not in html


def test_published_posts_sit_where_they_went_out_and_cancelled_ones_are_gone(
    brand: Brand, author: User, make_post: PostMaker, channels: list[Channel]
) -> None:
    published = make_post(utc(2031, 6, 2, 8), state=PostState.PUBLISHED)
    variant = published.variants.get()
    DeliveryTarget.objects.create(
        organization=brand.organization,
        brand=brand,
        post=published,
        variant=variant,
        channel=channels[0],
        state=TargetState.SENT,
        due_at=utc(2031, 6, 2, 8),
        next_attempt_at=utc(2031, 6, 2, 8),
        idempotency_key=new_idempotency_key(),
        sent_at=utc(2031, 6, 4, 10),
    )
    cancelled = make_post(utc(2031, 6, 3, 8), state=PostState.CANCELLED)
    html = calendar(signed_in(author), date="2031-06-01")
    assert f'id="chip-{published.pk}"' in cell(html, "2031-06-04")
    assert f'id="chip-{published.pk}"' not in cell(html, "2031-06-02")
    assert f'id="chip-{cancelled.pk}"' not in html
    # A published post is not movable.
    assert 'draggable="true"' not in cell(html, "2031-06-04")


def test_other_brands_and_organizations_stay_out(
    org: Organization, author: User, make_post: PostMaker
) -> None:
    other_brand = make_brand(org, "Otra marca")
    theirs = make_post(utc(2031, 6, 2, 8), of=other_brand, on=[])
    stranger_org = make_org("Ajena")
    stranger_brand = make_brand(stranger_org, "Ajena")
    foreign = make_post(utc(2031, 6, 2, 8), of=stranger_brand, on=[])
    mine = make_post(utc(2031, 6, 2, 8))
    html = calendar(signed_in(author), date="2031-06-01")
    assert f'id="chip-{mine.pk}"' in html
    assert f'id="chip-{theirs.pk}"' not in html and f'id="chip-{foreign.pk}"' not in html


def test_hostile_text_is_escaped(author: User, make_post: PostMaker) -> None:
    post = make_post(utc(2031, 6, 2, 8), text=HOSTILE)
    html = calendar(signed_in(author), date="2031-06-01")
    assert f'id="chip-{post.pk}"' in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_only_people_who_may_edit_get_drag_and_move(
    org: Organization, author: User, make_post: PostMaker
) -> None:
    post = make_post(utc(2031, 6, 2, 8))
    contributor = make_member(org, Role.CONTRIBUTOR)
    analyst = make_member(org, Role.ANALYST)
    own = make_post(utc(2031, 6, 3, 8), by=contributor)
    for viewer in (contributor, analyst):
        html = calendar(signed_in(viewer), date="2031-06-01")
        chip = cell(html, "2031-06-02")
        assert f'id="chip-{post.pk}"' in chip
        assert 'draggable="true"' not in chip and "data-move-form" not in chip
    # A contributor moves their own post.
    assert 'draggable="true"' in cell(calendar(signed_in(contributor), date="2031-06-01"), "2031-06-03")
    assert f'action="{reverse("web:post-move", args=[own.pk])}"' in calendar(
        signed_in(author), date="2031-06-01"
    )


def test_past_days_are_not_drop_targets(
    author: User, make_post: PostMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: utc(2031, 6, 18, 12))
    html = calendar(signed_in(author))  # this month, by default
    assert "data-drop-date" not in cell(html, "2031-06-17").split(">", 1)[0]
    assert 'data-drop-date="2031-06-18"' in cell(html, "2031-06-18").split(">", 1)[0]
    assert 'aria-current="date"' in cell(html, "2031-06-18")
    week = calendar(signed_in(author), view="week")
    assert "data-drop-date" not in cell(week, "2031-06-18", 13).split(">", 1)[0]  # 13:00 Madrid is 11:00 UTC
    assert 'data-drop-hour="14"' in cell(week, "2031-06-18", 14).split(">", 1)[0]


@pytest.mark.parametrize(
    "params",
    [
        {"view": "year"},
        {"date": "not-a-date"},
        {"date": "9999-12-31"},
        {"date": "0001-01-01", "view": "week"},
        {"date": "2031-02-30"},
        {"date": "\u202e2031-06-01"},
    ],
)
def test_odd_parameters_never_break_the_page(author: User, params: dict[str, str]) -> None:
    calendar(signed_in(author), **params)


def test_the_last_month_has_no_next_link(author: User) -> None:
    html = calendar(signed_in(author), date="9999-12-31")
    assert 'id="cal-next"' not in html and 'id="cal-prev"' in html


def test_the_calendar_needs_sign_in(client: Client) -> None:
    response = client.get(reverse("web:calendar"))
    assert response.status_code == 302


# --- moving posts --------------------------------------------------------------------------------


def move(client: Client, post: Post, when: str, *, as_json: bool = False, next: str = "") -> Response:
    data = {"when": when, "next": next} if next else {"when": when}
    headers = {"Accept": "application/json"} if as_json else {}
    return client.post(reverse("web:post-move", args=[post.pk]), data, headers=headers)


def test_moving_a_draft_by_form_and_by_drag(author: User, make_post: PostMaker) -> None:
    post = make_post(utc(2031, 6, 2, 8))
    client = signed_in(author)
    back = reverse("web:calendar") + "?view=month&date=2031-06-01"
    response = move(client, post, "2031-06-03T10:15", next=back)
    assert response.status_code == 302 and response["Location"] == back
    post.refresh_from_db()
    assert post.scheduled_at == utc(2031, 6, 3, 8, 15)  # 10:15 in Madrid (summer time)
    assert AuditEntry.objects.filter(action="post.moved", object_id=str(post.pk)).exists()
    response = move(client, post, "2031-12-03T10:15", as_json=True)
    assert response.status_code == 200
    body = json.loads(response.content)
    assert (
        body["ok"]
        and body["local"] == "2031-12-03T10:15"
        and body["date"] == "2031-12-03"
        and body["hour"] == 10
    )
    post.refresh_from_db()
    assert post.scheduled_at == utc(2031, 12, 3, 9, 15)  # winter: UTC+1
    # A next address elsewhere is never followed.
    response = move(client, post, "2031-12-04T10:15", next="https://evil.example/")
    assert "evil" not in response["Location"]


def test_moving_a_scheduled_post_moves_its_deliveries(author: User, make_post: PostMaker) -> None:
    post = make_post(None, state=PostState.APPROVED)
    schedule(Actor(user=author, via="web"), post, utc(2031, 6, 2, 8))
    response = move(signed_in(author), post, "2031-06-05T09:00", as_json=True)
    assert response.status_code == 200
    assert DeliveryTarget.objects.get(post=post).due_at == utc(2031, 6, 5, 7)
    assert Post.objects.get(pk=post.pk).state == PostState.SCHEDULED


def test_the_hour_the_clocks_skip_is_no_drop_target(author: User) -> None:
    html = calendar(signed_in(author), view="week", date="2031-03-30")
    assert "data-drop-date" not in cell(html, "2031-03-30", 2).split(">", 1)[0]
    assert 'data-drop-hour="3"' in cell(html, "2031-03-30", 3).split(">", 1)[0]
    assert 'data-drop-hour="2"' in cell(html, "2031-03-29", 2).split(">", 1)[0]


def test_a_time_the_clocks_skip_is_refused_like_in_the_composer(author: User, make_post: PostMaker) -> None:
    post = make_post(utc(2031, 6, 2, 8))
    # 30 March 2031 is the last Sunday of March: 02:30 does not exist in Madrid.
    response = move(signed_in(author), post, "2031-03-30T02:30", as_json=True)
    assert response.status_code == 400
    assert "does not exist in Europe/Madrid" in response.json()["messages"][0]
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 2, 8)
    # 02:30 on 26 October 2031 happens twice: the first one (summer time, UTC+2) is meant.
    assert move(signed_in(author), post, "2031-10-26T02:30", as_json=True).status_code == 200
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 10, 26, 0, 30)


def test_moves_that_are_refused(org: Organization, author: User, make_post: PostMaker) -> None:
    post = make_post(utc(2031, 6, 2, 8))
    client = signed_in(author)
    past = move(client, post, "2020-01-01T10:00", as_json=True)
    assert past.status_code == 400
    assert "passed" in json.loads(past.content)["messages"][0]
    garbage = move(client, post, "mañana", as_json=True)
    assert garbage.status_code == 400
    # Without JavaScript the refusal comes back as a message on the page.
    form = move(client, post, "2020-01-01T10:00")
    assert form.status_code == 302
    page = client.get(form["Location"])
    assert "That time has passed" in page.content.decode()
    published = make_post(utc(2031, 6, 2, 9), state=PostState.PUBLISHED)
    refused = move(client, published, "2031-06-05T09:00", as_json=True)
    assert refused.status_code == 400
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 2, 8)
    assert Post.objects.get(pk=published.pk).scheduled_at == utc(2031, 6, 2, 9)


def test_moving_needs_the_right_person(org: Organization, author: User, make_post: PostMaker) -> None:
    post = make_post(utc(2031, 6, 2, 8))
    contributor = make_member(org, Role.CONTRIBUTOR)
    assert move(signed_in(contributor), post, "2031-06-05T09:00").status_code == 403
    refused = move(signed_in(contributor), post, "2031-06-05T09:00", as_json=True)
    assert refused.status_code == 403
    assert json.loads(refused.content)["ok"] is False
    stranger = make_member(make_org("Ajena"), Role.OWNER)
    assert move(signed_in(stranger), post, "2031-06-05T09:00").status_code == 404
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 2, 8)
    assert signed_in(author).get(reverse("web:post-move", args=[post.pk])).status_code == 405


# --- queue slots ---------------------------------------------------------------------------------


def test_queue_page_lists_and_saves_slots(author: User, channels: list[Channel]) -> None:
    client = signed_in(author)
    page = client.get(reverse("web:queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "@marca_0" in html and "Europe/Madrid" in html and "No slots yet." in html
    response = client.post(
        reverse("web:queue-channel", args=[channels[0].pk]),
        {
            "day": ["weekdays", "6", "", "2"],
            "time": ["09:30", "11:00", "", "09:30"],
            "also": [str(channels[1].pk)],
        },
    )
    assert response.status_code == 302
    expected = [(day, time(9, 30)) for day in range(5)] + [(6, time(11, 0))]
    for channel in channels:
        assert [(s.weekday, s.time) for s in QueueSlot.objects.filter(channel=channel)] == expected
    assert AuditEntry.objects.filter(action="queue_slots.set").count() == 2
    html = client.get(reverse("web:queue")).content.decode()
    assert "09:30" in html and "11:00" in html
    # A day set to "—" removes the row.
    client.post(
        reverse("web:queue-channel", args=[channels[0].pk]), {"day": ["", "6"], "time": ["09:30", "11:00"]}
    )
    assert [(s.weekday, s.time) for s in QueueSlot.objects.filter(channel=channels[0])] == [(6, time(11, 0))]


@pytest.mark.parametrize(
    ("days", "times", "message"),
    [
        (["1"], [""], "choose a time"),
        (["1"], ["25:99"], "enter a time like 09:30"),
        (["8"], ["09:00"], "choose a day"),
        (["1"], ["09:00:30"], "whole minutes"),
        (["every"] * 15, [f"{h:02d}:00" for h in range(15)], "at most 100"),
    ],
)
def test_queue_slots_that_are_refused(
    author: User, channels: list[Channel], days: list[str], times: list[str], message: str
) -> None:
    QueueSlot.objects.create(channel=channels[0], weekday=4, time=time(18, 0))
    response = signed_in(author).post(
        reverse("web:queue-channel", args=[channels[0].pk]),
        {"day": days, "time": times, "also": [str(channels[1].pk)]},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert [(s.weekday, s.time) for s in QueueSlot.objects.filter(channel=channels[0])] == [(4, time(18, 0))]
    assert not QueueSlot.objects.filter(channel=channels[1]).exists()


def test_queue_slots_need_the_right_person(org: Organization, author: User, channels: list[Channel]) -> None:
    url = reverse("web:queue-channel", args=[channels[0].pk])
    data = {"day": ["1"], "time": ["09:00"]}
    contributor = make_member(org, Role.CONTRIBUTOR)
    not_operating = make_member(org, Role.COMMUNITY_MANAGER)
    assert signed_in(contributor).post(url, data).status_code == 403
    assert signed_in(not_operating).post(url, data).status_code == 403
    html = signed_in(contributor).get(reverse("web:queue")).content.decode()
    assert 'id="queue-read-only"' in html and "queue-form" not in html
    stranger = make_member(make_org("Ajena"), Role.OWNER)
    assert signed_in(stranger).post(url, data).status_code == 404
    assert not QueueSlot.objects.exists()
    # Someone who manages publishing needs no grant on the channel.
    assert signed_in(make_member(org, Role.BRAND_MANAGER)).post(url, data).status_code == 302
    assert QueueSlot.objects.filter(channel=channels[0]).count() == 1


# --- add to queue --------------------------------------------------------------------------------


def test_add_to_queue_picks_the_next_free_shared_slot(
    author: User, make_post: PostMaker, channels: list[Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: utc(2031, 6, 2, 6))  # Monday 08:00 in Madrid
    for channel in channels:
        QueueSlot.objects.create(channel=channel, weekday=0, time=time(9, 0))
        QueueSlot.objects.create(channel=channel, weekday=2, time=time(12, 0))
    QueueSlot.objects.create(channel=channels[0], weekday=1, time=time(9, 0))  # not shared
    make_post(utc(2031, 6, 2, 7), state=PostState.SCHEDULED, on=channels[1:])  # Monday 09:00 is taken
    post = make_post(None, on=channels)
    client = signed_in(author)
    response = client.post(reverse("web:post-queue", args=[post.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("web:post-detail", args=[post.pk])
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 4, 10)  # Wednesday 12:00 Madrid
    page = client.get(response["Location"])
    assert "Added to the queue" in page.content.decode()


def test_add_to_queue_refusals(org: Organization, author: User, make_post: PostMaker) -> None:
    post = make_post(None)
    client = signed_in(author)
    response = client.post(reverse("web:post-queue", args=[post.pk]), follow=True)
    assert "has no queue slots" in response.content.decode()
    assert Post.objects.get(pk=post.pk).scheduled_at is None
    contributor = make_member(org, Role.CONTRIBUTOR)
    assert signed_in(contributor).post(reverse("web:post-queue", args=[post.pk])).status_code == 403
    stranger = make_member(make_org("Ajena"), Role.OWNER)
    assert signed_in(stranger).post(reverse("web:post-queue", args=[post.pk])).status_code == 404
    assert client.get(reverse("web:post-queue", args=[post.pk])).status_code == 405


def test_calendar_without_brand(author: User) -> None:
    Brand.objects.all().update(is_archived=True)  # no brand left to show
    html = calendar(signed_in(author))
    assert "no brand yet" in html
    assert signed_in(author).get(reverse("web:queue")).status_code == 200


def test_the_move_form_holds_the_brands_wall_clock_time(author: User, make_post: PostMaker) -> None:
    post = make_post(utc(2031, 6, 2, 8))
    html = calendar(signed_in(author), date="2031-06-01")
    found = re.search(rf'action="/publish/posts/{post.pk}/move/".*?name="when" value="([^"]+)"', html, re.S)
    assert found is not None and found.group(1) == "2031-06-02T10:00"


def test_a_busy_month_takes_a_few_queries(
    author: User,
    make_post: PostMaker,
    channels: list[Channel],
    django_assert_max_num_queries: Callable[[int], AbstractContextManager[object]],
) -> None:
    for day in range(1, 31):
        make_post(utc(2031, 6, day, 8), on=channels)
    for hour in range(10, 15):
        make_post(utc(2031, 6, 15, hour), on=channels)
    client = signed_in(author)
    client.get(reverse("web:calendar"))  # the session and the brand, resolved once
    with django_assert_max_num_queries(25):
        html = calendar(client, date="2031-06-01")
    # Every post but two: 15 June has six, shows four, and says "2 more".
    assert html.count('draggable="true"') == 33
    assert "2 more" in cell(html, "2031-06-15")
    with django_assert_max_num_queries(25):
        calendar(client, date="2031-06-01", view="week")
