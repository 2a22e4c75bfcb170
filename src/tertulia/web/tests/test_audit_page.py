"""Settings → Audit trail: who may see it, the filters, pages, the CSV and the chain check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tertulia.core import audit_chain
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.audit_db import drop_triggers, install_triggers
from tertulia.core.models import AuditEntry, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\u200b\u202e😀 =1+2"


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def admin(org: Organization) -> User:
    return make_member(org, Role.ADMIN, email="admin@example.com")


def page(client: Client, **params: Any) -> str:
    response = client.get(reverse("web:audit"), params)
    assert response.status_code == 200
    return response.content.decode()


def rows(html: str) -> int:
    return html.count('<tr id="entry-')


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 200),
        (Role.ADMIN, 200),
        (Role.BRAND_MANAGER, 200),
        (Role.COMMUNITY_MANAGER, 403),
        (Role.ANALYST, 403),
        (Role.APPROVER, 403),
        (Role.CONTRIBUTOR, 403),
    ],
)
def test_only_roles_that_view_the_audit_trail_reach_the_page(org, role, status):
    client = signed_in(make_member(org, role))
    assert client.get(reverse("web:audit")).status_code == status
    assert client.get(reverse("web:audit-csv")).status_code == status
    assert client.post(reverse("web:audit-verify")).status_code == status
    assert ('id="audit-link"' in client.get(reverse("web:settings")).content.decode()) == (status == 200)


def test_a_member_limited_to_some_brands_does_not_see_it(org):
    from tertulia.core.models import BrandAccess, Membership

    manager = make_member(org, Role.BRAND_MANAGER)
    member = Membership.objects.get(organization=org, user=manager)
    member.all_brands = False
    member.save()
    BrandAccess.objects.create(membership=member, brand=make_brand(org))
    assert signed_in(manager).get(reverse("web:audit")).status_code == 403


def test_signed_out_people_are_sent_to_sign_in():
    response = Client().get(reverse("web:audit"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_only_this_organizations_entries_show(org, admin):
    other = make_org("Other")
    record(
        Actor.system("elsewhere"),
        other,
        "brand.update",
        None,
        {"name": ["a", "secret-other-org"]},
        "core.brand",
    )
    record(Actor.system("here"), org, "brand.update", None, {"name": ["a", "visible-here"]}, "core.brand")
    html = page(signed_in(admin))
    assert "visible-here" in html and "secret-other-org" not in html


def test_changes_show_readably_and_everything_is_escaped(org, admin):
    record(
        Actor(user=None, via="api", ip_address="10.1.2.3", label_override=HOSTILE),
        org,
        "brand.update",
        None,
        {"name": ["Old name", HOSTILE], "tags": [None, ["a", "b"]], "reason": "because"},
        "core.brand",
    )
    html = page(signed_in(admin))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<del>Old name</del> → <ins>&lt;script&gt;" in html
    assert '<dt>tags</dt><dd dir="auto">a, b</dd>' in html
    assert '<dt>reason</dt><dd dir="auto">because</dd>' in html
    assert "API" in html and "10.1.2.3" in html


def test_filters_by_person_area_action_object_date_and_via(org, admin):
    ana = make_member(org, Role.COMMUNITY_MANAGER, email="ana@example.com")
    web = Actor(user=ana, via="web")
    record(web, org, "post.approved", None, {}, "publishing.post")
    record(web, org, "moderation.hide", None, {}, "moderation.action")
    record(Actor.system("worker"), org, "publishing.paused", None, {}, "publishing.pause")
    record(Actor(user=admin, via="api"), org, "member.update", None, {"role": ["a", "b"]}, "core.membership")
    record(web, org, "post.scheduled", None, {}, "publishing.post")
    client = signed_in(admin)
    assert rows(page(client, person=ana.pk)) == 3
    assert rows(page(client, person="none")) >= 1
    assert "publishing.paused" in page(client, area="crisis") and rows(page(client, area="crisis")) == 1
    assert rows(page(client, area="moderation")) == 1
    assert rows(page(client, action="post.approved")) == 1
    assert rows(page(client, action="post.")) == 2
    assert rows(page(client, via="api")) == 1
    assert rows(page(client, object_type="publishing.post")) == 2
    assert rows(page(client, object="Acme")) >= 1  # the organization's creation
    today = timezone.localdate()
    assert rows(page(client, since=today.isoformat(), until=today.isoformat(), person=ana.pk)) == 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert rows(page(client, since=tomorrow)) == 0
    assert "No entries match these filters." in page(client, since=tomorrow)


@pytest.mark.parametrize(
    "params",
    [
        {"person": "1 OR 1=1"},
        {"person": "999999"},
        {"area": "<script>"},
        {"since": "yesterday", "until": "2026-13-45"},
        {"action": "x" * 500},
        {"page": "-1"},
        {"page": "99999"},
        {"object": "\x00" + HOSTILE},
        {"via": "carrier-pigeon"},
    ],
)
def test_bad_filters_are_explained_never_a_500(org, admin, params):
    response = signed_in(admin).get(reverse("web:audit"), params)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_pages_of_fifty_keep_the_filters(org, admin):
    for i in range(60):
        record(Actor(user=admin, via="web"), org, "test.step", None, {"i": [None, i]}, "test.thing")
    client = signed_in(admin)
    first = page(client, action="test.step")
    assert rows(first) == 50 and "Page 1 of 2" in first
    assert "?action=test.step&amp;page=2" in first
    second = page(client, action="test.step", page=2)
    assert rows(second) == 10


def test_the_csv_is_the_filtered_list_guarded_and_verifiable(org, admin):
    record(
        Actor(user=admin, via="web"),
        org,
        "brand.update",
        None,
        {"name": ["a", "=HYPERLINK(1)"]},
        "core.brand",
    )
    record(Actor.system("=cmd|' /C calc'!A0"), org, "brand.update", None, {}, "core.brand")
    record(Actor.system("other"), org, "post.approved", None, {}, "publishing.post")
    response = signed_in(admin).get(reverse("web:audit-csv"), {"action": "brand.update"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]  # typed as HttpResponseBase
    assert text.startswith("\ufeff" + ",".join(audit_chain.EXPORT_FIELDS))
    assert "'=cmd|" in text and "post.approved" not in text
    entries = audit_chain.read_export(text)
    assert len(entries) == 2
    reports = audit_chain.verify_export(entries, allow_gaps=True)
    assert all(r.ok for r in reports), [r.broken for r in reports]
    assert AuditEntry.objects.filter(organization=org, action="audit.exported", actor=admin).exists()


def test_the_chain_check_says_ok_or_where_it_broke(org, admin):
    for i in range(3):
        record(Actor.system(), org, "test.step", None, {"i": [None, i]}, "test.thing")
    client = signed_in(admin)
    ok = client.post(reverse("web:audit-verify"), HTTP_HX_REQUEST="true").content.decode()
    assert "The chain is whole." in ok
    target = AuditEntry.objects.get(organization=org, action="test.step", changes__i=[None, 1])
    drop_triggers()
    try:
        AuditEntry.objects.filter(pk=target.pk).update(actor_label="someone else")
    finally:
        install_triggers()
    broken = client.post(reverse("web:audit-verify"), HTTP_HX_REQUEST="true").content.decode()
    assert f"The chain is broken at entry #{target.sequence}." in broken
    assert target.hash in broken
    full = client.post(reverse("web:audit-verify")).content.decode()  # without htmx: the whole page
    assert "<h1>Audit trail</h1>" in full and "The chain is broken" in full
    assert client.get(reverse("web:audit-verify")).status_code == 405


def test_the_chain_check_needs_the_csrf_token(org, admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse("web:audit-verify")).status_code == 403


def test_changes_read_as_before_and_after_only_when_something_changed():
    from tertulia.web.views.audit import readable_changes

    assert readable_changes(
        {
            "role": ["analyst", "owner"],
            "removed": [[], []],
            "name": [None, "Acme"],
            "flag": [True, False],
            "why": "x",
        }
    ) == [
        {"field": "role", "old": "analyst", "new": "owner"},
        {"field": "removed", "value": "—"},
        {"field": "name", "value": "Acme"},
        {"field": "flag", "old": "yes", "new": "no"},
        {"field": "why", "value": "x"},
    ]
    assert readable_changes({"text": [None, "x" * 1000]})[0]["value"].endswith("…")
