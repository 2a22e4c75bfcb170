"""Settings → Moderation and the buttons next to a message: permissions, tenancy, escaping, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tertulia.core.actions.context import Actor
from tertulia.core.models import Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.moderation.actions.manual import moderate
from tertulia.moderation.choices import ActionStatus
from tertulia.moderation.models import ModerationAction, ModerationRule
from tertulia.web.tests.helpers import signed_in

from .conftest import INSULT, SPAM, World, ingest_items, rule

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def _form(**overrides) -> dict:
    data = {"name": "Spam", "intents": ["spam"], "network_action": "hide", "tags": "spam, basura"}
    data.update(overrides)
    return data


def test_who_sees_and_who_changes(world: World) -> None:
    url = reverse("web:moderation")
    analyst = make_member(world.org, Role.ANALYST)
    assert signed_in(analyst).get(url).status_code == 403
    page = signed_in(world.cm).get(url)
    assert page.status_code == 200 and 'id="new-rule-form"' not in page.content.decode()
    assert signed_in(world.cm).post(reverse("web:moderation-rule-create"), _form()).status_code == 403
    assert 'id="new-rule-form"' in signed_in(world.manager).get(url).content.decode()
    assert reverse("web:moderation") in signed_in(world.cm).get(reverse("web:settings")).content.decode()


def test_a_manager_creates_edits_switches_and_deletes_a_rule(world: World) -> None:
    client = signed_in(world.manager)
    response = client.post(
        reverse("web:moderation-rule-create"), _form(text_matches="sorteo\n  gana dinero ")
    )
    assert response.status_code == 302
    created = ModerationRule.objects.get(brand=world.brand)
    assert not created.enabled
    assert created.conditions == {"intents": ["spam"], "text_matches": ["sorteo", "gana dinero"]}
    assert created.actions == [
        {"type": "hide"},
        {"type": "tag", "tag": "spam"},
        {"type": "tag", "tag": "basura"},
    ]
    edit = client.get(reverse("web:moderation-rule", args=[created.pk])).content.decode()
    assert "gana dinero" in edit
    response = client.post(
        reverse("web:moderation-rule", args=[created.pk]),
        _form(name="Spam fuera", network_action="block", escalate="on", influential="no", enabled="on"),
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.enabled and created.name == "Spam fuera"
    assert created.conditions == {"intents": ["spam"], "influential": False}
    assert [a["type"] for a in created.actions] == ["block", "tag", "tag", "escalate"]
    client.post(reverse("web:moderation-rule-toggle", args=[created.pk]))
    created.refresh_from_db()
    assert not created.enabled
    client.post(reverse("web:moderation-rule-delete", args=[created.pk]))
    assert not ModerationRule.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"intents": []}, "at least one condition"),
        ({"network_action": "", "tags": ""}, "Actions must be a non-empty list"),
        ({"min_followers": "10", "max_followers": "5"}, "min_followers cannot be more than max_followers"),
        ({"languages": "castellano"}, "is not a language code"),
        ({"min_followers": "-4"}, "greater than or equal to 0"),
        ({"intents": ["rudeness"]}, "Select a valid choice"),
        ({"network_action": "nuke"}, "Select a valid choice"),
        ({"tags": "\u200b"}, "visible character"),
        ({"channels": ["999999"]}, "Select a valid choice"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error(world: World, overrides, error) -> None:
    response = signed_in(world.manager).post(reverse("web:moderation-rule-create"), _form(**overrides))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ModerationRule.objects.exists()


def test_hostile_text_is_always_escaped(world: World, item) -> None:
    rule(world, {"text_matches": ["script"]}, [{"type": "tag", "tag": "x"}], name=HOSTILE)
    [message] = ingest_items(world.channel, [item(f"{SPAM} {HOSTILE}")])
    moderate(Actor(user=world.cm, via="web"), message, "delete", HOSTILE)
    for path in (reverse("web:moderation"),):
        page = signed_in(world.manager).get(path).content.decode()
        assert HOSTILE not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    created = ModerationRule.objects.get()
    report = signed_in(world.manager).post(reverse("web:moderation-rule-dry-run", args=[created.pk]), **HTMX)
    assert report.status_code == 200
    text = report.content.decode()
    assert HOSTILE not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "1 of 1 message would have matched" in text


def test_another_organizations_things_are_not_found(world: World, item) -> None:
    other_org = make_org("Rival")
    other_brand = make_brand(other_org, "Rival")
    theirs = ModerationRule.objects.create(
        organization=other_org,
        brand=other_brand,
        name="suya",
        conditions={"intents": ["spam"]},
        actions=[{"type": "hide"}],
    )
    [message] = ingest_items(world.channel, [item(INSULT, followers=9000)])
    request = moderate(Actor(user=world.cm, via="web"), message, "block", "insultos")
    client = signed_in(other_org.memberships.get(role=Role.OWNER).user)
    for name, args in (
        ("web:moderation-rule", [theirs.pk]),
        ("web:moderation-rule-toggle", [theirs.pk]),
        ("web:moderation-rule-delete", [theirs.pk]),
        ("web:moderation-rule-dry-run", [theirs.pk]),
    ):
        assert signed_in(world.owner).post(reverse(name, args=args)).status_code == 404, name
    assert client.post(reverse("web:moderation-approve", args=[request.pk])).status_code == 404
    assert client.post(reverse("web:moderation-reject", args=[request.pk])).status_code == 404
    assert (
        client.post(reverse("web:message-moderate", args=[message.pk]), {"action": "hide"}).status_code == 404
    )
    # A channel one does not operate is not found either.
    response = signed_in(world.outsider).post(
        reverse("web:message-moderate", args=[message.pk]), {"action": "hide"}
    )
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == ActionStatus.AWAITING_APPROVAL
    theirs.refresh_from_db()  # still there


def test_the_buttons_moderate_with_htmx_and_without(world: World, item) -> None:
    [spam, insult] = ingest_items(
        world.channel, [item(SPAM, author="a"), item(INSULT, author="b", followers=9000)]
    )
    client = signed_in(world.cm)
    url = reverse("web:message-moderate", args=[spam.pk])
    response = client.post(url, {"action": "hide", "reason": "spam"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="moderation-{spam.pk}"' in html and "Queued" in html
    refused = client.post(url, {"action": "hide"}, **HTMX).content.decode()
    assert "already asked for" in refused
    response = client.post(
        reverse("web:message-moderate", args=[insult.pk]),
        {"action": "block", "reason": "insulta", "next": "/inbox/"},
    )
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    awaiting = ModerationAction.objects.get(message=insult)
    assert awaiting.status == ActionStatus.AWAITING_APPROVAL
    evil = client.post(
        reverse("web:message-moderate", args=[insult.pk]),
        {"action": "delete", "reason": "x", "next": "https://evil.example/"},
    )
    assert evil["Location"] == reverse("web:moderation")
    # The approval queue: the requester may only withdraw; an approver approves.
    page = client.get(reverse("web:moderation")).content.decode()
    assert "someone else must approve" in page
    assert client.post(reverse("web:moderation-approve", args=[awaiting.pk])).status_code == 403
    manager = signed_in(world.manager)
    assert manager.post(reverse("web:moderation-approve", args=[awaiting.pk])).status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.status == ActionStatus.PENDING and awaiting.decided_by == world.manager


def test_the_buttons_partial_renders_for_a_message(world: World, item) -> None:
    [message] = ingest_items(world.channel, [item(HOSTILE)])
    request = RequestFactory().get("/inbox/")
    request.user = world.cm
    request.session = {}  # type: ignore[assignment]  # what the tenant context processor reads
    html = render_to_string(
        "web/partials/moderation_buttons.html",
        {"message": message, "conversation": message.conversation, "perms": {"moderate": True}},
        request=request,
    )
    assert reverse("web:message-moderate", args=[message.pk]) in html
    assert 'value="hide"' in html and 'value="block"' in html
    assert HOSTILE not in html
    message.is_hidden = True
    html = render_to_string(
        "web/partials/moderation_buttons.html",
        {"message": message, "perms": {"moderate": False}},
        request=request,
    )
    assert "Hidden" in html and 'value="unhide"' not in html
