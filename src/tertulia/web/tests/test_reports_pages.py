"""Report pages: who may see and change schedules; another organization's are not found."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tertulia.core import ratelimit
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.reports import actions
from tertulia.reports.models import ReportRun, ReportSchedule
from tertulia.web.tests.helpers import signed_in
from tertulia.web.views import reports as reports_views

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict:
    org = make_org("Agencia")
    brand = make_brand(org, "Marca <i>x</i>")
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    schedule = actions.create_schedule(
        Actor(user=owner, via="web"),
        brand,
        actions.ScheduleInput(title="<script>x</script>", external=[("a@example.com", "es")]),
    )
    other = make_org("Otra")
    other_owner = Membership.objects.get(organization=other, role=Role.OWNER).user
    foreign = actions.create_schedule(
        Actor(user=other_owner, via="web"),
        make_brand(other, "Ajena"),
        actions.ScheduleInput(title="ajeno", external=[("b@example.com", "en")]),
    )
    return {"org": org, "owner": owner, "schedule": schedule, "foreign": foreign, "brand": brand}


def test_list_and_preview_escape_and_work(world: dict) -> None:
    client = signed_in(world["owner"])
    page = client.get(reverse("web:reports")).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    preview = client.get(reverse("web:report-preview") + f"?schedule={world['schedule'].pk}")
    assert preview.status_code == 200 and "Marca &lt;i&gt;x&lt;/i&gt;" in preview.content.decode()
    assert "style-src 'unsafe-inline'" in preview["Content-Security-Policy"]
    pdf = client.get(reverse("web:report-preview") + "?format=pdf&days=7")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_viewer_may_see_but_not_manage(world: dict) -> None:
    analyst = signed_in(make_member(world["org"], Role.ANALYST))
    assert analyst.get(reverse("web:reports")).status_code == 200
    assert analyst.get(reverse("web:report-create")).status_code == 403
    assert analyst.post(reverse("web:report-delete", args=[world["schedule"].pk])).status_code == 403
    assert ReportSchedule.objects.filter(pk=world["schedule"].pk).exists()


def test_other_organization_is_not_found(world: dict) -> None:
    client = signed_in(world["owner"])
    foreign = world["foreign"].pk
    assert client.get(reverse("web:report-edit", args=[foreign])).status_code == 404
    assert client.post(reverse("web:report-delete", args=[foreign])).status_code == 404
    assert client.get(reverse("web:report-preview") + f"?schedule={foreign}").status_code == 404
    assert ReportSchedule.objects.filter(pk=foreign).exists()


def test_create_and_delete(world: dict) -> None:
    client = signed_in(world["owner"])
    response = client.post(
        reverse("web:report-create"),
        {
            "title": "Mensual",
            "frequency": "monthly",
            "weekday": "0",
            "day_of_month": "31",
            "hour": "9",
            "sections": ["inbox"],
            "external": "c@example.com en\nd@example.com",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    made = ReportSchedule.objects.get(title="Mensual")
    assert made.sections == ["inbox"] and len(made.external_recipients) == 2
    bad = client.post(
        reverse("web:report-create"),
        {
            "title": "x",
            "frequency": "weekly",
            "weekday": "0",
            "day_of_month": "1",
            "hour": "9",
            "sections": ["inbox"],
            "external": "not-an-address en",
        },
    )
    assert bad.status_code == 400 and not ReportSchedule.objects.filter(title="x").exists()
    assert client.post(reverse("web:report-delete", args=[made.pk])).status_code == 302
    assert not ReportSchedule.objects.filter(pk=made.pk).exists()


def test_send_now_is_asked_for_and_sent_by_a_worker(
    world: dict, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(world["owner"])
    url = reverse("web:report-send", args=[world["schedule"].pk])
    with django_capture_on_commit_callbacks(execute=False) as woken:
        response = client.post(url, follow=True)
    assert response.status_code == 200 and "being made and sent" in response.content.decode()
    schedule = ReportSchedule.objects.get(pk=world["schedule"].pk)
    assert schedule.send_now_at is not None and schedule.send_now_by == world["owner"]
    assert not ReportRun.objects.exists() and len(woken) == 1  # the request only asked
    assert "Sending…" in client.get(reverse("web:reports")).content.decode()
    again = client.post(url, follow=True).content.decode()
    assert "already on its way" in again
    woken[0]()  # the worker the request woke up
    run = ReportRun.objects.get()
    assert run.manual and run.sent_to == ["a@example.com"] and len(mail.outbox) == 1
    schedule.refresh_from_db()
    assert schedule.send_now_at is None and schedule.send_now_by is None


def test_previews_are_limited_per_person(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    monkeypatch.setattr(ratelimit, "current_minute", lambda: "202611221200")  # no minute ends mid-test
    monkeypatch.setattr(reports_views, "PREVIEWS_PER_MINUTE", 3)
    monkeypatch.setattr(reports_views, "PDFS_PER_MINUTE", 1)
    client = signed_in(world["owner"])
    url = reverse("web:report-preview")
    assert client.get(url + "?format=pdf").status_code == 200
    refused = client.get(url + "?format=pdf")
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "Too many previews" in refused.content.decode()
    assert client.get(url).status_code == 200  # the HTML allowance is separate and larger
    assert client.get(url).status_code == 429
    other = signed_in(make_member(world["org"], Role.ANALYST))
    assert other.get(url).status_code == 200  # counted per person
