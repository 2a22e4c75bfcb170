"""The access review: one row per member with what they can do where and when they last did
anything; its filters; its CSV (safe to open in a spreadsheet); who may see it; one organization."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from tertulia.api.actions import create_token
from tertulia.api.models import ApiToken
from tertulia.core.actions.audit import record
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import BrandAccess, Membership, Role
from tertulia.core.tests.factories import make_member, make_org
from tertulia.governance import access_review
from tertulia.governance.access_review import Filters
from tertulia.governance.tests.conftest import Team
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def people(team: Team) -> dict[str, object]:
    lucia = make_member(
        team.org, Role.COMMUNITY_MANAGER, email="lucia@example.com", display_name="Lucía Núñez"
    )
    limited = make_member(
        team.org, Role.ANALYST, email="analista@example.com", display_name='=HYPERLINK("http://x")'
    )
    gone = make_member(team.org, Role.CONTRIBUTOR, email="gone@example.com", display_name="@SUM(A1)")
    Membership.objects.filter(user=limited).update(all_brands=False)
    BrandAccess.objects.create(membership=Membership.objects.get(user=limited), brand=team.other_brand)
    Membership.objects.filter(user=gone).update(is_active=False)
    channel = connect_channel(SYSTEM, team.brand, "sandbox", "marca_rev", "Marca")
    set_channel_operators(SYSTEM, channel, [lucia])
    Authenticator.objects.create(user=lucia, type="totp", data={})
    Authenticator.objects.create(user=lucia, type="recovery_codes", data={})
    Authenticator.objects.create(user=limited, type="recovery_codes", data={})  # not a second factor alone
    token, _secret = create_token(SYSTEM, lucia, team.org, "informes", ["inbox:read"])
    used = timezone.now() - timedelta(days=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=used)
    revoked, _ = create_token(SYSTEM, lucia, team.org, "vieja", ["inbox:read"])
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    record(Actor(user=lucia, via="web"), team.org, "post.submitted", channel, {})
    lucia.last_login = timezone.now() - timedelta(hours=1)
    lucia.save(update_fields=["last_login"])
    return {"lucia": lucia, "limited": limited, "gone": gone, "channel": channel, "used": used}


def test_one_row_per_member_with_everything(team: Team, people: dict) -> None:
    rows = {row.member.user.email: row for row in access_review.rows(team.org)}
    assert set(rows) == {
        "duena@example.com",
        "admin@example.com",
        "lucia@example.com",
        "analista@example.com",
        "gone@example.com",
    }
    lucia = rows["lucia@example.com"]
    assert lucia.all_brands and [c.handle for c in lucia.channels] == ["marca_rev"]
    assert lucia.second_factors == ["totp"] and lucia.has_second_factor
    assert lucia.tokens == 1 and lucia.tokens_last_used == people["used"]
    assert lucia.last_activity is not None and lucia.last_login is not None
    limited = rows["analista@example.com"]
    assert not limited.all_brands and limited.brands == ["Otra"] and limited.has_second_factor is False
    assert rows["admin@example.com"].operates_every_channel
    assert not rows["gone@example.com"].member.is_active


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"duena@example.com", "admin@example.com", "lucia@example.com", "analista@example.com"}),
        (
            {"state": ""},
            {
                "duena@example.com",
                "admin@example.com",
                "lucia@example.com",
                "analista@example.com",
                "gone@example.com",
            },
        ),
        ({"state": "inactive"}, {"gone@example.com"}),
        ({"q": "lucia nunez"}, {"lucia@example.com"}),  # accents and case do not matter
        ({"q": "ANALISTA@"}, {"analista@example.com"}),
        ({"role": "analyst"}, {"analista@example.com"}),
        (
            {"role": "emperor"},
            {"duena@example.com", "admin@example.com", "lucia@example.com", "analista@example.com"},
        ),
        ({"two_factor": "on"}, {"lucia@example.com"}),
        ({"two_factor": "off"}, {"duena@example.com", "admin@example.com", "analista@example.com"}),
        ({"channel": "CHANNEL"}, {"duena@example.com", "admin@example.com", "lucia@example.com"}),
        (
            {"brand": "OTHER"},
            {"duena@example.com", "admin@example.com", "lucia@example.com", "analista@example.com"},
        ),
        ({"brand": "BRAND"}, {"duena@example.com", "admin@example.com", "lucia@example.com"}),
        ({"idle": "7", "q": "x" * 500}, set()),
        (
            {"brand": "99999999999999999999", "channel": "-1", "idle": "13"},
            {"duena@example.com", "admin@example.com", "lucia@example.com", "analista@example.com"},
        ),
    ],
)
def test_filters(team: Team, people: dict, query: dict[str, str], expected: set[str]) -> None:
    values = {
        "CHANNEL": str(people["channel"].pk),
        "OTHER": str(team.other_brand.pk),
        "BRAND": str(team.brand.pk),
    }
    query = {k: values.get(v, v) for k, v in query.items()}
    shown = access_review.apply(access_review.rows(team.org), Filters.from_query(query, team.org))
    assert {row.member.user.email for row in shown} == expected


def test_idle_means_no_action_here_for_that_long(team: Team, people: dict) -> None:
    rows = access_review.rows(team.org)
    for row in rows:  # the audit trail is append-only: pretend the analyst last acted 100 days ago
        if row.member.user == people["limited"]:
            row.last_activity = timezone.now() - timedelta(days=100)
    idle = access_review.apply(rows, Filters.from_query({"idle": "90"}, team.org))
    # Never acted here counts as idle; Lucía acted today.
    assert {row.member.user.email for row in idle} == {
        "analista@example.com",
        "duena@example.com",
        "admin@example.com",
    }


def test_the_page_and_the_csv(team: Team, people: dict) -> None:
    client = signed_in(team.admin)
    page = client.get(reverse("web:access-review"), {"state": ""})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Lucía Núñez" in text and "totp" in text and "marca_rev" in text
    assert reverse("web:member-offboard", args=[Membership.objects.get(user=people["lucia"]).pk]) in text
    assert "state=" in text  # the CSV link keeps the filters
    response = client.get(reverse("web:access-review-csv"), {"state": ""})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith('attachment; filename="access-review-')
    body = response.getvalue().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Name", "E-mail address", "Role"]
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {
        "duena@example.com",
        "admin@example.com",
        "lucia@example.com",
        "analista@example.com",
        "gone@example.com",
    }
    # Cells a spreadsheet would run as formulas are defused.
    assert by_email["analista@example.com"][0] == '\'=HYPERLINK("http://x")'
    assert by_email["gone@example.com"][0] == "'@SUM(A1)"
    assert by_email["lucia@example.com"][6] == "totp" and by_email["lucia@example.com"][9] == "1"
    assert by_email["analista@example.com"][4] == "Otra"
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@")), row
    filtered = client.get(reverse("web:access-review-csv"), {"role": "analyst"})
    assert len(list(csv.reader(io.StringIO(filtered.getvalue().decode().lstrip("\ufeff"))))) == 2


def test_hostile_names_are_shown_inert(team: Team) -> None:
    make_member(
        team.org, Role.ANALYST, display_name="<img src=x onerror=alert(1)> \u202eRTL\u202c ze\u200bro"
    )
    text = signed_in(team.admin).get(reverse("web:access-review")).content.decode()
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_who_may_see_it(team: Team, people: dict) -> None:
    manager = make_member(team.org, Role.BRAND_MANAGER)
    assert signed_in(manager).get(reverse("web:access-review")).status_code == 200
    for role in (Role.COMMUNITY_MANAGER, Role.ANALYST, Role.APPROVER, Role.CONTRIBUTOR):
        client = signed_in(make_member(team.org, role))
        assert client.get(reverse("web:access-review")).status_code == 403
        assert client.get(reverse("web:access-review-csv")).status_code == 403
    limited_manager = make_member(team.org, Role.BRAND_MANAGER)
    Membership.objects.filter(user=limited_manager).update(all_brands=False)
    BrandAccess.objects.create(membership=Membership.objects.get(user=limited_manager), brand=team.brand)
    assert signed_in(limited_manager).get(reverse("web:access-review-csv")).status_code == 403
    assert signed_in(make_member(team.org, Role.ADMIN)).post(reverse("web:access-review")).status_code == 405


def test_one_organization_only(team: Team, people: dict) -> None:
    other = make_org("Otra org")
    other_admin = make_member(other, Role.ADMIN, email="b-admin@example.com")
    body = signed_in(other_admin).get(reverse("web:access-review-csv"), {"state": ""}).getvalue().decode()
    assert "lucia@example.com" not in body and "b-admin@example.com" in body
    rows = {row.member.user.email for row in access_review.rows(team.org)}
    assert "b-admin@example.com" not in rows
