"""Listen pages: overview, query editor (live check, backtest, save, delete), query page, CSV, alerts.

Sources are in test_listening_sources.py. Every page is tried as a person who may only look
(a contributor: Perm.VIEW) and one who may change listening (an analyst: Perm.MANAGE_LISTENING).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.listening import registry
from tertulia.listening.actions.alerts import create_alert
from tertulia.listening.actions.queries import create_query
from tertulia.listening.ingest import Item, ingest
from tertulia.listening.models import AlertEvent, ListeningQuery, QueryAlert, QueryMatch
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202e\u200b😀'


@pytest.fixture(autouse=True)
def fresh_matchers() -> None:
    registry.forget()


@pytest.fixture
def org() -> Organization:
    return make_org("Escucha SA")


@pytest.fixture
def brand(org: Organization) -> Brand:
    return make_brand(org, "Bodega Demo")


@pytest.fixture
def analyst(org: Organization) -> User:
    return make_member(org, Role.ANALYST, email="analista@example.com")


@pytest.fixture
def viewer(org: Organization) -> User:
    return make_member(org, Role.CONTRIBUTOR, email="colabora@example.com")


def query(brand: Brand, name: str = "Vino", text: str = "vino", group: str = "brand") -> ListeningQuery:
    return create_query(Actor.system(), brand, name=name, text=text, group=group)


def posts(org: Organization, *texts: str, hours_ago: float = 1, **extra: object) -> None:
    now = timezone.now() - timedelta(hours=hours_ago)
    ingest(
        [
            Item(network="bluesky", remote_id=f"{hours_ago}-{index}", text=text, published_at=now, **extra)  # type: ignore[arg-type]  # a test passes a deliberately loose value
            for index, text in enumerate(texts)
        ],
        organization_id=org.pk,
        keep_unmatched=True,
    )


def other_query() -> ListeningQuery:
    other = make_org("Otra SA")
    return query(make_brand(other, "Ajena"), name="Ajena", text="ajena")


# --- overview -------------------------------------------------------------------------------------


def test_overview_groups_queries_with_counts_sparklines_and_share_of_voice(brand, org, analyst):
    mine = query(brand, "Bodega", "bodega")
    rival = query(brand, "Rival", "rival", group="competitor")
    query(brand, "Vino en general", "vino", group="industry")
    posts(org, "la bodega es buena", "bodega y vino", "rival barato", "otra bodega")
    brand.competitors.create(name=HOSTILE[:100], notes=HOSTILE)
    body = signed_in(analyst).get(reverse("web:listen")).content.decode()
    for heading in ("Brand", "Competitors", "Industry topics", "Share of voice"):
        assert heading in body
    assert f'href="{reverse("web:listen-query", args=[mine.pk])}?period=7d"' in body
    assert f'href="{reverse("web:listen-query", args=[rival.pk])}?period=7d"' in body
    assert body.count('class="spark"') == 3
    assert "3 mentions in the period" in body  # the sparkline's label for "Bodega"
    assert "75 %" in body and "25 %" in body  # bodega 3, rival 1
    assert 'aria-current="true">7 days' in body
    assert "Times in Europe/Madrid" in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert reverse("web:listen-query-new") in body


def test_the_period_switch_takes_only_known_periods(brand, org, analyst):
    query(brand, "Bodega", "bodega")
    posts(org, "bodega antigua", hours_ago=24 * 20)
    client = signed_in(analyst)
    assert "0 mentions in the period" in client.get(reverse("web:listen"), {"period": "7d"}).content.decode()
    assert "1 mention in the period" in client.get(reverse("web:listen"), {"period": "30d"}).content.decode()
    body = client.get(reverse("web:listen"), {"period": "'; DROP TABLE x; --"}).content.decode()
    assert 'aria-current="true">7 days' in body


def test_a_viewer_sees_the_overview_without_buttons(brand, viewer):
    query(brand)
    response = signed_in(viewer).get(reverse("web:listen"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("web:listen-query-new") not in body
    assert "Vino" in body


def test_an_organization_without_brands_sees_a_hint(org):
    lonely = make_member(make_org("Sin marca"), Role.ANALYST)
    body = signed_in(lonely).get(reverse("web:listen")).content.decode()
    assert "no brand yet" in body
    assert signed_in(lonely).get(reverse("web:listen-query-new")).status_code == 404


# --- the live check ----------------------------------------------------------------------------------


def check(client: Client, text: str) -> str:
    response = client.post(reverse("web:listen-query-check"), {"text": text})
    assert response.status_code == 200
    return response.content.decode()


def test_the_check_shows_the_outline_of_a_valid_query(brand, analyst):
    body = check(signed_in(analyst), '("vino tinto" OR #rioja) NOT empleo lang:es')
    assert "The query is valid" in body
    assert 'id="query-outline" hx-swap-oob="true"' in body
    assert "AND: all of" in body
    assert "phrase “vino tinto”" in body
    assert "hashtag #rioja" in body
    assert "lang: es" in body


def test_the_check_points_at_the_error_and_says_what_was_expected(brand, analyst):
    body = check(signed_in(analyst), "vino AND (tinto OR")
    assert "data-query-error" in body
    assert "Line 1, column 17:</strong> OR needs something on both sides." in body
    assert '<pre class="caret" dir="ltr" aria-hidden="true">' in body
    assert 'class="marks">^' in body
    # The outline is emptied when the query does not parse.
    assert "How Tertulia reads it" not in body


def test_the_caret_sits_under_the_exact_position(brand, analyst):
    body = check(signed_in(analyst), "vino )")
    caret = re.search(r'<pre class="caret"[^>]*>(.*?)</pre>', body, re.S)
    assert caret is not None
    line, marks = caret.group(1).split("\n")
    assert line == "vino <mark>)</mark>"
    assert marks == '     <span class="marks">^</span>'
    assert "Line 1, column 6:" in body


def test_lowercase_operators_are_warned_about(brand, analyst):
    body = check(signed_in(analyst), "vino or cerveza")
    assert "The query is valid" in body
    assert "query-warnings" in body
    assert "Line 1, column 6:" in body


@pytest.mark.parametrize(
    "text",
    [
        HOSTILE,
        "<script>alert(1)</script> AND",
        "\u202evino\u202c NOT",
        "vino " * 4_001,  # past 20,000 characters
        "(" * 200 + "vino" + ")" * 200,
        "x\x00y",
        "\u0600" * 50 + " OR",
        "a" * 500,
        '"' + "vino " * 3,
    ],
)
def test_hostile_queries_never_break_the_check(brand, analyst, text):
    body = check(signed_in(analyst), text)
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "data-query-error" in body or "The query is valid" in body or "Null characters" in body


def test_invisible_characters_are_shown_in_the_caret_line(brand, analyst):
    body = check(signed_in(analyst), "\u202evino )")
    assert "◌vino <mark>)</mark>" in body


def test_a_long_line_is_cut_around_the_error(brand, analyst):
    body = check(signed_in(analyst), "vino " * 300 + ")")
    caret = re.search(r'<pre class="caret"[^>]*>(.*?)</pre>', body, re.S)
    assert caret is not None
    assert caret.group(1).startswith("…")
    assert len(caret.group(1)) < 200


def test_only_managers_check_queries(brand, viewer):
    assert signed_in(viewer).post(reverse("web:listen-query-check"), {"text": "vino"}).status_code == 403
    assert signed_in(viewer).get(reverse("web:listen-query-check")).status_code == 405


# --- saving ------------------------------------------------------------------------------------------


def test_a_new_query_is_saved_and_its_page_shown(brand, analyst):
    client = signed_in(analyst)
    page = client.get(reverse("web:listen-query-new"), {"group": "competitor"}).content.decode()
    assert '<option value="competitor" selected>' in page
    assert 'aria-describedby="query-text-help query-check"' in page
    assert 'dir="auto"' in page
    assert "NEAR/2f" in page  # the cheat-sheet
    response = client.post(
        reverse("web:listen-query-new"),
        {
            "name": "Rival",
            "group": "competitor",
            "text": "#rival OR rival",
            "is_active": "1",
            "action": "save",
        },
    )
    saved = ListeningQuery.objects.get(name="Rival")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:listen-query", args=[saved.pk])
    assert (saved.group, saved.text, saved.is_active, saved.created_by) == (
        "competitor",
        "#rival OR rival",
        True,
        analyst,
    )
    assert client.get(response["Location"]).status_code == 200


def test_a_query_with_an_error_is_not_saved_and_the_error_is_shown(brand, analyst):
    response = signed_in(analyst).post(
        reverse("web:listen-query-new"), {"name": "Roto", "group": "brand", "text": "vino NEAR/x tinto"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "data-query-error" in body
    assert 'aria-invalid="true"' in body
    assert "vino NEAR/x tinto</textarea>" in body  # what was typed is kept
    assert not ListeningQuery.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "", "group": "brand", "text": "vino"}, "query-name-error", "Give the query a name."),
        ({"name": "x" * 200, "group": "brand", "text": "vino"}, "query-name-error", "at most 120"),
        ({"name": "Vino", "group": "nope", "text": "vino"}, "query-group-error", "Choose brand"),
        ({"name": "Vino\x00", "group": "brand", "text": "vino"}, "query-name-error", "Null characters"),
    ],
)
def test_refusals_are_shown_on_their_field(brand, analyst, values, field, message):
    response = signed_in(analyst).post(reverse("web:listen-query-new"), values)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{field}"' in body
    assert message in body
    assert not ListeningQuery.objects.exists()


def test_a_duplicate_name_is_refused_on_the_name(brand, analyst):
    query(brand, "Vino")
    response = signed_in(analyst).post(
        reverse("web:listen-query-new"), {"name": "Vino", "group": "brand", "text": "tinto"}
    )
    assert response.status_code == 400
    assert 'id="query-name-error"' in response.content.decode()
    assert ListeningQuery.objects.count() == 1


def test_hostile_text_is_stored_verbatim_and_shown_escaped(brand, org, analyst):
    client = signed_in(analyst)
    text = '"<script>alert(1)</script>" OR \u202evino'
    response = client.post(
        reverse("web:listen-query-new"),
        {"name": HOSTILE[:100], "group": "brand", "text": text, "is_active": "1"},
    )
    assert response.status_code == 302
    saved = ListeningQuery.objects.get()
    assert saved.text == text
    for url in (
        response["Location"],
        reverse("web:listen"),
        reverse("web:listen-query-edit", args=[saved.pk]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body
        assert "&lt;script&gt;" in body


def test_editing_checks_the_version_read(brand, analyst):
    saved = query(brand, "Vino", "vino")
    client = signed_in(analyst)
    edit = reverse("web:listen-query-edit", args=[saved.pk])
    assert f'name="version" value="{saved.version}"' in client.get(edit).content.decode()
    values = {"name": "Vino", "group": "brand", "text": "vino OR tinto", "is_active": "1"}
    assert client.post(edit, {**values, "version": saved.version}).status_code == 302
    saved.refresh_from_db()
    assert (saved.text, saved.version) == ("vino OR tinto", 2)
    stale = client.post(edit, {**values, "text": "cerveza", "version": 1})
    assert stale.status_code == 400
    assert "Someone else changed this query" in stale.content.decode()
    saved.refresh_from_db()
    assert saved.text == "vino OR tinto"


def test_pausing_a_query_by_unticking_active(brand, analyst):
    saved = query(brand, "Vino", "vino")
    signed_in(analyst).post(
        reverse("web:listen-query-edit", args=[saved.pk]),
        {"name": "Vino", "group": "brand", "text": "vino", "version": saved.version},
    )
    saved.refresh_from_db()
    assert saved.is_active is False


def test_viewers_may_not_write_queries(brand, viewer):
    saved = query(brand)
    client = signed_in(viewer)
    values = {"name": "X", "group": "brand", "text": "x"}
    assert client.get(reverse("web:listen-query-new")).status_code == 403
    assert client.post(reverse("web:listen-query-new"), values).status_code == 403
    assert client.post(reverse("web:listen-query-edit", args=[saved.pk]), values).status_code == 403
    assert client.post(reverse("web:listen-query-delete", args=[saved.pk])).status_code == 403
    assert client.post(reverse("web:listen-query-backfill", args=[saved.pk])).status_code == 403
    assert ListeningQuery.objects.get().name == "Vino"
    page = client.get(reverse("web:listen-query", args=[saved.pk])).content.decode()
    assert reverse("web:listen-query-edit", args=[saved.pk]) not in page
    assert reverse("web:listen-alert-create", args=[saved.pk]) not in page


def test_another_organizations_queries_are_not_found(brand, analyst):
    theirs = other_query()
    client = signed_in(analyst)
    for name in (
        "listen-query",
        "listen-query-edit",
        "listen-query-delete",
        "listen-mentions-csv",
        "listen-volume-csv",
    ):
        assert client.get(reverse(f"web:{name}", args=[theirs.pk])).status_code == 404, name
    for name in ("listen-query-edit", "listen-query-delete", "listen-query-backfill", "listen-alert-create"):
        assert client.post(reverse(f"web:{name}", args=[theirs.pk]), {"name": "x"}).status_code == 404, name
    assert ListeningQuery.objects.filter(pk=theirs.pk, name="Ajena").exists()


def test_delete_asks_first_then_deletes(brand, org, analyst):
    saved = query(brand)
    posts(org, "vino")
    client = signed_in(analyst)
    confirm = client.get(reverse("web:listen-query-delete", args=[saved.pk])).content.decode()
    assert "its 1 match is forgotten" in confirm
    assert ListeningQuery.objects.exists()
    response = client.post(reverse("web:listen-query-delete", args=[saved.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("web:listen")
    assert not ListeningQuery.objects.exists()


def test_posts_need_a_csrf_token(brand, analyst):
    saved = query(brand)
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post(reverse("web:listen-query-delete", args=[saved.pk])).status_code == 403
    assert client.post(reverse("web:listen-query-check"), {"text": "vino"}).status_code == 403
    assert ListeningQuery.objects.exists()


# --- backtest and backfill ------------------------------------------------------------------------------


def test_a_backtest_shows_what_the_query_would_have_found(brand, org, analyst):
    posts(org, "vino tinto", "vino blanco", "cerveza", hours_ago=30)
    response = signed_in(analyst).post(
        reverse("web:listen-query-new"),
        {"name": "Vino", "group": "brand", "text": "vino", "days": "7", "action": "backtest"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Backtest over the last 7 days" in body
    assert "2 of 3 stored posts match." in body
    assert 'id="backtest-chart-title"' in body and "<desc" in body
    assert "vino blanco" in body
    assert "Save the query to add these matches to it." in body
    assert not ListeningQuery.objects.exists()  # a backtest saves nothing


def test_a_backtest_of_a_broken_query_says_to_fix_it(brand, analyst):
    response = signed_in(analyst).post(
        reverse("web:listen-query-new"), {"name": "Vino", "text": "vino AND", "action": "backtest"}
    )
    assert response.status_code == 200  # htmx swaps only successful responses
    body = response.content.decode()
    assert "Fix the query first" in body
    assert "data-query-error" in body


def test_backfill_adds_history_to_a_saved_query(brand, org, analyst):
    posts(org, "vino tinto", "cerveza", hours_ago=48)
    saved = query(brand, "Vino", "vino")
    assert not QueryMatch.objects.exists()
    client = signed_in(analyst)
    page = client.post(
        reverse("web:listen-query-edit", args=[saved.pk]),
        {
            "name": "Vino",
            "group": "brand",
            "text": "vino",
            "version": saved.version,
            "days": "7",
            "action": "backtest",
        },
    ).content.decode()
    assert reverse("web:listen-query-backfill", args=[saved.pk]) in page
    response = client.post(reverse("web:listen-query-backfill", args=[saved.pk]), {"days": "7"})
    assert response.status_code == 302
    assert list(QueryMatch.objects.values_list("query_id", "backfilled")) == [(saved.pk, True)]
    assert "1 mention from the last 7 days added" in client.get(response["Location"]).content.decode()


def test_backfill_is_offered_only_for_the_saved_text(brand, org, analyst):
    posts(org, "vino tinto", hours_ago=2)
    saved = query(brand, "Vino", "vino")
    page = (
        signed_in(analyst)
        .post(
            reverse("web:listen-query-edit", args=[saved.pk]),
            {"name": "Vino", "text": "tinto", "version": saved.version, "action": "backtest"},
        )
        .content.decode()
    )
    assert reverse("web:listen-query-backfill", args=[saved.pk]) not in page
    assert "Save the query to add these matches" in page


# --- the query's page -------------------------------------------------------------------------------


def test_the_query_page_shows_volume_sentiment_authors_terms_and_mentions(brand, org, analyst):
    saved = query(brand, "Vino", "vino")
    posts(
        org,
        "Me encanta este vino, gracias",
        "El vino llegó roto, fatal",
        HOSTILE + " vino",
        author_handle="juan.bsky.social",
        author_followers=1234,
        url="javascript:alert(1)",
    )
    posts(
        org,
        "vino con cata en Sevilla",
        "cata de vino",
        "vino y cata",
        hours_ago=3,
        url="https://example.com/p",
    )
    body = signed_in(analyst).get(reverse("web:listen-query", args=[saved.pk])).content.decode()
    assert "Mentions per day" in body
    assert 'role="img" aria-labelledby="volume-chart-title volume-chart-desc"' in body
    assert "6 mentions in all" in body
    assert 'class="sentiment-legend"' in body and "Negative" in body and "Positive" in body
    assert "juan.bsky.social" in body and "1234" in body
    assert '<th scope="row" dir="auto">cata</th>' in body  # rising: 3 now, 0 before
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert 'href="javascript:' not in body
    assert 'href="https://example.com/p" rel="noopener noreferrer nofollow"' in body
    assert body.count('class="mention"') == 6


def test_the_query_page_by_the_hour(brand, org, analyst):
    saved = query(brand)
    posts(org, "vino", hours_ago=2)
    body = (
        signed_in(analyst)
        .get(reverse("web:listen-query", args=[saved.pk]), {"period": "24h"})
        .content.decode()
    )
    assert "Mentions per hour" in body
    assert "at most 1 in one hour" in body


def test_mentions_are_paginated(brand, org, analyst):
    saved = query(brand)
    posts(org, *[f"vino {n}" for n in range(30)])
    client = signed_in(analyst)
    first = client.get(reverse("web:listen-query", args=[saved.pk])).content.decode()
    assert first.count('class="mention"') == 25
    assert "Page 1 of 2" in first
    second = client.get(reverse("web:listen-query", args=[saved.pk]), {"page": "2"}).content.decode()
    assert second.count('class="mention"') == 5
    assert client.get(reverse("web:listen-query", args=[saved.pk]), {"page": "x' OR 1"}).status_code == 200


# --- CSV -------------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_mentions_csv_is_streamed_and_guarded_against_formulas(brand, org, analyst):
    saved = query(brand)
    posts(org, '=HYPERLINK("http://evil") vino', author_handle="+cmd|' /C calc'!A0")
    posts(org, "@SUM(1) vino", hours_ago=2, author_name="-2+3")
    posts(org, 'vino, "con" comillas\ny saltos', hours_ago=3)
    response = signed_in(analyst).get(reverse("web:listen-mentions-csv", args=[saved.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f"listening-{saved.pk}-mentions-7d.csv" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][0] == "Published" and rows[0][-1] == "Text"
    cells = [value for row in rows[1:] for value in row]
    assert '\'=HYPERLINK("http://evil") vino' in cells
    assert "'+cmd|' /C calc'!A0" in cells
    assert "'@SUM(1) vino" in cells
    assert "'-2+3" in cells
    assert 'vino, "con" comillas\ny saltos' in cells
    assert not any(value.startswith(("=", "+", "-", "@")) for value in cells)


def test_the_volume_csv_has_one_row_a_day(brand, org, analyst):
    saved = query(brand)
    posts(org, "vino", "vino tinto")
    rows = read_csv(
        signed_in(analyst).get(reverse("web:listen-volume-csv", args=[saved.pk]), {"period": "30d"})
    )
    assert rows[0] == ["Day", "Mentions"]
    assert len(rows) == 31
    assert sum(int(count) for _, count in rows[1:]) == 2


def test_a_viewer_may_download(brand, viewer):
    saved = query(brand)
    assert signed_in(viewer).get(reverse("web:listen-mentions-csv", args=[saved.pk])).status_code == 200


# --- alerts ------------------------------------------------------------------------------------------


def test_alerts_are_added_listed_and_deleted(brand, org, analyst):
    saved = query(brand)
    client = signed_in(analyst)
    response = client.post(
        reverse("web:listen-alert-create", args=[saved.pk]),
        {
            "kind": "negative_share",
            "threshold": "40",
            "window_minutes": "120",
            "minimum_mentions": "5",
            "recipients": [analyst.pk],
        },
    )
    assert response.status_code == 302
    alert = QueryAlert.objects.get()
    assert (alert.kind, alert.threshold, alert.window_minutes, list(alert.recipients.all())) == (
        "negative_share",
        40,
        120,
        [analyst],
    )
    AlertEvent.objects.create(alert=alert, mentions=12, negative=6, value=50.0)
    page = client.get(reverse("web:listen-query", args=[saved.pk])).content.decode()
    assert "Negative share above 40 %" in page
    assert "analista@example.com" in page
    assert "No alert has fired yet." not in page
    assert client.post(reverse("web:listen-alert-delete", args=[alert.pk])).status_code == 302
    assert not QueryAlert.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"kind": "volume", "threshold": "abc", "window_minutes": "60", "minimum_mentions": "1"},
            "alert-threshold-error",
            "whole number",
        ),
        (
            {"kind": "negative_share", "threshold": "150", "window_minutes": "60", "minimum_mentions": "1"},
            "alert-threshold-error",
            "percentage",
        ),
        (
            {"kind": "volume", "threshold": "5", "window_minutes": "1", "minimum_mentions": "1"},
            "alert-window-error",
            "greater than or equal to 5",
        ),
        (
            {"kind": "nope", "threshold": "5", "window_minutes": "60", "minimum_mentions": "1"},
            "alert-kind-error",
            "Choose a kind",
        ),
        (
            {"kind": "volume", "threshold": "5", "window_minutes": "60", "minimum_mentions": "1"},
            "alert-recipients-error",
            "Choose who is told",
        ),
    ],
)
def test_alert_refusals_are_shown_on_their_field(brand, analyst, values, field, message):
    saved = query(brand)
    response = signed_in(analyst).post(reverse("web:listen-alert-create", args=[saved.pk]), values)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{field}"' in body
    assert message in body
    assert not QueryAlert.objects.exists()


def test_alerts_go_only_to_people_in_the_organization(brand, analyst):
    saved = query(brand)
    stranger = make_member(make_org("Otra"), Role.ANALYST)
    response = signed_in(analyst).post(
        reverse("web:listen-alert-create", args=[saved.pk]),
        {
            "kind": "volume",
            "threshold": "5",
            "window_minutes": "60",
            "minimum_mentions": "1",
            "recipients": [stranger.pk],
        },
    )
    assert response.status_code == 400
    assert not QueryAlert.objects.exists()


def test_alerts_of_another_organization_and_viewers(brand, analyst, viewer):
    theirs = other_query()
    someone = make_member(theirs.organization, Role.ANALYST)
    their_alert = create_alert(Actor.system(), theirs, kind="volume", threshold=5, recipients=[someone])
    assert (
        signed_in(analyst).post(reverse("web:listen-alert-delete", args=[their_alert.pk])).status_code == 404
    )
    mine = create_alert(Actor.system(), query(brand), kind="volume", threshold=5, recipients=[analyst])
    assert signed_in(viewer).post(reverse("web:listen-alert-delete", args=[mine.pk])).status_code == 403
    assert QueryAlert.objects.count() == 2
