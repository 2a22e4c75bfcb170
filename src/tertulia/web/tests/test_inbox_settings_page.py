"""The inbox settings page (/settings/inbox/) and the SLA report on the inbox dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tertulia.core.actions.brands import add_objective
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org, objective_values
from tertulia.inbox.actions.settings import save_saved_reply
from tertulia.inbox.actions.tags import tags_named
from tertulia.inbox.models import (
    Assignment,
    Conversation,
    InboxSettings,
    ResponseTarget,
    SavedReply,
    SlaPolicy,
    Tag,
)
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202e\u200b😀'
PAGE = reverse("web:inbox-settings")


@pytest.fixture
def org():
    return make_org("Acme")


@pytest.fixture
def brand(org):
    return make_brand(org, "Café Sur")


@pytest.fixture
def manager(org, brand):
    return make_member(org, Role.BRAND_MANAGER, display_name="Marta Manager")


@pytest.fixture
def analyst(org, brand):
    return make_member(org, Role.ANALYST)


def sla_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_response_minutes": "1440",
        "next_response_minutes": "1440",
        "critical_response_minutes": "30",
        "warn_before_minutes": "15",
        "intent_complaint": "60",
        "timezone": "Europe/Madrid",
        "hours_mon": "09:00-21:00",
        "hours_tue": "09:00-21:00",
        "hours_wed": "09:00-21:00",
        "hours_thu": "09:00-21:00",
        "hours_fri": "09:00-14:00, 16:00-21:00",
        "hours_sat": "09:00 \u2013 21:00",  # an en dash
        "hours_sun": "",
        "holidays": "2026-12-25, 2027-01-01",
    }
    data.update(overrides)
    return data


def test_the_settings_page_links_to_the_inbox_settings(manager) -> None:
    body = signed_in(manager).get(reverse("web:settings")).content.decode()
    assert f'href="{PAGE}"' in body


def test_a_manager_sees_every_part_of_the_page(manager) -> None:
    response = signed_in(manager).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    for part in (
        'id="sla-form"',
        'id="assignment-form"',
        'id="reply-form"',
        'id="tags"',
        'id="reply-variables"',
    ):
        assert part in body
    assert "{name}" in body and "Save SLA policy" in body
    assert 'aria-current="page"' in body  # the Settings section


def test_a_manager_saves_the_sla_policy_with_business_hours(manager, brand) -> None:
    response = signed_in(manager).post(reverse("web:inbox-settings-sla"), sla_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get(brand=brand)
    assert policy.intent_targets == {"complaint": 60}
    assert policy.business_hours["timezone"] == "Europe/Madrid"
    assert policy.business_hours["week"]["fri"] == [["09:00", "14:00"], ["16:00", "21:00"]]
    assert policy.business_hours["week"]["sat"] == [["09:00", "21:00"]]
    assert "sun" not in policy.business_hours["week"]
    assert policy.business_hours["holidays"] == ["2026-12-25", "2027-01-01"]
    assert AuditEntry.objects.filter(action="inbox.sla_policy", actor=manager).exists()
    # The page shows back what was saved.
    body = signed_in(manager).get(PAGE).content.decode()
    assert "09:00-14:00, 16:00-21:00" in body and "2026-12-25, 2027-01-01" in body
    # Around the clock.
    signed_in(manager).post(reverse("web:inbox-settings-sla"), sla_data(always_open="on", hours_mon="junk"))
    assert SlaPolicy.objects.get(brand=brand).business_hours == {}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hours_mon": "9-21"}, "Write opening hours as 09:00-14:00"),
        ({"hours_mon": "25:00-26:00"}, "Invalid time"),
        ({"hours_tue": "21:00-09:00"}, "must end after it starts"),
        ({"hours_wed": "09:00-14:00, 13:00-15:00"}, "overlap"),
        ({"hours_thu": "24:00-24:00"}, "24:00 can only end an interval"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"timezone": ""}, "time zone"),
        ({"holidays": "2026-02-30"}, "Invalid holiday"),
        ({"holidays": "mañana"}, "Invalid holiday"),
        (
            {f"hours_{d}": "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "Open at least one day a week",
        ),
        ({"first_response_minutes": "0"}, "greater than or equal to 1"),
        ({"intent_complaint": "-3"}, "greater than or equal to 1"),
        ({"warn_before_minutes": "lots"}, "whole number"),
        ({"hours_fri": HOSTILE}, "Write opening hours"),
    ],
)
def test_invalid_business_hours_get_a_clear_error_never_a_500(manager, brand, overrides, message) -> None:
    response = signed_in(manager).post(reverse("web:inbox-settings-sla"), sla_data(**overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body.replace("&#x27;", "'"), body[body.find("field-error") - 300 :][:1500]
    assert 'role="alert"' in body
    assert "<script>alert" not in body
    assert not SlaPolicy.objects.filter(brand=brand).exists()


def test_an_analyst_can_look_but_not_change(analyst, brand, org) -> None:
    reply = save_saved_reply(
        SYSTEM, brand, shortcut="gracias", language="es", title="Gracias", body="¡Gracias!"
    )
    tag = tags_named(org.pk, ["envío"])[0]
    client = signed_in(analyst)
    response = client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="read-only-note"' in body and "/gracias" in body and "envío" in body
    assert "Save SLA policy" not in body and 'id="reply-form"' not in body
    assert " disabled" in body
    posts = [
        (reverse("web:inbox-settings-sla"), sla_data()),
        (reverse("web:inbox-settings-assignment"), {"assignment": "balanced"}),
        (
            reverse("web:inbox-reply-create"),
            {"reply-shortcut": "x", "reply-language": "es", "reply-title": "x", "reply-body": "x"},
        ),
        (reverse("web:inbox-reply-update", args=[reply.pk]), {"reply-title": "hacked"}),
        (reverse("web:inbox-reply-del", args=[reply.pk]), {}),
        (reverse("web:inbox-tag-rename", args=[tag.pk]), {f"tag-{tag.pk}-name": "hacked"}),
        (reverse("web:inbox-tag-delete", args=[tag.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert not SlaPolicy.objects.filter(brand=brand).exists()
    assert not InboxSettings.objects.filter(brand=brand).exists()
    reply.refresh_from_db()
    tag.refresh_from_db()
    assert (reply.title, tag.name) == ("Gracias", "envío")


def test_another_organizations_ids_are_not_found(manager, brand) -> None:
    other_org = make_org("Rival")
    other_brand = make_brand(other_org, "Rival")
    theirs = save_saved_reply(SYSTEM, other_brand, shortcut="hola", language="es", title="Hola", body="Hola")
    their_tag = tags_named(other_org.pk, ["secreto"])[0]
    # Another brand of the same organization: its replies are edited with that brand chosen.
    sibling = save_saved_reply(
        SYSTEM, make_brand(brand.organization, "Hermana"), shortcut="a", language="es", title="a", body="a"
    )
    client = signed_in(manager)
    for reply in (theirs, sibling):
        assert client.get(PAGE, {"edit": reply.pk}).status_code == 404
        assert (
            client.post(reverse("web:inbox-reply-update", args=[reply.pk]), {"reply-title": "x"}).status_code
            == 404
        )
        assert client.post(reverse("web:inbox-reply-del", args=[reply.pk])).status_code == 404
    assert client.post(reverse("web:inbox-tag-rename", args=[their_tag.pk]), {}).status_code == 404
    assert client.post(reverse("web:inbox-tag-delete", args=[their_tag.pk])).status_code == 404
    assert "secreto" not in client.get(PAGE).content.decode()
    assert SavedReply.objects.filter(pk__in=[theirs.pk, sibling.pk]).count() == 2
    assert Tag.objects.filter(pk=their_tag.pk).exists()


def test_saved_replies_are_added_edited_and_deleted(manager, brand) -> None:
    client = signed_in(manager)
    data = {
        "reply-shortcut": "envio",
        "reply-language": "es",
        "reply-title": "Envíos",
        "reply-body": "Hola {name}",
    }
    assert client.post(reverse("web:inbox-reply-create"), data).status_code == 302
    reply = SavedReply.objects.get(brand=brand)
    twin = client.post(reverse("web:inbox-reply-create"), data)
    assert twin.status_code == 400 and "There is already a saved reply /envio in es" in twin.content.decode()
    typo = client.post(
        reverse("web:inbox-reply-create"), {**data, "reply-language": "en", "reply-body": "Hi {nmae}"}
    )
    assert typo.status_code == 400 and "Unknown variable {nmae}" in typo.content.decode()
    page = client.get(PAGE, {"edit": reply.pk}).content.decode()
    assert "Edit /envio (es)" in page and reverse("web:inbox-reply-update", args=[reply.pk]) in page
    edited = {**data, "reply-body": HOSTILE}
    assert client.post(reverse("web:inbox-reply-update", args=[reply.pk]), edited).status_code == 302
    reply.refresh_from_db()
    assert reply.body == HOSTILE
    body = client.get(PAGE).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert client.post(reverse("web:inbox-reply-del", args=[reply.pk])).status_code == 302
    assert not SavedReply.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="inbox.saved_reply", actor=manager).count() == 3


def test_tags_are_renamed_and_deleted(manager, org) -> None:
    tag, other = tags_named(org.pk, ["envio", "queja"])
    client = signed_in(manager)
    renamed = client.post(reverse("web:inbox-tag-rename", args=[tag.pk]), {f"tag-{tag.pk}-name": "Envíos"})
    assert renamed.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "envíos"
    taken = client.post(reverse("web:inbox-tag-rename", args=[tag.pk]), {f"tag-{tag.pk}-name": "QUEJA"})
    assert taken.status_code == 400 and "There is already a tag called" in taken.content.decode()
    hostile = client.post(
        reverse("web:inbox-tag-rename", args=[other.pk]), {f"tag-{other.pk}-name": HOSTILE[:45]}
    )
    assert hostile.status_code == 302
    assert "<script>alert" not in client.get(PAGE).content.decode()
    assert client.post(reverse("web:inbox-tag-delete", args=[tag.pk])).status_code == 302
    assert not Tag.objects.filter(pk=tag.pk).exists()


def test_assignment_and_escalation_person(manager, brand, org) -> None:
    stranger = make_member(make_org("Otra"))
    client = signed_in(manager)
    page = client.get(PAGE).content.decode()
    assert "Marta Manager" in page and stranger.email not in page
    ok = client.post(
        reverse("web:inbox-settings-assignment"), {"assignment": "round_robin", "escalate_to": manager.pk}
    )
    assert ok.status_code == 302
    settings = InboxSettings.objects.get(brand=brand)
    assert (settings.assignment, settings.escalate_to) == (Assignment.ROUND_ROBIN, manager)
    for bad in (
        {"assignment": "lottery"},
        {"assignment": "manual", "escalate_to": stranger.pk},
        {"escalate_to": "x"},
    ):
        assert client.post(reverse("web:inbox-settings-assignment"), bad).status_code == 400
    assert (
        client.post(
            reverse("web:inbox-settings-assignment"), {"assignment": "manual", "escalate_to": ""}
        ).status_code
        == 302
    )
    settings.refresh_from_db()
    assert (settings.assignment, settings.escalate_to) == (Assignment.MANUAL, None)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"first_response_minutes": "9" * 40},
        {"hours_mon": "x" * 10_000},
        {"holidays": "\x00"},
        {"timezone": "../../../etc/passwd"},
        {"timezone": "x" * 1000},
        {"always_open": "yes", "first_response_minutes": "1e9"},
    ],
)
def test_junk_never_causes_a_server_error(manager, data) -> None:
    response = signed_in(manager).post(reverse("web:inbox-settings-sla"), data)
    assert response.status_code == 400


def test_without_a_brand_the_page_says_so(org) -> None:
    owner = make_member(org, Role.OWNER)
    response = signed_in(owner).get(PAGE)
    assert response.status_code == 200
    assert "no brand yet" in response.content.decode()
    assert signed_in(owner).post(reverse("web:inbox-settings-sla"), sla_data()).status_code == 302


def test_analytics_shows_the_sla_report_for_the_chosen_period(manager, brand) -> None:
    channel = connect_channel(SYSTEM, brand, "sandbox", "@cafesur", "Café Sur")
    now = timezone.now()
    conversation = Conversation.objects.create(
        organization=brand.organization,
        brand=brand,
        channel=channel,
        key="k",
        kind="mention",
        last_message_at=now,
    )
    for days_ago, outcome in ((2, "met"), (3, "met"), (4, "met"), (20, "breached")):
        ResponseTarget.objects.create(
            conversation=conversation,
            brand=brand,
            stage="first",
            started_at=now - timedelta(days=days_ago),
            due_at=now - timedelta(days=days_ago) + timedelta(hours=1),
            ended_at=now - timedelta(days=days_ago) + timedelta(minutes=30),
            outcome=outcome,
        )
    add_objective(
        SYSTEM,
        brand,
        **objective_values(period_start=now.date(), period_end=(now + timedelta(days=30)).date()),
    )
    client = signed_in(manager)
    month = client.get(reverse("web:analytics-inbox")).content.decode()
    assert 'id="sla-report"' in month and "75 % answered on time" in month
    assert 'value="75.0"' in month  # the meter
    assert "Below target." in month  # the objective: at least 95 %
    assert "@cafesur" in month
    week = client.get(reverse("web:analytics-inbox"), {"days": "7"}).content.decode()
    assert "100 % answered on time" in week and "On track." in week
    assert 'href="?days=7#sla-report" aria-current="page"' in week
    for junk in ("15", "abc", "-1", "9" * 30):
        assert client.get(reverse("web:analytics-inbox"), {"days": junk}).status_code == 200


def test_analytics_in_spanish(manager, brand) -> None:
    client = signed_in(manager)
    client.post(reverse("web:switch-language"), {"language": "es"})
    assert client.get(reverse("web:analytics")).status_code == 200
    assert client.get(PAGE).status_code == 200
