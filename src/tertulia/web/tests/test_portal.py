"""The contributor portal's pages: /contribute/ and the triage queue."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import Membership
from tertulia.inbox.models import Notification
from tertulia.portal.actions import contributions as actions
from tertulia.portal.actions.contributions import ContributionIn
from tertulia.portal.models import Contribution, ContributionStatus
from tertulia.portal.tests.conftest import SYSTEM, World, actor
from tertulia.portal.tests.conftest import world as world  # the fixture
from tertulia.publishing.models import Post
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)"><b>negrita</b> \u202eRTL\u202c 🧀'
CONTRIBUTE = reverse("web:contribute")
QUEUE = reverse("web:contribute-queue")


def idea_post(brand_id: int, **extra: str) -> dict[str, object]:
    return {
        "kind": "idea",
        "idea-brand": brand_id,
        "idea-text": "Una idea",
        **{f"idea-{k}": v for k, v in extra.items()},
    }


def test_every_role_sees_the_portal_and_contributors_land_there(world: World) -> None:
    for person in (world.contributor, world.analyst, world.cm, world.owner, world.limited):
        response = signed_in(person).get(CONTRIBUTE)
        assert response.status_code == 200, person
        assert 'id="idea-form"' in response.content.decode() and 'id="flag-form"' in response.content.decode()
    assert signed_in(world.contributor).get("/")["Location"] == CONTRIBUTE
    assert signed_in(world.cm).get("/")["Location"] == reverse("web:inbox")
    page = signed_in(world.contributor).get(CONTRIBUTE).content.decode()
    assert f'href="{CONTRIBUTE}" aria-current="page"' in page  # the nav item
    assert 'id="queue-link"' not in page
    assert 'id="queue-link"' in signed_in(world.cm).get(CONTRIBUTE).content.decode()


def test_a_contributor_proposes_an_idea_and_it_shows_escaped(world: World) -> None:
    client = signed_in(world.contributor)
    response = client.post(
        CONTRIBUTE, idea_post(world.north.pk, text=HOSTILE, link="https://example.com/a?b=1&c=2")
    )
    made = Contribution.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#contribution-{made.pk}")
    assert made.text == HOSTILE and made.brand == world.north
    page = client.get(CONTRIBUTE).content.decode()
    assert "<img src=x" not in page and "<b>negrita</b>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;b&gt;negrita&lt;/b&gt;" in page
    assert 'href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow"' in page
    queue = signed_in(world.cm).get(QUEUE).content.decode()
    assert "&lt;b&gt;negrita&lt;/b&gt;" in queue and "<b>negrita</b>" not in queue


def test_a_javascript_link_is_refused_with_a_message(world: World) -> None:
    response = signed_in(world.contributor).post(
        CONTRIBUTE,
        {
            "kind": "flag",
            "flag-brand": world.north.pk,
            "flag-link": "javascript:alert(1)",
            "flag-text": "x",
            "flag-urgency": "urgent",
        },
    )
    assert response.status_code == 400
    assert "starting with http:// or https://" in response.content.decode()
    assert 'id="flag-errors"' in response.content.decode()
    assert not Contribution.objects.exists()


def test_the_rate_limit_message(world: World) -> None:
    client = signed_in(world.contributor)
    for n in range(actions.DAILY_LIMIT):
        actions.propose(actor(world.contributor), world.north, ContributionIn(kind="idea", text=f"idea {n}"))
    response = client.post(CONTRIBUTE, idea_post(world.north.pk))
    assert response.status_code == 400
    assert "Try again tomorrow" in response.content.decode()
    assert Contribution.objects.count() == actions.DAILY_LIMIT


def test_another_brand_or_organization_is_not_offered(world: World) -> None:
    for brand in (world.north, world.other_brand):
        response = signed_in(world.limited).post(CONTRIBUTE, idea_post(brand.pk))
        assert response.status_code == 400
    assert not Contribution.objects.exists()


def test_an_image_goes_to_the_media_library_and_into_the_draft(world: World) -> None:
    data = io.BytesIO()
    Image.new("RGB", (400, 300), "orange").save(data, "PNG")
    client = signed_in(world.contributor)
    client.post(
        CONTRIBUTE,
        {
            **idea_post(world.north.pk),
            "idea-image_file": SimpleUploadedFile("idea.png", data.getvalue(), "image/png"),
        },
    )
    made = Contribution.objects.get()
    assert made.image is not None and made.image.brand == world.north
    signed_in(world.cm).post(reverse("web:contribution-triage", args=[made.pk]), {"action": "draft"})
    post = Post.objects.get()
    assert list(post.media.values_list("asset", flat=True)) == [made.image.pk]


def test_the_queue_is_for_the_social_team_only(world: World) -> None:
    made = actions.propose(actor(world.contributor), world.north, ContributionIn(kind="idea", text="hola"))
    triage = reverse("web:contribution-triage", args=[made.pk])
    for person in (world.contributor, world.analyst, world.limited):
        assert signed_in(person).get(QUEUE).status_code == 403
        assert signed_in(person).post(triage, {"action": "accepted"}).status_code == 403
    # Another organization's owner: not found.
    assert signed_in(world.outsider).post(triage, {"action": "accepted"}).status_code == 404
    made.refresh_from_db()
    assert made.status == ContributionStatus.NEW
    assert f'id="contribution-{made.pk}"' in signed_in(world.cm).get(QUEUE).content.decode()
    assert f'id="contribution-{made.pk}"' not in signed_in(world.outsider).get(QUEUE).content.decode()


def test_a_brand_the_person_does_not_work_in_is_not_found(world: World) -> None:
    set_brand_access(SYSTEM, Membership.objects.get(user=world.cm), all_brands=False, brands=[world.north])
    made = actions.propose(actor(world.contributor), world.south, ContributionIn(kind="idea", text="sur"))
    client = signed_in(world.cm)
    assert (
        client.post(reverse("web:contribution-triage", args=[made.pk]), {"action": "accepted"}).status_code
        == 404
    )
    assert f'id="contribution-{made.pk}"' not in client.get(QUEUE).content.decode()


def test_decline_with_a_reason_notifies_and_shows_on_my_contributions(world: World) -> None:
    made = actions.propose(actor(world.contributor), world.north, ContributionIn(kind="idea", text="hola"))
    cm = signed_in(world.cm)
    triage = reverse("web:contribution-triage", args=[made.pk])
    cm.post(triage, {"action": "declined", "reply": ""})
    made.refresh_from_db()
    assert made.status == ContributionStatus.NEW
    cm.post(triage, {"action": "declined", "reply": "<i>No encaja</i> este mes"})
    made.refresh_from_db()
    assert made.status == ContributionStatus.DECLINED
    assert Notification.objects.filter(user=world.contributor).count() == 1
    mine = signed_in(world.contributor).get(CONTRIBUTE).content.decode()
    assert "&lt;i&gt;No encaja&lt;/i&gt; este mes" in mine and "Declined" in mine


def test_turning_an_idea_into_a_draft_opens_the_composer(world: World) -> None:
    made = actions.propose(
        actor(world.contributor), world.north, ContributionIn(kind="idea", text="castañas")
    )
    client = signed_in(world.cm)
    response = client.post(reverse("web:contribution-triage", args=[made.pk]), {"action": "draft"})
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:post-edit", args=[post.pk])
    assert post.text == "castañas"
    assert reverse("web:post-detail", args=[post.pk]) in client.get(QUEUE).content.decode()
