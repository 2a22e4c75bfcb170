"""The guard's pages: held for review, the channel's "compromised account" button, the incident page,
the settings; permissions, tenant boundaries, escaping of hostile text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tertulia.core.models import Membership, Role
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.guard.actions.incidents import report_compromised
from tertulia.guard.models import GuardHold, GuardSettings, HoldState, Incident, IncidentState
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.models import ChannelPause
from tertulia.web.tests.helpers import signed_in

from .conftest import PostMaker, Team, actor

HOSTILE = '<script>alert("x")</script> Crypto giveaway! Send 1 BTC get 2 back \u202e https://evil.example.xyz'


@pytest.fixture
def held(team: Team, make_post: PostMaker) -> GuardHold:
    post = make_post(HOSTILE)
    schedule(actor(team.author), post)
    return GuardHold.objects.get(post=post)


def test_the_queue_shows_what_is_held_escaped_with_release_for_a_second_person(team: Team, held: GuardHold):
    body = signed_in(team.colleague).get(reverse("web:guard-holds")).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert reverse("web:guard-hold-release", args=[held.pk]) in body
    assert "Scam vocabulary" in body
    mine = signed_in(team.author).get(reverse("web:guard-holds")).content.decode()
    assert reverse("web:guard-hold-release", args=[held.pk]) not in mine
    assert "a second person must release it" in mine
    assert reverse("web:guard-hold-reject", args=[held.pk]) in mine  # withdraw


def test_releasing_through_the_page(team: Team, held: GuardHold):
    client = signed_in(team.author)
    client.post(reverse("web:guard-hold-release", args=[held.pk]), {"note": "mío"})
    assert GuardHold.objects.get(pk=held.pk).state == HoldState.PENDING
    response = signed_in(team.colleague).post(
        reverse("web:guard-hold-release", args=[held.pk]), {"note": "ok"}
    )
    assert response.status_code == 302
    assert GuardHold.objects.get(pk=held.pk).state == HoldState.RELEASED


def test_the_post_page_says_it_is_held(team: Team, held: GuardHold):
    body = signed_in(team.author).get(reverse("web:post-detail", args=[held.post_id])).content.decode()
    assert 'id="guard-hold-banner"' in body and reverse("web:guard-hold", args=[held.pk]) in body


def test_holds_of_other_organizations_and_channels_are_not_found(team: Team, held: GuardHold):
    other = make_org("Rival SA")
    rival = Membership.objects.get(organization=other, role=Role.OWNER).user
    for name in ("web:guard-hold",):
        assert signed_in(rival).get(reverse(name, args=[held.pk])).status_code == 404
    for name in ("web:guard-hold-release", "web:guard-hold-reject"):
        assert signed_in(rival).post(reverse(name, args=[held.pk])).status_code == 404
        assert signed_in(team.outsider).post(reverse(name, args=[held.pk])).status_code == 404
    assert signed_in(team.outsider).get(reverse("web:guard-hold", args=[held.pk])).status_code == 404
    assert GuardHold.objects.get(pk=held.pk).state == HoldState.PENDING


def test_the_channels_page_has_the_button_and_the_confirmation_acts(team: Team):
    owner = signed_in(team.owner)
    path = reverse("web:channel-compromised", args=[team.channel.pk])
    assert path in owner.get(reverse("web:channels")).content.decode()
    assert "Report compromised" in owner.get(path).content.decode()
    assert not ChannelPause.objects.exists()  # a GET does nothing
    response = owner.post(path, {"report": "<img src=x onerror=alert(1)>", "suspected_since": ""})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:guard-incident", args=[incident.pk]
    )
    page = owner.get(response["Location"]).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert 'id="incident-checklist"' in page and "Mark reconnected" in page


def test_only_channel_managers_reach_the_button(team: Team):
    path = reverse("web:channel-compromised", args=[team.channel.pk])
    assert signed_in(team.author).get(path).status_code == 403
    assert signed_in(team.author).post(path, {}).status_code == 403
    other = make_org("Rival SA")
    rival = Membership.objects.get(organization=other, role=Role.OWNER).user
    assert signed_in(rival).post(path, {}).status_code == 404
    assert not Incident.objects.exists()


def test_the_incident_page_ticks_steps_and_closes(team: Team):
    incident = report_compromised(actor(team.owner), team.channel)
    cm = signed_in(team.author)
    cm.post(
        reverse("web:guard-incident-step", args=[incident.pk, "contact_network"]), {"done": "1", "note": "n"}
    )
    step = incident.steps.get(key="contact_network")
    assert step.done_by == team.author
    cm.post(reverse("web:guard-incident-note", args=[incident.pk]), {"text": "<b>nota</b>"})
    page = cm.get(reverse("web:guard-incident", args=[incident.pk])).content.decode()
    assert "&lt;b&gt;nota&lt;/b&gt;" in page
    # Closing needs the explicit choice.
    owner = signed_in(team.owner)
    owner.post(reverse("web:guard-incident-close", args=[incident.pk]), {"summary": "Hecho"})
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.OPEN
    owner.post(reverse("web:guard-incident-reconnected", args=[incident.pk]))
    owner.post(
        reverse("web:guard-incident-close", args=[incident.pk]), {"summary": "Hecho", "publishing": "resume"}
    )
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.CLOSED
    assert not ChannelPause.objects.filter(ended_at__isnull=True).exists()


def test_incident_pages_are_not_found_outside(team: Team):
    incident = report_compromised(actor(team.owner), team.channel)
    other = make_org("Rival SA")
    rival = Membership.objects.get(organization=other, role=Role.OWNER).user
    assert signed_in(rival).get(reverse("web:guard-incident", args=[incident.pk])).status_code == 404
    assert signed_in(team.outsider).get(reverse("web:guard-incident", args=[incident.pk])).status_code == 404
    closing = signed_in(team.contributor).post(reverse("web:guard-incident-close", args=[incident.pk]), {})
    assert closing.status_code == 403  # a contributor never manages channels
    # A brand manager limited to another brand of the same organization sees nothing of it.
    from tertulia.core.actions.organizations import add_member
    from tertulia.core.models import BrandAccess, User

    limited = User.objects.create_user(email="limitada@example.com")
    add_member(actor(None), team.org, limited, Role.BRAND_MANAGER)
    membership = Membership.objects.get(organization=team.org, user=limited)
    membership.all_brands = False
    membership.save()
    BrandAccess.objects.create(membership=membership, brand=make_brand(team.org, "Otra"))
    client = signed_in(limited)
    assert "@" + team.channel.handle not in client.get(reverse("web:guard-incidents")).content.decode()
    assert client.get(reverse("web:guard-incident", args=[incident.pk])).status_code == 404
    assert client.get(reverse("web:channel-compromised", args=[team.channel.pk])).status_code == 404


def test_the_settings_page(team: Team):
    owner = signed_in(team.owner)
    assert owner.get(reverse("web:guard-settings")).status_code == 200
    owner.post(
        reverse("web:guard-settings"),
        {"enabled": "on", "sensitivity": "low", "check_device": "on", "trusted_domains": "shop.example.com"},
    )
    config = GuardSettings.objects.get(organization=team.org)
    assert (
        config.sensitivity == "low"
        and not config.check_vocabulary
        and config.trusted() == ["shop.example.com"]
    )
    bad = owner.post(reverse("web:guard-settings"), {"sensitivity": "normal", "trusted_domains": "<script>"})
    assert bad.status_code == 200 and "is not a domain" in bad.content.decode()
    assert signed_in(team.author).get(reverse("web:guard-settings")).status_code == 403
