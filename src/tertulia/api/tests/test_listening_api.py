"""The listening endpoints do what they say: validate, save, read what was found, backtest, alert, source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tertulia.api.tests.conftest import Api, Tenant
from tertulia.api.tests.listening_helpers import *  # noqa: F403  # the fixtures
from tertulia.api.tests.listening_helpers import item, listen
from tertulia.core.models import AuditEntry, Brand
from tertulia.core.tests.factories import make_user
from tertulia.listening.models import ListeningQuery, ListeningSource, Mention, QueryAlert, QueryMatch

pytestmark = pytest.mark.django_db


def _save(api: Api, token: str, brand: Brand, name: str, text: str, **extra: Any) -> dict[str, Any]:
    response = api.post(
        "/listening/queries", token, {"brand_id": brand.pk, "name": name, "text": text, **extra}
    )
    assert response.status == 201, response
    body: dict[str, Any] = response.body
    return body


# ---------------------------------------------------------------- validating


def test_a_valid_query_answers_its_tree_terms_and_warnings(api: Api, owner_token: str) -> None:
    response = api.post(
        "/listening/queries/validate", owner_token, {"query": 'vino or "cava brut" NOT #empleo'}
    )
    assert response.status == 200
    body = response.body
    assert body["valid"] is True and body["error"] is None
    assert body["tree"]["type"] == "and"
    operands = body["tree"]["operands"]
    assert [node["type"] for node in operands] == ["word", "word", "phrase", "not"]
    assert operands[2] == {"type": "phrase", "words": ["cava", "brut"], "position": 8}
    assert operands[3]["operand"] == {"type": "hashtag", "value": "empleo", "position": 24}
    assert body["terms"] >= 4
    assert body["warnings"] == [
        {
            "code": "lowercase_operator",
            "position": 5,
            "message": '"or" is looked for as a word; write OR in capitals for the operator.',
        }
    ]


@pytest.mark.parametrize(
    ("query", "code", "position", "length"),
    [
        ("vino )", "unmatched_paren", 5, 1),
        ("vino AND (tinto OR", "dangling_operator", 16, 2),
        ('"vino tinto', "unclosed_quote", 0, 1),
        ("NOT vino", "only_negative", 0, 8),
        ("", "empty", 0, 1),
        ("   ", "empty", 0, 1),
        ("lang:zzzzzz vino", "bad_language", 0, 11),
        ("vino NEAR/x cava", "near_distance", 5, 6),
        ("colour:red vino", "unknown_field", 0, 7),
        ("(" * 40 + "x" + ")" * 40, "too_deep", 32, 1),
        ("a" * 20_001, "too_long", 20_000, 1),
        ("ñandú café )", "unmatched_paren", 11, 1),  # code points, not UTF-16 units or bytes
    ],
)
def test_a_bad_query_answers_where_and_what(
    api: Api, owner_token: str, query: str, code: str, position: int, length: int
) -> None:
    response = api.post("/listening/queries/validate", owner_token, {"query": query})
    assert response.status == 200, response
    body = response.body
    assert body["valid"] is False and body["tree"] is None and body["warnings"] == []
    error = body["error"]
    assert (error["code"], error["position"], error["length"]) == (code, position, length)
    assert error["message"] and isinstance(error["expected"], list)


def test_validating_needs_only_reading_and_saves_nothing(api: Api, tokens: dict[str, str]) -> None:
    for token in tokens.values():  # every role may check a query
        assert api.post("/listening/queries/validate", token, {"query": "vino"}).body["valid"] is True
    assert (
        not ListeningQuery.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="listen").exists()
    )


def test_oversized_validation_bodies_are_a_clear_4xx(api: Api, owner_token: str) -> None:
    too_long = api.post("/listening/queries/validate", owner_token, {"query": "a" * 40_001})
    assert too_long.status == 422 and too_long.body["errors"][0]["loc"][-1] == "query"
    huge = api.post("/listening/queries/validate", owner_token, {"query": "x" * (3 * 1024 * 1024)})
    assert huge.status == 413 and huge.body["code"] == "payload_too_large"
    for body in ({}, {"query": None}, {"query": 7}, {"query": "x", "extra": 1}, {"query": "nul\x00"}):
        response = api.post("/listening/queries/validate", owner_token, body)
        assert response.status == 422, (body, response)
    assert api.post("/listening/queries/validate", owner_token, raw="{").status == 400


# ---------------------------------------------------------------- saved queries


def test_save_read_list_change_and_delete_a_query(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand
) -> None:
    created = _save(api, owner_token, brand, "Marca", "bodega OR @bodega.bsky.social")
    assert created["group"] == "brand" and created["version"] == 1 and created["is_active"] is True
    assert created["created_by_id"] == tenant.owner.pk and created["brand_id"] == brand.pk
    rival = _save(api, owner_token, brand, "Rival", "#rival", group="competitor", is_active=False)
    other_brand = Brand.objects.create(organization=tenant.org, name="Otra", slug="otra")
    topic = _save(api, owner_token, other_brand, "Sector", "vino NEAR/3 precio", group="industry")

    listed = api.get("/listening/queries", owner_token).body
    assert listed["count"] == 3
    assert [
        q["id"] for q in api.get(f"/listening/queries?brand_id={brand.pk}", owner_token).body["items"]
    ] == [
        created["id"],
        rival["id"],
    ]
    assert [q["id"] for q in api.get("/listening/queries?group=industry", owner_token).body["items"]] == [
        topic["id"]
    ]
    assert api.get("/listening/queries?active=false", owner_token).body["count"] == 1
    assert api.get("/listening/queries?group=nope", owner_token).status == 422

    assert api.get(f"/listening/queries/{created['id']}", owner_token).body == created
    changed = api.patch(
        f"/listening/queries/{created['id']}", owner_token, {"version": 1, "text": "bodega NOT empleo"}
    )
    assert (
        changed.status == 200 and changed.body["text"] == "bodega NOT empleo" and changed.body["version"] == 2
    )
    renamed = api.patch(f"/listening/queries/{created['id']}", owner_token, {"version": 2, "name": "Nombre"})
    assert renamed.body["name"] == "Nombre" and renamed.body["version"] == 3
    assert api.delete(f"/listening/queries/{created['id']}", owner_token).status == 204
    assert api.get(f"/listening/queries/{created['id']}", owner_token).status == 404
    actions = set(AuditEntry.objects.filter(organization=tenant.org).values_list("action", flat=True))
    assert {"listening.query_created", "listening.query_changed", "listening.query_deleted"} <= actions
    assert AuditEntry.objects.filter(action="listening.query_created", via="api").count() == 3


def test_a_stale_version_is_409_and_writes_nothing(api: Api, owner_token: str, brand: Brand) -> None:
    query = _save(api, owner_token, brand, "Marca", "bodega")
    path = f"/listening/queries/{query['id']}"
    assert api.patch(path, owner_token, {"version": 1, "is_active": False}).status == 200
    stale = api.patch(path, owner_token, {"version": 1, "text": "otra cosa"})
    assert stale.status == 409 and stale.body["code"] == "version_conflict" and stale.body["version"] == 2
    same = api.patch(path, owner_token, {"version": 1, "is_active": False})  # even a change to nothing
    assert same.status == 409
    assert ListeningQuery.objects.get(pk=query["id"]).text == "bodega"
    for version in (0, -1, 2**40, "dos", None):
        assert api.patch(path, owner_token, {"version": version, "name": "x"}).status == 422, version
    assert api.patch(path, owner_token, {"name": "sin versión"}).status == 422


def test_a_query_the_parser_refuses_is_422_with_the_positioned_error(
    api: Api, owner_token: str, brand: Brand
) -> None:
    refused = api.post(
        "/listening/queries", owner_token, {"brand_id": brand.pk, "name": "Mal", "text": "vino )"}
    )
    assert refused.status == 422 and refused.body["code"] == "invalid_query"
    assert refused.body["error"]["code"] == "unmatched_paren" and refused.body["error"]["position"] == 5
    assert refused.body["errors"] == [
        {"loc": ["body", "text"], "msg": refused.body["error"]["message"], "type": "unmatched_paren"}
    ]
    query = _save(api, owner_token, brand, "Bien", "vino")
    change = api.patch(f"/listening/queries/{query['id']}", owner_token, {"version": 1, "text": "(vino"})
    assert change.status == 422 and change.body["error"]["code"] == "unclosed_paren"
    assert ListeningQuery.objects.get(pk=query["id"]).text == "vino"
    assert ListeningQuery.objects.count() == 1


def test_names_and_groups_are_checked_by_the_action(api: Api, owner_token: str, brand: Brand) -> None:
    _save(api, owner_token, brand, "Marca", "bodega")
    twice = api.post(
        "/listening/queries", owner_token, {"brand_id": brand.pk, "name": " Marca ", "text": "x"}
    )
    assert twice.status == 422 and twice.body["errors"][0]["loc"] == ["body", "name"]
    blank = api.post("/listening/queries", owner_token, {"brand_id": brand.pk, "name": "   ", "text": "x"})
    assert blank.status == 422 and blank.body["errors"][0]["loc"] == ["body", "name"]
    for body in (
        {"brand_id": brand.pk, "name": "x", "text": "x", "group": "rivals"},
        {"brand_id": brand.pk, "name": "x" * 121, "text": "x"},
        {"brand_id": 0, "name": "x", "text": "x"},
        {"name": "x", "text": "x"},
        {"brand_id": brand.pk, "name": "x", "text": "x", "version": 1},
    ):
        assert api.post("/listening/queries", owner_token, body).status == 422, body
    assert (
        api.post("/listening/queries", owner_token, {"brand_id": 999_999, "name": "x", "text": "x"}).status
        == 404
    )
    assert ListeningQuery.objects.count() == 1


# ---------------------------------------------------------------- what listening found


NOW = timezone.now().replace(microsecond=0)


def _found(tenant: Tenant, brand: Brand, api: Api, token: str) -> dict[str, Any]:
    """A brand query, a competitor's, and a week of mentions for them."""
    mine = _save(api, token, brand, "Marca", "bodega")
    rival = _save(api, token, brand, "Rival", "rival", group="competitor")
    day = timedelta(days=1)
    listen(
        tenant.org.pk,
        [
            item(
                "1",
                "La bodega es genial",
                NOW - 1 * day,
                "positive",
                author_handle="ana",
                author_followers=50,
            ),
            item("2", "La bodega tarda mucho, reembolso ya", NOW - 2 * day, "negative", author_handle="ana"),
            item("3", "bodega y rival, reembolso reembolso", NOW - 3 * day, "negative", author_handle="luis"),
            item(
                "4",
                "Probando la bodega nueva con reembolso",
                NOW - timedelta(hours=5),
                author_handle="eva",
                author_followers=900,
            ),
            item("5", "rival sin más", NOW - 2 * day),
            item("6", "nada que ver", NOW - 2 * day),
            item("7", "bodega hace un año", NOW - 400 * day),
        ],
    )
    return {"mine": mine, "rival": rival}


def test_mentions_newest_first_with_filters(api: Api, tenant: Tenant, owner_token: str, brand: Brand) -> None:
    found = _found(tenant, brand, api, owner_token)
    path = f"/listening/queries/{found['mine']['id']}/mentions"
    page = api.get(path, owner_token).body
    assert page["count"] == 5
    assert [m["remote_id"] for m in page["items"]] == ["4", "1", "2", "3", "7"]
    first = page["items"][0]
    assert first["text"] == "Probando la bodega nueva con reembolso" and first["author_followers"] == 900
    assert first["backfilled"] is False and first["network"] == "bluesky"
    negative = api.get(f"{path}?sentiment=negative", owner_token).body
    assert [m["remote_id"] for m in negative["items"]] == ["2", "3"]
    client = Client()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    since = (NOW - timedelta(days=2, hours=1)).isoformat()
    recent = client.get(f"/api/v1{path}", {"since": since, "until": NOW.isoformat()}, **auth).json()
    assert [m["remote_id"] for m in recent["items"]] == ["4", "1", "2"]
    second = client.get(f"/api/v1{path}", {"limit": 2, "offset": 2}, **auth).json()
    assert [m["remote_id"] for m in second["items"]] == ["2", "3"] and second["count"] == 5
    assert client.get(f"/api/v1{path}", {"sentiment": "angry"}, **auth).status_code == 422
    assert client.get(f"/api/v1{path}", {"limit": 201}, **auth).status_code == 422


def test_insight_of_a_query(api: Api, tenant: Tenant, owner_token: str, brand: Brand) -> None:
    found = _found(tenant, brand, api, owner_token)
    client = Client()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    path = f"/api/v1/listening/queries/{found['mine']['id']}/insight"
    week = client.get(path, **auth).json()  # the last 7 days by default
    assert week["timezone"] == "Europe/Madrid" and week["hourly"] is False
    assert sum(point["count"] for point in week["volume"]) == 4
    assert len(week["volume"]) in (7, 8)
    assert week["volume"][0]["at"].endswith(("+01:00", "+02:00"))  # the brand's time zone
    assert week["sentiment"] == {"negative": 2, "neutral": 1, "positive": 1, "total": 4}
    assert [a["handle"] for a in week["top_authors"]] == ["eva", "ana", "luis"]
    assert week["top_authors"][1] == {
        "handle": "ana",
        "name": "",
        "network": "bluesky",
        "followers": 50,
        "mentions": 2,
    }
    assert [t["text"] for t in week["rising_terms"]] == ["reembolso"]
    assert week["rising_terms"][0]["recent"] == 3 and week["rising_terms"][0]["before"] == 0
    day = client.get(
        path, {"since": (NOW - timedelta(hours=23)).isoformat(), "until": NOW.isoformat()}, **auth
    )
    assert day.status_code == 200 and day.json()["hourly"] is True
    assert sum(p["count"] for p in day.json()["volume"]) == 1 and len(day.json()["volume"]) in (23, 24, 25)


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "0001-01-01T00:00:00Z", "until": "0001-01-05T00:00:00Z"},
        {"until": "0001-01-01T00:00:00Z"},
        {"until": "9999-12-31T23:59:59Z"},
        {"since": "9999-12-31T23:59:59-12:00"},
        {"since": "yesterday"},
    ],
)
def test_periods_out_of_bounds_are_422(
    api: Api, owner_token: str, brand: Brand, params: dict[str, str]
) -> None:
    query = _save(api, owner_token, brand, "Marca", "bodega")
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    for path in (f"/listening/queries/{query['id']}/insight", f"/listening/brands/{brand.pk}/share-of-voice"):
        response = Client().get(f"/api/v1{path}", params, **auth)
        assert response.status_code == 422, (path, params, response.content)
        assert response.json()["code"] == "validation_error"


def test_share_of_voice(api: Api, tenant: Tenant, owner_token: str, brand: Brand) -> None:
    found = _found(tenant, brand, api, owner_token)
    _save(api, owner_token, brand, "Sector", "vino", group="industry")  # not counted
    body = api.get(f"/listening/brands/{brand.pk}/share-of-voice", owner_token).body
    assert body["brand_id"] == brand.pk and body["total"] == 6
    assert [(v["query_id"], v["mentions"]) for v in body["queries"]] == [
        (found["mine"]["id"], 4),
        (found["rival"]["id"], 2),
    ]
    assert body["queries"][0]["share"] == pytest.approx(4 / 6) and body["queries"][1]["group"] == "competitor"
    empty = Brand.objects.create(organization=tenant.org, name="Vacía", slug="vacia")
    nothing = api.get(f"/listening/brands/{empty.pk}/share-of-voice", owner_token).body
    assert (nothing["total"], nothing["queries"]) == (0, [])


# ---------------------------------------------------------------- backtests and backfill


def test_backtests_of_saved_and_unsaved_queries(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand
) -> None:
    found = _found(tenant, brand, api, owner_token)
    saved = api.post(f"/listening/queries/{found['mine']['id']}/backtest", owner_token, {"days": 30})
    assert saved.status == 200
    body = saved.body
    assert (body["checked"], body["matched"], body["truncated"]) == (6, 4, False)
    assert sum(day["count"] for day in body["by_day"]) == 4
    assert [day["day"] for day in body["by_day"]] == sorted(day["day"] for day in body["by_day"])
    assert [s["remote_id"] for s in body["sample"]] == ["4", "1", "2", "3"]
    assert body["sample"][1]["sentiment"] == "positive"
    year = api.post(f"/listening/queries/{found['mine']['id']}/backtest", owner_token, {"days": 365}).body
    assert year["matched"] == 4  # the post of 400 days ago is out of reach
    unsaved = api.post("/listening/backtest", owner_token, {"query": "reembolso NOT rival", "days": 7})
    assert unsaved.status == 200 and unsaved.body["matched"] == 2
    default = api.post("/listening/backtest", owner_token, {"query": "rival"})
    assert default.status == 200 and default.body["matched"] == 2
    bad = api.post("/listening/backtest", owner_token, {"query": "rival )"})
    assert bad.status == 422 and bad.body["code"] == "invalid_query" and bad.body["error"]["position"] == 6
    assert bad.body["errors"][0]["loc"] == ["body", "query"]
    for days in (0, 366, -1, "x", None):
        response = api.post("/listening/backtest", owner_token, {"query": "rival", "days": days})
        assert response.status == 422, days
    assert ListeningQuery.objects.count() == 2  # a backtest saves nothing


def test_backfill_links_history_once(api: Api, tenant: Tenant, owner_token: str, brand: Brand) -> None:
    _found(tenant, brand, api, owner_token)
    new = _save(api, owner_token, brand, "Reembolsos", "reembolso")  # saved after the mentions came in
    path = f"/listening/queries/{new['id']}"
    assert api.get(f"{path}/mentions", owner_token).body["count"] == 0
    first = api.post(f"{path}/backfill", owner_token, {"days": 30})
    assert first.status == 200 and first.body["added"] == 3
    assert api.post(f"{path}/backfill", owner_token, {"days": 30}).body["added"] == 0
    mentions = api.get(f"{path}/mentions", owner_token).body
    assert mentions["count"] == 3 and all(m["backfilled"] for m in mentions["items"])
    assert AuditEntry.objects.filter(action="listening.query_backfilled", via="api").count() == 2
    assert api.post(f"{path}/backfill", owner_token, {"days": 400}).status == 422


def test_a_stored_query_that_no_longer_parses_is_422_not_500(
    api: Api, owner_token: str, brand: Brand, tenant: Tenant
) -> None:
    broken = ListeningQuery.objects.create(organization=tenant.org, brand=brand, name="Vieja", text="vino )")
    for suffix in ("backtest", "backfill"):
        response = api.post(f"/listening/queries/{broken.pk}/{suffix}", owner_token, {"days": 7})
        assert response.status == 422 and response.body["code"] == "invalid_query", suffix
    assert api.get(f"/listening/queries/{broken.pk}/insight", owner_token).status == 200


# ---------------------------------------------------------------- alerts


def test_alerts_on_a_query(api: Api, tenant: Tenant, owner_token: str, brand: Brand) -> None:
    query = _save(api, owner_token, brand, "Marca", "bodega")
    path = f"/listening/queries/{query['id']}/alerts"
    analyst = tenant.person("analyst")
    created = api.post(
        path,
        owner_token,
        {"kind": "negative_share", "threshold": 40, "recipients": [tenant.owner.pk, analyst.pk]},
    )
    assert created.status == 201, created
    alert = created.body
    assert alert["recipients"] == sorted([tenant.owner.pk, analyst.pk]) and alert["window_minutes"] == 60
    assert (alert["kind"], alert["threshold"], alert["minimum_mentions"], alert["query_id"]) == (
        "negative_share",
        40,
        10,
        query["id"],
    )
    volume = api.post(path, owner_token, {"threshold": 100, "window_minutes": 15, "recipients": [analyst.pk]})
    assert volume.status == 201 and volume.body["kind"] == "volume"
    listed = api.get(path, owner_token).body
    assert [a["id"] for a in listed["items"]] == [alert["id"], volume.body["id"]]
    assert api.delete(f"/listening/alerts/{alert['id']}", owner_token).status == 204
    assert api.delete(f"/listening/alerts/{alert['id']}", owner_token).status == 404
    assert list(QueryAlert.objects.values_list("pk", flat=True)) == [volume.body["id"]]
    assert AuditEntry.objects.filter(action="listening.alert_deleted", via="api").exists()


def test_alerts_refused_for_what_was_sent(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, brand: Brand
) -> None:
    query = _save(api, owner_token, brand, "Marca", "bodega")
    path = f"/listening/queries/{query['id']}/alerts"
    outsider = make_user()
    for recipients, field in (
        ([other.owner.pk], "recipients"),
        ([outsider.pk], "recipients"),
        ([999_999], "recipients"),
        ([], "recipients"),
    ):
        response = api.post(path, owner_token, {"threshold": 5, "recipients": recipients})
        assert response.status == 422 and response.body["errors"][0]["loc"] == ["body", field], (
            recipients,
            response,
        )
    share = api.post(
        path, owner_token, {"kind": "negative_share", "threshold": 100, "recipients": [tenant.owner.pk]}
    )
    assert share.status == 422 and share.body["errors"][0]["loc"] == ["body", "threshold"]
    for body in (
        {"threshold": 5, "recipients": [tenant.owner.pk], "window_minutes": 4},
        {"threshold": 5, "recipients": [tenant.owner.pk], "window_minutes": 7 * 24 * 60 + 1},
        {"threshold": -1, "recipients": [tenant.owner.pk]},
        {"threshold": 5, "recipients": [tenant.owner.pk], "kind": "loud"},
        {"threshold": 5, "recipients": [0]},
        {"threshold": 5, "recipients": list(range(1, 102))},
        {"recipients": [tenant.owner.pk]},
    ):
        assert api.post(path, owner_token, body).status == 422, body
    assert not QueryAlert.objects.exists()


# ---------------------------------------------------------------- sources


def test_sources(api: Api, tenant: Tenant, owner_token: str) -> None:
    feed = api.post(
        "/listening/sources", owner_token, {"kind": "feed", "url": "https://example.com/feed.xml"}
    )
    assert (
        feed.status == 201 and feed.body["name"] == "https://example.com/feed.xml" and feed.body["is_active"]
    )
    tag = api.post(
        "/listening/sources",
        owner_token,
        {"kind": "mastodon_hashtag", "url": "https://mastodon.social/@someone", "hashtag": "#vino"},
    )
    assert (
        tag.status == 201 and tag.body["url"] == "https://mastodon.social" and tag.body["hashtag"] == "vino"
    )
    assert tag.body["name"] == "#vino @ mastodon.social"
    again = api.post(
        "/listening/sources", owner_token, {"kind": "feed", "url": "https://example.com/feed.xml"}
    )
    assert again.status == 422 and again.body["errors"][0]["loc"] == ["body", "url"]
    for body, field in (
        ({"kind": "feed", "url": "javascript:alert(1)"}, "url"),
        ({"kind": "feed", "url": "ftp://example.com/x"}, "url"),
        ({"kind": "mastodon_hashtag", "url": "https://mastodon.social", "hashtag": "no spaces"}, "hashtag"),
    ):
        response = api.post("/listening/sources", owner_token, body)
        assert response.status == 422 and response.body["errors"][0]["loc"] == ["body", field], body
    assert api.post("/listening/sources", owner_token, {"kind": "rss", "url": "https://x.es"}).status == 422
    listed = api.get("/listening/sources", owner_token).body
    assert listed["count"] == 2 and {s["id"] for s in listed["items"]} == {feed.body["id"], tag.body["id"]}
    off = api.patch(f"/listening/sources/{feed.body['id']}", owner_token, {"is_active": False})
    assert off.status == 200 and off.body["is_active"] is False
    assert api.patch(f"/listening/sources/{feed.body['id']}", owner_token, {}).body["is_active"] is False
    assert api.patch(f"/listening/sources/{feed.body['id']}", owner_token, {"is_active": None}).status == 422
    assert api.patch(f"/listening/sources/{feed.body['id']}", owner_token, {"cursor": "x"}).status == 422
    assert api.delete(f"/listening/sources/{feed.body['id']}", owner_token).status == 204
    assert list(ListeningSource.objects.values_list("pk", flat=True)) == [tag.body["id"]]
    actions = set(AuditEntry.objects.filter(via="api").values_list("action", flat=True))
    assert {"listening.source_added", "listening.source_changed", "listening.source_removed"} <= actions


def test_removing_a_source_keeps_what_it_brought(api: Api, tenant: Tenant, owner_token: str) -> None:
    source = api.post(
        "/listening/sources", owner_token, {"kind": "feed", "url": "https://example.com/f"}
    ).body
    Mention.objects.create(
        organization=tenant.org,
        source_id=source["id"],
        network="web",
        remote_id="https://example.com/f/1",
        text="hola",
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert api.delete(f"/listening/sources/{source['id']}", owner_token).status == 204
    assert Mention.objects.get().source_id is None and not QueryMatch.objects.exists()
