"""The analytics dashboards: figures from the rollups, filters, CSV exports, permissions, hostile names."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tertulia.analytics.models import ChannelDay
from tertulia.analytics.rollup import local_day, roll_up
from tertulia.analytics.tests.factories import message, query_match, sent_post
from tertulia.core.actions.brands import add_objective
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, BrandAccess, Channel, Membership, Organization, Role, User
from tertulia.core.models.brand import Kpi
from tertulia.core.tests.factories import make_brand, make_member, make_org, objective_values
from tertulia.listening.models import ListeningQuery, QueryGroup
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
HOSTILE = '=HYPERLINK("http://x")<script>alert(1)</script>\u202e\u200b😀'
PAGES = ("analytics", "analytics-publishing", "analytics-inbox", "analytics-listening", "analytics-audience")


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def brand(org: Organization) -> Brand:
    return make_brand(org, "Café Sur")


@pytest.fixture
def channel(brand: Brand) -> Channel:
    return connect_channel(SYSTEM, brand, "sandbox", "@cafesur", "Café Sur")


@pytest.fixture
def analyst(org: Organization, brand: Brand) -> User:
    return make_member(org, Role.ANALYST)


def _history(brand: Brand, channel: Channel) -> None:
    now = timezone.now()
    for n in range(4):
        message(channel, now - timedelta(hours=n + 1), sentiment="negative" if n else "positive")
    sent_post(channel, now - timedelta(hours=2))
    sent_post(channel, now - timedelta(days=40))  # outside the last 30 days
    ours = ListeningQuery.objects.create(
        organization=brand.organization, brand=brand, name=HOSTILE, group=QueryGroup.BRAND, text="cafe"
    )
    rival = ListeningQuery.objects.create(
        organization=brand.organization, brand=brand, name="Rival", group=QueryGroup.COMPETITOR, text="rival"
    )
    query_match(ours, now - timedelta(hours=1), "positive")
    query_match(rival, now - timedelta(hours=1))
    query_match(rival, now - timedelta(hours=2))
    query_match(rival, now - timedelta(hours=3))
    today = local_day(brand, now)
    roll_up(brand, today - timedelta(days=45), today)
    ChannelDay.objects.filter(channel=channel, day=today).update(followers=1100)
    ChannelDay.objects.update_or_create(
        channel=channel,
        day=today - timedelta(days=10),
        defaults={"organization": brand.organization, "brand": brand, "followers": 1000},
    )


def test_every_dashboard_shows_the_rolled_up_figures(analyst: User, brand: Brand, channel: Channel) -> None:
    _history(brand, channel)
    client = signed_in(analyst)
    pages = {name: client.get(reverse(f"web:{name}")) for name in PAGES}
    assert all(page.status_code == 200 for page in pages.values())
    overview = pages["analytics"].content.decode()
    assert 'id="kpi-posts_published"' in overview
    publishing = pages["analytics-publishing"].content.decode()
    assert "Posts by engagement" in publishing and "Nuevo post" in publishing
    listening = pages["analytics-listening"].content.decode()
    assert "Share of voice: 25 %" in listening
    assert (
        "<script>alert(1)</script>" not in listening and "&lt;script&gt;alert(1)&lt;/script&gt;" in listening
    )
    audience = pages["analytics-audience"].content.decode()
    assert "1000" in audience and "1100" in audience and '<td dir="auto">10.0</td>' in audience


def test_kpis_compare_with_the_previous_period(analyst: User, brand: Brand, channel: Channel) -> None:
    _history(brand, channel)
    page = signed_in(analyst).get(reverse("web:analytics"), {"days": "7"}).content.decode()
    tile = page.split('id="kpi-posts_published"')[1].split("</li>")[0]
    assert ">1<" in tile  # one post this week
    assert "1 against 0" in tile


def test_objectives_show_progress_from_the_data(analyst: User, brand: Brand, channel: Channel) -> None:
    _history(brand, channel)
    today = local_day(brand, timezone.now())
    add_objective(
        SYSTEM,
        brand,
        **objective_values(
            title="Ganar voz", kpi=Kpi.SHARE_OF_VOICE, target="40", period_start=today, period_end=today
        ),
    )
    page = signed_in(analyst).get(reverse("web:analytics")).content.decode()
    row = page.split("Ganar voz")[1].split("</tr>")[0]
    assert "25" in row and "Missed" not in row and "Behind" in row


def test_the_channel_filter_keeps_to_the_brands_channels(
    analyst: User, brand: Brand, channel: Channel, org: Organization
) -> None:
    _history(brand, channel)
    elsewhere = connect_channel(SYSTEM, make_brand(make_org(), "Ajena"), "sandbox", "@ajena", "Ajena")
    message(elsewhere, timezone.now() - timedelta(hours=1))
    roll_up(elsewhere.brand, local_day(brand, timezone.now()), local_day(brand, timezone.now()))
    client = signed_in(analyst)
    rows = _csv(client.get(reverse("web:analytics-csv", args=["channels"]), {"channel": [str(elsewhere.pk)]}))
    assert rows[1:] == []  # another organization's channel is no filter at all: nothing of theirs shows
    rows = _csv(client.get(reverse("web:analytics-csv", args=["channels"]), {"channel": [str(channel.pk)]}))
    assert rows[1][0] == "'@cafesur" and rows[1][5] == "4"  # a leading @ is defused, as = + - are


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_table_exports_as_csv_with_formulas_defused(
    analyst: User, brand: Brand, channel: Channel
) -> None:
    _history(brand, channel)
    client = signed_in(analyst)
    for table in ("days", "channels", "people", "queries", "audience", "posts", "objectives"):
        rows = _csv(client.get(reverse("web:analytics-csv", args=[table]), {"days": "30"}))
        assert rows[0], table
    queries = _csv(client.get(reverse("web:analytics-csv", args=["queries"])))
    hostile = next(row for row in queries if "HYPERLINK" in row[0])
    assert not hostile[0].startswith("=")
    days = _csv(client.get(reverse("web:analytics-csv", args=["days"]), {"days": "7"}))
    assert len(days) == 1 + 7
    assert client.get(reverse("web:analytics-csv", args=["nonsense"])).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"days": "abc"},
        {"days": "9" * 40},
        {"from": "2026-13-45", "to": "x"},
        {"from": "2026-05-01", "to": "2026-04-01"},
        {"from": "2000-01-01", "to": "2026-01-01"},
        {"channel": ["abc", "9" * 40, "-1"]},
        {"channel": ["²", "٣"]},  # digits to str.isdigit, not to int()
        {"from": "0001-01-01", "to": "0001-01-03"},  # the period before would be before year 1
        {"from": "9999-12-01", "to": "9999-12-31"},
    ],
)
def test_bad_filters_never_break_a_page(analyst: User, brand: Brand, channel: Channel, params: dict) -> None:
    client = signed_in(analyst)
    for name in PAGES:
        assert client.get(reverse(f"web:{name}"), params).status_code == 200
    assert client.get(reverse("web:analytics-csv", args=["days"]), params).status_code == 200


def test_a_custom_period_is_used_and_a_bad_one_explained(
    analyst: User, brand: Brand, channel: Channel
) -> None:
    client = signed_in(analyst)
    page = client.get(reverse("web:analytics"), {"from": "2026-01-01", "to": "2026-01-31"}).content.decode()
    assert "Jan. 1, 2026" in page or "January 1, 2026" in page
    page = client.get(reverse("web:analytics"), {"from": "2026-05-01", "to": "2026-04-01"}).content.decode()
    assert "The period ends before it starts." in page


def test_people_outside_the_organization_or_the_brand_see_nothing(
    brand: Brand, channel: Channel, org: Organization
) -> None:
    _history(brand, channel)
    stranger = make_member(make_org("Otra"), Role.OWNER)
    page = signed_in(stranger).get(reverse("web:analytics-listening")).content.decode()
    assert "Share of voice: 25 %" not in page
    assert (
        signed_in(stranger).get(reverse("web:analytics-csv", args=["channels"])).status_code == 404
    )  # no brand
    other_brand = make_brand(org, "Otra marca")
    limited = make_member(org, Role.ANALYST)
    membership = Membership.objects.get(user=limited)
    membership.all_brands = False
    membership.save()
    BrandAccess.objects.create(membership=membership, brand=other_brand)
    client = signed_in(limited)
    page = client.get(reverse("web:analytics-listening")).content.decode()
    assert "Share of voice: 25 %" not in page
    response = client.get(reverse("web:analytics-csv", args=["channels"]))
    assert response.status_code == 404 or all("'@cafesur" not in row for row in _csv(response))


def test_the_pages_in_spanish(analyst: User, brand: Brand, channel: Channel) -> None:
    _history(brand, channel)
    client = signed_in(analyst)
    client.post(reverse("web:switch-language"), {"language": "es"})
    page = client.get(reverse("web:analytics-listening")).content.decode()
    assert "Cuota de voz" in page


def test_colleagues_figures_are_for_those_who_manage_people(
    analyst: User, brand: Brand, channel: Channel, org: Organization
) -> None:
    colleague = make_member(org, Role.COMMUNITY_MANAGER, display_name="Colega Ocupada")
    message(channel, timezone.now() - timedelta(hours=1), outbound=True, by=colleague)
    today = local_day(brand, timezone.now())
    roll_up(brand, today - timedelta(days=1), today)
    rows = _csv(signed_in(analyst).get(reverse("web:analytics-csv", args=["people"])))
    assert rows[1:] == []
    assert "Colega Ocupada" not in signed_in(analyst).get(reverse("web:analytics-inbox")).content.decode()
    manager = make_member(org, Role.BRAND_MANAGER)
    rows = _csv(signed_in(manager).get(reverse("web:analytics-csv", args=["people"])))
    assert [row[0] for row in rows[1:]] == ["Colega Ocupada"]
