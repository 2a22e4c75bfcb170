"""The publishing calendar API: posts in a range on the brand's clock, moving them, queue slots."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Channel, Role
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.models import DeliveryTarget, Post, PostState, QueueSlot, Variant

from .conftest import SYSTEM, Api, Tenant, TokenMaker

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _brand(tenant: Tenant, zone: str = "Europe/Madrid") -> Brand:
    return Brand.objects.create(organization=tenant.org, name="Marca", slug="marca", timezone=zone)


def _channels(brand: Brand, n: int = 2) -> list[Channel]:
    return [connect_channel(SYSTEM, brand, "sandbox", f"@marca_{i}", f"Marca {i}") for i in range(n)]


def _post(
    brand: Brand, at: datetime | None, channels: list[Channel], state: str = PostState.DRAFT, **extra: object
) -> Post:
    post = Post.objects.create(
        organization=brand.organization,
        brand=brand,
        text="Hola <b>mundo</b>",
        state=state,
        scheduled_at=at,
        **extra,
    )
    for channel in channels:
        Variant.objects.create(post=post, channel=channel)
    return post


# ---------------------------------------------------------------- calendar


def test_calendar_in_the_brands_time_zone(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    channels = _channels(brand)
    late = _post(brand, utc(2031, 5, 31, 23, 30), channels[:1])  # 1 June, 01:30 in Madrid
    _post(brand, utc(2031, 6, 2, 8), channels[:1], state=PostState.CANCELLED)
    # 1 June from midnight in Madrid.
    madrid_week = "start=2031-06-01T00:00%2B02:00&end=2031-06-08T00:00%2B02:00"
    found = api.get(f"/brands/{brand.pk}/calendar?{madrid_week}", owner_token)
    assert found.status == 200, found
    assert found.body["timezone"] == "Europe/Madrid"
    assert found.body["start"].startswith("2031-05-31T22:00")
    [entry] = found.body["entries"]
    assert entry["post_id"] == late.pk and entry["local_time"] == "2031-06-01T01:30:00+02:00"
    assert entry["at"].startswith("2031-05-31T23:30") and entry["movable"] is True
    assert entry["excerpt"] == "Hola <b>mundo</b>"  # verbatim: JSON, not HTML
    assert entry["channels"] == [{"id": channels[0].pk, "network": "sandbox", "handle": "marca_0"}]
    assert entry["url"] == f"/publish/posts/{late.pk}/"
    # Without an offset a time is UTC, as everywhere in the API: midnight UTC on 1 June is after the post.
    utc_week = "start=2031-06-01T00:00&end=2031-06-08T00:00"
    utc_range = api.get(f"/brands/{brand.pk}/calendar?{utc_week}", owner_token)
    assert utc_range.body["entries"] == []


@pytest.mark.parametrize(
    "query",
    [
        "start=2031-06-08T00:00&end=2031-06-01T00:00",
        "start=2031-01-01T00:00&end=2031-06-01T00:00",
        "start=2031-06-01T00:00",
        "start=tomorrow&end=2031-06-01T00:00",
        "start=0001-01-01T00:00:00%2B05:00&end=0001-01-02T00:00:00%2B05:00",
        "start=9999-12-31T23:00:00-05:00&end=9999-12-31T23:59:00-05:00",
    ],
)
def test_calendar_ranges_that_are_refused(api: Api, tenant: Tenant, owner_token: str, query: str) -> None:
    brand = _brand(tenant)
    response = api.get(f"/brands/{brand.pk}/calendar?{query}", owner_token)
    assert response.status == 422, response
    assert response.body["code"] == "validation_error"


def test_calendar_tenancy_and_scopes(
    api: Api, tenant: Tenant, other: Tenant, other_token: str, make_token: TokenMaker
) -> None:
    brand = _brand(tenant)
    path = f"/brands/{brand.pk}/calendar?start=2031-06-01T00:00&end=2031-06-02T00:00"
    assert api.get(path, other_token).status == 404
    no_scope = make_token(tenant.owner, tenant.org, ["brands:read"])
    assert api.get(path, no_scope).body["code"] == "missing_scope"
    analyst = make_token(tenant.person(Role.ANALYST), tenant.org, ["posts:read"])
    response = api.get(path, analyst)
    assert response.status == 200 and response.body["entries"] == []


# ---------------------------------------------------------------- moving


def test_move_a_draft(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    post = _post(brand, utc(2031, 6, 2, 8), _channels(brand)[:1])
    moved = api.post(f"/posts/{post.pk}/move", owner_token, {"when": "2031-06-03T10:15+02:00"})
    assert moved.status == 200, moved
    assert moved.body["local_time"] == "2031-06-03T10:15:00+02:00"
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 3, 8, 15)
    moved = api.post(f"/posts/{post.pk}/move", owner_token, {"when": "2031-06-03T10:15"})  # UTC
    assert moved.body["local_time"] == "2031-06-03T12:15:00+02:00"
    moved = api.post(f"/posts/{post.pk}/move", owner_token, {"when": "2031-12-03T10:15Z"})
    assert moved.body["local_time"] == "2031-12-03T11:15:00+01:00"  # winter time
    assert AuditEntry.objects.filter(action="post.moved", via="api").count() == 3


def test_move_refusals(
    api: Api, tenant: Tenant, owner_token: str, other_token: str, make_token: TokenMaker
) -> None:
    brand = _brand(tenant)
    channels = _channels(brand)
    post = _post(brand, utc(2031, 6, 2, 8), channels[:1], created_by=tenant.owner)
    past = api.post(f"/posts/{post.pk}/move", owner_token, {"when": "2020-01-01T10:00Z"})
    assert past.status == 422 and past.body["errors"][0]["loc"] == ["body", "when"]
    assert api.post(f"/posts/{post.pk}/move", owner_token, {"when": "soon"}).status == 422
    assert api.post(f"/posts/{post.pk}/move", owner_token, {"when": "2031-06-03T10:15", "x": 1}).status == 422
    published = _post(brand, utc(2031, 6, 2, 9), channels[:1], state=PostState.PUBLISHED)
    conflict = api.post(f"/posts/{published.pk}/move", owner_token, {"when": "2031-06-03T10:15"})
    assert conflict.status == 409 and conflict.body["code"] == "wrong_state"
    assert api.post(f"/posts/{post.pk}/move", other_token, {"when": "2031-06-03T10:15"}).status == 404
    contributor = make_token(tenant.person(Role.CONTRIBUTOR), tenant.org, ["posts:write"])
    refused = api.post(f"/posts/{post.pk}/move", contributor, {"when": "2031-06-03T10:15"})
    assert refused.status == 403 and refused.body["code"] == "permission_denied"
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 2, 8)


def test_moving_a_scheduled_post_needs_the_publish_scope_and_moves_deliveries(
    api: Api, tenant: Tenant, make_token: TokenMaker
) -> None:
    brand = _brand(tenant)
    post = _post(brand, None, _channels(brand)[:1], state=PostState.APPROVED, created_by=tenant.owner)
    schedule(Actor(user=tenant.owner, via="web"), post, utc(2031, 6, 2, 8))
    write_only = make_token(tenant.owner, tenant.org, ["posts:write"])
    assert api.post(f"/posts/{post.pk}/move", write_only, {"when": "2031-06-05T09:00"}).status == 403
    both = make_token(tenant.owner, tenant.org, ["posts:write", "posts:publish"])
    moved = api.post(f"/posts/{post.pk}/move", both, {"when": "2031-06-05T09:00+02:00"})
    assert moved.status == 200, moved
    assert DeliveryTarget.objects.get(post=post).due_at == utc(2031, 6, 5, 7)
    # A publisher who does not operate the channel may not move its deliveries.
    manager = tenant.person(Role.COMMUNITY_MANAGER)
    token = make_token(manager, tenant.org, ["posts:write", "posts:publish"])
    refused = api.post(f"/posts/{post.pk}/move", token, {"when": "2031-06-06T09:00"})
    assert refused.status == 403 and "@marca_0" in refused.body["detail"]


# ---------------------------------------------------------------- queue slots


def test_queue_slots_read_and_replace(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    channel = _channels(brand, 1)[0]
    empty = api.get(f"/channels/{channel.pk}/queue-slots", owner_token)
    assert empty.status == 200 and empty.body == {
        "channel_id": channel.pk,
        "timezone": "Europe/Madrid",
        "slots": [],
    }
    slots = [
        {"weekday": 2, "time": "09:30"},
        {"weekday": 0, "time": "18:00"},
        {"weekday": 2, "time": "09:30"},
    ]
    put = api.put(f"/channels/{channel.pk}/queue-slots", owner_token, {"slots": slots})
    assert put.status == 200, put
    assert put.body["slots"] == [{"weekday": 0, "time": "18:00"}, {"weekday": 2, "time": "09:30"}]
    assert api.get(f"/channels/{channel.pk}/queue-slots", owner_token).body == put.body
    entry = AuditEntry.objects.get(action="queue_slots.set")
    assert entry.via == "api"


@pytest.mark.parametrize(
    "slots",
    [
        [{"weekday": 7, "time": "09:00"}],
        [{"weekday": -1, "time": "09:00"}],
        [{"weekday": 1, "time": "24:00"}],
        [{"weekday": 1, "time": "9:00"}],
        [{"weekday": 1, "time": "09:00:30"}],
        [{"weekday": 1, "time": "09:00", "channel": 3}],
        [{"weekday": day, "time": f"{hour:02d}:00"} for day in range(7) for hour in range(15)],
    ],
)
def test_invalid_queue_slots_are_422_and_change_nothing(
    api: Api, tenant: Tenant, owner_token: str, slots: list[dict[str, object]]
) -> None:
    brand = _brand(tenant)
    channel = _channels(brand, 1)[0]
    QueueSlot.objects.create(channel=channel, weekday=4, time=time(18, 0))
    response = api.put(f"/channels/{channel.pk}/queue-slots", owner_token, {"slots": slots})
    assert response.status == 422, response
    assert [(s.weekday, s.time) for s in QueueSlot.objects.filter(channel=channel)] == [(4, time(18, 0))]


def test_who_may_set_queue_slots(api: Api, tenant: Tenant, other_token: str, make_token: TokenMaker) -> None:
    brand = _brand(tenant)
    channel = _channels(brand, 1)[0]
    path = f"/channels/{channel.pk}/queue-slots"
    body = {"slots": [{"weekday": 1, "time": "09:00"}]}
    assert api.put(path, other_token, body).status == 404
    assert api.get(path, other_token).status == 404
    manager = tenant.person(Role.COMMUNITY_MANAGER)
    token = make_token(manager, tenant.org, ["posts:publish"])
    assert api.put(path, token, body).status == 403  # publishes, but does not operate the channel
    set_channel_operators(SYSTEM, channel, [manager])
    assert api.put(path, token, body).status == 200
    read_only = make_token(tenant.owner, tenant.org, ["posts:read"])
    assert api.put(path, read_only, body).body["code"] == "missing_scope"
    brand_manager = make_token(tenant.person(Role.BRAND_MANAGER), tenant.org, ["publishing:manage"])
    assert api.put(path, brand_manager, {"slots": []}).status == 200
    assert not QueueSlot.objects.filter(channel=channel).exists()


# ---------------------------------------------------------------- add to queue


def test_add_to_queue_picks_the_next_free_shared_slot(
    api: Api, tenant: Tenant, owner_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: utc(2031, 6, 2, 6))  # Monday 08:00 in Madrid
    brand = _brand(tenant)
    channels = _channels(brand)
    for channel in channels:
        QueueSlot.objects.create(channel=channel, weekday=0, time=time(9, 0))
        QueueSlot.objects.create(channel=channel, weekday=3, time=time(17, 30))
    _post(brand, utc(2031, 6, 2, 7), channels[:1], state=PostState.SCHEDULED)  # Monday 09:00 is taken
    post = _post(brand, None, channels)
    queued = api.post(f"/posts/{post.pk}/queue", owner_token)
    assert queued.status == 200, queued
    assert queued.body["local_time"] == "2031-06-05T17:30:00+02:00"
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 5, 15, 30)
    QueueSlot.objects.filter(channel=channels[1], weekday=3).delete()
    QueueSlot.objects.filter(channel=channels[1]).update(weekday=5)
    refused = api.post(f"/posts/{post.pk}/queue", owner_token)
    assert refused.status == 422 and "share no queue slot" in refused.body["detail"]
    assert Post.objects.get(pk=post.pk).scheduled_at == utc(2031, 6, 5, 15, 30)
