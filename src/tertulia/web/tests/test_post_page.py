"""A post's page: what was written, its review (decisions, discussion, buttons), scheduling, deliveries."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from tertulia.core.models import Role
from tertulia.core.tests.factories import make_member
from tertulia.publishing.actions import review
from tertulia.publishing.actions.compose import DraftSpec, VariantSpec, create_post, update_post
from tertulia.publishing.models import (
    ApprovalDecision,
    DeliveryTarget,
    Post,
    PostComment,
    PostState,
    TargetState,
)
from tertulia.web.tests.helpers import signed_in
from tertulia.web.tests.test_compose_pages import World, by, image, later, local, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world(db) -> World:
    return make_world()


def proposal(world: World, *, when: datetime | None = None, text: str = "Propuesta de otoño") -> Post:
    """A contributor's post, sent for review (the social media team approves it)."""
    post = create_post(
        by(world.contributor),
        world.brand,
        DraftSpec(text=text, scheduled_at=when, variants=(VariantSpec(world.sandbox.pk),)),
    )
    return review.submit(by(world.contributor), post)


def reload(post: Post) -> Post:
    return Post.objects.get(pk=post.pk)


def page_of(client: Client, post: Post) -> str:
    return html.unescape(client.get(reverse("web:post-detail", args=[post.pk])).content.decode())


def test_the_page_shows_the_post_its_channels_images_and_deliveries(world: World) -> None:
    asset = image(world, alt="Una <taza>")
    post = create_post(
        by(world.cm),
        world.brand,
        DraftSpec(
            text="Hola\nmundo #café",
            utm_campaign="otono",
            variants=(VariantSpec(world.sandbox.pk, placement="square"),),
            media=(asset.pk,),
        ),
    )
    post = review.submit(by(world.cm), post)  # nobody needs to review the team's own post: approved
    client = signed_in(world.cm)
    response = client.post(reverse("web:post-schedule", args=[post.pk]), {"scheduled_at": local(later())})
    assert response.status_code == 302 and reload(post).state == PostState.SCHEDULED
    target = DeliveryTarget.objects.get(post=post)
    DeliveryTarget.objects.filter(pk=target.pk).update(state=TargetState.FAILED, last_error="<b>Caído</b>")

    raw = client.get(reverse("web:post-detail", args=[post.pk])).content.decode()
    assert "Hola<br>mundo #café" in raw and "&lt;b&gt;Caído&lt;/b&gt;" in raw
    assert reverse("web:media-file", args=[asset.pk]) in raw and 'alt="Una &lt;taza&gt;"' in raw
    assert f'id="target-{target.pk}"' in raw and 'value="retry"' in raw
    assert f'id="verdict-{world.sandbox.pk}"' in raw and "crop crop-square" in raw
    assert 'id="schedule-form"' in raw and "Move to this time" in raw

    # Someone who may only look sees it all, and none of the buttons.
    analyst = signed_in(make_member(world.org, Role.ANALYST))
    looked = analyst.get(reverse("web:post-detail", args=[post.pk])).content.decode()
    assert f'id="target-{target.pk}"' in looked
    for control in ('value="retry"', 'id="schedule-form"', 'id="edit-link"', 'id="decide-form"', "Duplicate"):
        assert control not in looked, control


def test_an_approver_approves_a_contributors_post_and_it_moves_on(world: World) -> None:
    when = later()
    post = proposal(world, when=when)
    assert post.state == PostState.IN_REVIEW

    author_page = page_of(signed_in(world.contributor), post)
    assert "Waiting for the step “Review by the social media team”" in author_page
    assert "cm@example.com" in author_page  # who approves
    assert 'id="decide-form"' not in author_page  # nobody approves their own post
    assert 'value="withdraw"' in author_page and 'id="schedule-form"' not in author_page

    client = signed_in(world.cm)
    assert 'id="decide-form"' in page_of(client, post)
    response = client.post(
        reverse("web:post-review", args=[post.pk]),
        {"action": "approve", "comment": "¡Perfecto!", "version": post.version},
        follow=True,
    )
    post = reload(post)
    # The approver operates the channel and the time is ahead: approved and on the calendar.
    assert post.state == PostState.SCHEDULED and post.scheduled_at == when
    assert DeliveryTarget.objects.filter(post=post, state=TargetState.SCHEDULED).count() == 1
    page = html.unescape(response.content.decode())
    assert "Approved and scheduled." in page and "¡Perfecto!" in page
    assert ApprovalDecision.objects.get(post=post).user == world.cm
    assert 'id="decide-form"' not in page  # decided


def test_an_approval_without_a_time_leaves_the_post_approved_for_scheduling(world: World) -> None:
    post = proposal(world)
    client = signed_in(world.cm)
    client.post(reverse("web:post-review", args=[post.pk]), {"action": "approve", "version": post.version})
    assert reload(post).state == PostState.APPROVED

    bad = client.post(reverse("web:post-schedule", args=[post.pk]), {"scheduled_at": "mañana"})
    assert bad.status_code == 400 and "Write the date and time as" in bad.content.decode()
    past = client.post(reverse("web:post-schedule", args=[post.pk]), {"scheduled_at": "2020-01-01T10:00"})
    assert past.status_code == 400 and "That time has passed" in past.content.decode()
    assert reload(post).state == PostState.APPROVED

    client.post(reverse("web:post-schedule", args=[post.pk]), {"scheduled_at": "2031-06-01T12:00"})
    post = reload(post)
    assert post.state == PostState.SCHEDULED
    assert post.scheduled_at == datetime(2031, 6, 1, 10, 0, tzinfo=UTC)  # noon in Madrid, summer time


def test_changes_are_requested_with_a_comment_which_is_kept_when_refused(world: World) -> None:
    post = proposal(world)
    client = signed_in(world.cm)
    url = reverse("web:post-review", args=[post.pk])

    empty = client.post(url, {"action": "request_changes", "comment": "   ", "version": post.version})
    assert empty.status_code == 400 and "Write a comment." in empty.content.decode()
    assert reload(post).state == PostState.IN_REVIEW

    client.post(
        url, {"action": "request_changes", "comment": "<b>Cambia</b> el precio", "version": post.version}
    )
    post = reload(post)
    assert post.state == PostState.CHANGES_REQUESTED
    raw = client.get(reverse("web:post-detail", args=[post.pk])).content.decode()
    assert "&lt;b&gt;Cambia&lt;/b&gt; el precio" in raw and "<b>Cambia" not in raw
    assert "Changes were requested" in raw


def test_a_decision_on_a_version_that_changed_is_refused(world: World) -> None:
    post = proposal(world)
    seen = post.version
    # The author edits it meanwhile (back to draft) and sends it again: a new version.
    post = update_post(
        by(world.contributor),
        post,
        DraftSpec(text="Otra versión", variants=(VariantSpec(world.sandbox.pk),)),
        version=post.version,
    )
    post = review.submit(by(world.contributor), post)
    client = signed_in(world.cm)
    typed = "Me gusta la primera"
    response = client.post(
        reverse("web:post-review", args=[post.pk]), {"action": "approve", "comment": typed, "version": seen}
    )
    assert response.status_code == 400
    assert "This post has changed since you opened it" in response.content.decode()
    assert typed in response.content.decode()
    assert reload(post).state == PostState.IN_REVIEW and not ApprovalDecision.objects.exists()


def test_the_discussion_keeps_comments_as_written(world: World) -> None:
    post = proposal(world)
    client = signed_in(make_member(world.org, Role.ANALYST))  # anyone in the organization may discuss
    url = reverse("web:post-review", args=[post.pk])
    hostile = "<script>alert(1)</script> \u202eolleh 🧀"
    client.post(url, {"action": "comment", "comment": hostile})
    assert PostComment.objects.get(post=post).text == hostile
    raw = client.get(reverse("web:post-detail", args=[post.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw and "<script>alert(1)" not in raw

    too_long = "palabra " * 700
    refused = client.post(url, {"action": "comment", "comment": too_long})
    assert refused.status_code == 400 and "A comment has at most 5000 characters." in refused.content.decode()
    assert too_long.strip() in refused.content.decode()
    assert PostComment.objects.filter(post=post).count() == 1
    assert client.post(url, {"action": "explode"}).status_code == 400


def test_the_author_withdraws_and_sends_again(world: World) -> None:
    post = proposal(world)
    client = signed_in(world.contributor)
    url = reverse("web:post-review", args=[post.pk])
    client.post(url, {"action": "withdraw"})
    assert reload(post).state == PostState.DRAFT
    assert 'value="submit"' in page_of(client, post)
    # Only the author withdraws.
    client.post(url, {"action": "submit"})
    assert reload(post).state == PostState.IN_REVIEW
    other = signed_in(world.cm).post(url, {"action": "withdraw"})
    assert other.status_code == 400 and "Only the author can withdraw" in html.unescape(
        other.content.decode()
    )


def test_duplicating_makes_a_new_draft_to_edit(world: World) -> None:
    asset = image(world)
    post = create_post(
        by(world.cm),
        world.brand,
        DraftSpec(text="Original", variants=(VariantSpec(world.x.pk, text="Para X"),), media=(asset.pk,)),
    )
    Post.objects.filter(pk=post.pk).update(state=PostState.PUBLISHED)
    client = signed_in(world.cm)
    page = page_of(client, reload(post))
    assert 'id="edit-link"' not in page and "Duplicate" in page
    response = client.post(reverse("web:post-duplicate", args=[post.pk]))
    copy = Post.objects.exclude(pk=post.pk).get()
    assert response.status_code == 302 and response["Location"] == reverse("web:post-edit", args=[copy.pk])
    assert (copy.text, copy.state, copy.created_by) == ("Original", PostState.DRAFT, world.cm)
    assert "Para X" in client.get(response["Location"]).content.decode()

    analyst = signed_in(make_member(world.org, Role.ANALYST))
    analyst.post(reverse("web:post-duplicate", args=[post.pk]))
    assert Post.objects.count() == 2


def test_retry_warns_when_the_network_cannot_be_asked_whether_the_post_is_out(
    world: World, monkeypatch
) -> None:
    from tertulia.connectors.base import Capability
    from tertulia.connectors.sandbox.connector import SandboxConnector

    post = review.submit(
        by(world.cm),
        create_post(
            by(world.cm), world.brand, DraftSpec(text="Hola", variants=(VariantSpec(world.sandbox.pk),))
        ),
    )
    client = signed_in(world.cm)
    client.post(reverse("web:post-schedule", args=[post.pk]), {"scheduled_at": local(later())})
    target = DeliveryTarget.objects.get(post=post)
    DeliveryTarget.objects.filter(pk=target.pk).update(state=TargetState.NEEDS_ATTENTION, maybe_sent=True)
    assert f"blind-retry-{target.pk}" not in page_of(client, post)  # the sandbox can be searched
    monkeypatch.setattr(
        SandboxConnector,
        "capabilities",
        SandboxConnector.capabilities - {Capability.FIND_OWN_POST, Capability.IDEMPOTENT_PUBLISH},
    )
    assert f"blind-retry-{target.pk}" in page_of(client, post)


def test_the_post_text_shows_direction_and_invisible_characters_as_codes(world: World) -> None:
    post = create_post(
        by(world.cm),
        world.brand,
        DraftSpec(
            text="Pago en \u202etxt.exe\u202c y a\u200bb <i>x</i>", variants=(VariantSpec(world.sandbox.pk),)
        ),
    )
    raw = signed_in(world.cm).get(reverse("web:post-detail", args=[post.pk])).content.decode()
    text = raw.split('class="text post-text"', 1)[1].split("</p>", 1)[0]
    assert "\u202e" not in text and "\u200b" not in text
    assert "U+202E" in text and "U+202C" in text and "U+200B" in text
    assert "&lt;i&gt;x&lt;/i&gt;" in text
    assert Post.objects.get(pk=post.pk).text.count("\u202e") == 1  # stored as written
