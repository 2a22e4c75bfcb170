"""Team → Workload: who sees which rows, the CSV (hostile names defused), sorting and periods that
never fail, and nothing across organizations."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tertulia.analytics.models import PersonDay
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import Brand, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
FORMULA = '=HYPERLINK("http://evil.example","x")'
HTML = "<img src=x onerror=alert(1)> \u202eRTL\u202c ze\u200bro 🔥"


class Org:
    def __init__(self) -> None:
        self.owner = make_user("owner@example.com", display_name="Olga")
        self.org: Organization = make_org("Tertulia SA", owner=self.owner)
        self.brand: Brand = make_brand(self.org, "Marca")
        self.other: Brand = make_brand(self.org, "Otra")
        self.cm: User = make_member(
            self.org, Role.COMMUNITY_MANAGER, email="cm@example.com", display_name="Carmen"
        )
        self.cm2: User = make_member(
            self.org, Role.COMMUNITY_MANAGER, email="cm2@example.com", display_name=FORMULA
        )
        self.cm3: User = make_member(
            self.org, Role.COMMUNITY_MANAGER, email="cm3@example.com", display_name=HTML
        )
        self.limited: User = make_member(
            self.org, Role.COMMUNITY_MANAGER, email="lim@example.com", display_name="Lola"
        )
        set_brand_access(SYSTEM, self.member(self.limited), all_brands=False, brands=[self.other])
        self.manager: User = make_member(
            self.org, Role.BRAND_MANAGER, email="bm@example.com", display_name="Bruno"
        )
        set_brand_access(SYSTEM, self.member(self.manager), all_brands=False, brands=[self.brand])
        today = timezone.localdate()
        channels = {
            b.pk: connect_channel(SYSTEM, b, "sandbox", b.name.lower(), b.name)
            for b in (self.brand, self.other)
        }
        for user, replies in ((self.cm, 40), (self.cm2, 10), (self.cm3, 10), (self.limited, 10)):
            brand = self.other if user == self.limited else self.brand
            PersonDay.objects.create(
                organization=self.org,
                brand=brand,
                channel=channels[brand.pk],
                user=user,
                day=today - timedelta(days=1),
                replies=replies,
            )

    def member(self, user: User) -> Membership:
        return Membership.objects.get(user=user, organization=self.org)


@pytest.fixture
def o(db: None) -> Org:
    return Org()


URL = "/team/workload/"
CSV_URL = "/team/workload.csv"


def test_routes() -> None:
    assert reverse("web:workload") == URL
    assert reverse("web:workload-csv") == CSV_URL


def test_an_owner_sees_everybody_with_signals(o: Org) -> None:
    response = signed_in(o.owner).get(URL, {"days": "7"})
    assert response.status_code == 200
    text = response.content.decode()
    for email in (
        "cm@example.com",
        "cm2@example.com",
        "cm3@example.com",
        "lim@example.com",
        "bm@example.com",
    ):
        assert email in text
    # Carmen answers 40 a day against a median of 10: the pace signal, with its reason.
    row = text[text.index(f'id="person-{o.cm.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "signal-pace" in row and "40" in row
    assert "The team&#x27;s median pace: 10" in text or "median pace: 10" in text
    assert 'aria-current="page">Last 7 days' in text
    assert "Channels without a backup" in text


def test_a_community_manager_sees_only_themselves(o: Org) -> None:
    client = signed_in(o.cm2)
    text = client.get(URL).content.decode()
    assert "cm2@example.com" in text
    for email in (
        'cm@example.com"',
        "cm3@example.com",
        "lim@example.com",
        "bm@example.com",
        "owner@example.com",
    ):
        assert email not in text
    assert "Channels without a backup" not in text
    assert client.get(URL, {"person": o.cm.pk}).status_code == 404  # a colleague: not theirs to see
    assert client.get(URL, {"person": o.cm2.pk}).status_code == 200
    body = client.get(CSV_URL).getvalue().decode()
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert [row[1] for row in rows[1:]] == ["cm2@example.com"]


def test_a_brand_manager_sees_the_people_of_their_brands(o: Org) -> None:
    text = signed_in(o.manager).get(URL).content.decode()
    assert "cm@example.com" in text and "bm@example.com" in text
    assert "lim@example.com" not in text  # works only in the other brand
    assert signed_in(o.manager).get(URL, {"person": o.limited.pk}).status_code == 404


def test_nothing_across_organizations(o: Org) -> None:
    rival_org = make_org("Rival")
    rival = make_member(rival_org, Role.ADMIN, email="rival@example.com")
    client = signed_in(rival)
    text = client.get(URL).content.decode()
    assert "cm@example.com" not in text and "rival@example.com" in text
    assert client.get(URL, {"person": o.cm.pk}).status_code == 404
    assert client.get(CSV_URL, {"person": o.cm.pk}).status_code == 404
    assert signed_in(o.owner).get(URL, {"person": rival.pk}).status_code == 404


def test_who_may_not(o: Org) -> None:
    nobody = make_user("nobody@example.com")  # no organization
    assert signed_in(nobody).get(URL).status_code == 403
    assert signed_in(nobody).get(CSV_URL).status_code == 403
    Membership.objects.filter(user=o.cm).update(is_active=False)
    assert signed_in(o.cm).get(URL).status_code == 403
    assert signed_in(o.owner).post(URL).status_code == 405
    assert signed_in(o.owner).post(CSV_URL).status_code == 405
    anonymous = signed_in(o.owner)
    anonymous.logout()
    assert anonymous.get(URL).status_code == 302


def test_every_role_sees_its_own_row(o: Org) -> None:
    for role in (Role.ANALYST, Role.APPROVER, Role.CONTRIBUTOR):
        user = make_member(o.org, role, email=f"{role}@example.com")
        text = signed_in(user).get(URL).content.decode()
        assert f"{role}@example.com" in text and "cm@example.com" not in text


def test_the_csv_defuses_formulas_and_keeps_names(o: Org) -> None:
    response = signed_in(o.owner).get(CSV_URL, {"days": "30", "sort": "replies"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith(f'attachment; filename="workload-{o.org.pk}-')
    body = response.getvalue().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Name", "E-mail address", "Conversations", "Replies"]
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email["cm2@example.com"][0] == "'" + FORMULA
    assert by_email["cm3@example.com"][0] == HTML  # stored and exported verbatim: a CSV runs no HTML
    assert by_email["cm@example.com"][3] == "40"
    assert "team's median" in by_email["cm@example.com"][-1]
    assert rows[1][1] == "cm@example.com"  # sorted by replies, the most first
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@")), row


def test_hostile_names_are_shown_inert(o: Org) -> None:
    text = signed_in(o.owner).get(URL).content.decode()
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert 'dir="auto"' in text


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "bogus"},
        {"sort": "-"},
        {"sort": "--replies"},
        {"sort": "user__password"},
        {"sort": "<script>"},
        {"days": "abc"},
        {"days": "-1"},
        {"days": "0"},
        {"days": "9" * 500},
        {"days": "7", "sort": "-name"},
        {"sort": "pace"},
        {"sort": "on_call"},
        {"person": ""},
    ],
)
def test_bad_parameters_never_fail(o: Org, query: dict[str, str]) -> None:
    client = signed_in(o.owner)
    assert client.get(URL, query).status_code == 200
    assert client.get(CSV_URL, query).status_code == 200


def test_bad_person_is_not_found(o: Org) -> None:
    client = signed_in(o.owner)
    for bad in ("abc", "-1", "999999999", "1e3", "9" * 50):
        assert client.get(URL, {"person": bad}).status_code == 404


def test_sorting_by_a_column(o: Org) -> None:
    client = signed_in(o.owner)
    text = client.get(URL, {"sort": "replies"}).content.decode()
    assert text.index(f'id="person-{o.cm.pk}"') < text.index(f'id="person-{o.limited.pk}"')
    assert 'aria-sort="descending"><a href="?days=30&amp;sort=-replies"' in text
    flipped = client.get(URL, {"sort": "-replies"}).content.decode()
    assert flipped.index(f'id="person-{o.cm.pk}"') > flipped.index(f'id="person-{o.limited.pk}"')


def test_the_team_page_links_to_it(o: Org) -> None:
    text = signed_in(o.cm).get(reverse("web:team")).content.decode()
    assert f'href="{URL}"' in text


def test_the_period_ends_today_in_the_viewer_s_calendar(o: Org) -> None:
    # Saturday 00:45 in Madrid (the brands' zone) is still Friday in UTC.
    at = datetime(2025, 3, 8, 0, 45, tzinfo=ZoneInfo("Europe/Madrid"))
    client = signed_in(o.owner)
    with mock.patch("django.utils.timezone.now", return_value=at):
        response = client.get(reverse("web:workload") + "?days=7")
    assert response.status_code == 200
    assert (response.context["period"].first, response.context["period"].last) == (
        date(2025, 3, 2),
        date(2025, 3, 8),
    )
