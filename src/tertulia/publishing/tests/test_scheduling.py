"""From an approved post to the ledger: payloads frozen with UTM tags, renditions and checks."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from tertulia.core.actions.context import Actor
from tertulia.core.models import Role
from tertulia.core.tests.factories import make_member
from tertulia.publishing.actions.scheduling import SchedulingRefused, approved, render_ahead, schedule
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.models import (
    DeliveryTarget,
    MediaAsset,
    Post,
    PostMedia,
    PostState,
    Rendition,
    TargetState,
    Variant,
)


@pytest.fixture
def post(brand, author, channels):
    post = Post.objects.create(
        organization=brand.organization,
        brand=brand,
        created_by=author,
        text="Nueva tienda https://example.com/tienda?x=1 #Madrid",
        utm_campaign="apertura",
        state=PostState.APPROVED,
    )
    for channel in channels[:2]:
        Variant.objects.create(post=post, channel=channel)
    return post


@pytest.fixture
def image_asset(brand, author, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (200, 30, 30)).save(buffer, "JPEG")
    asset = MediaAsset(
        organization=brand.organization,
        brand=brand,
        uploaded_by=author,
        mime_type="image/jpeg",
        width=1600,
        height=1200,
        size_bytes=len(buffer.getvalue()),
        sha256="a" * 64,
        alt_text="Fachada de la tienda",
        focal_x=0.3,
        focal_y=0.5,
    )
    asset.file.save("upload", ContentFile(buffer.getvalue()), save=False)
    asset.save()
    return asset


def test_scheduling_freezes_each_channels_text_with_utm_tags(post, author):
    schedule(Actor(user=author, via="web"), post, timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    targets = list(DeliveryTarget.objects.filter(post=post))
    assert len(targets) == 2 and {t.state for t in targets} == {TargetState.SCHEDULED}
    text = targets[0].payload["text"]
    assert "utm_source=sandbox" in text and "utm_campaign=apertura" in text and "x=1" in text
    # Editing the post now does not change what goes out.
    Post.objects.filter(pk=post.pk).update(text="otra cosa")
    assert DeliveryTarget.objects.get(pk=targets[0].pk).payload["text"] == text


def test_images_go_out_as_renditions_for_the_placement_with_their_alt_text(
    post, author, image_asset, channels
):
    PostMedia.objects.create(post=post, asset=image_asset)
    Variant.objects.filter(post=post, channel=channels[1]).update(placement="square")
    schedule(Actor(user=author, via="web"), post)
    while run_once("w"):
        pass
    targets = DeliveryTarget.objects.filter(post=post).order_by("channel__handle")
    assert {t.state for t in targets} == {TargetState.SENT}
    landscape, square = (Rendition.objects.get(pk=t.payload["media"][0]["rendition"]) for t in targets)
    assert (landscape.width, landscape.height) == (1200, 628)
    assert (square.width, square.height) == (1080, 1080)
    assert targets[0].payload["media"][0]["alt"] == "Fachada de la tienda"


def test_renditions_are_made_ahead_so_scheduling_only_points_at_them(post, author, image_asset, channels):
    """Rendering takes about a second per image: it happens before the write transaction, and the
    transaction then finds the renditions made (the same rows, not new ones)."""
    PostMedia.objects.create(post=post, asset=image_asset)
    Variant.objects.filter(post=post, channel=channels[1]).update(placement="square")
    render_ahead(post)
    made = set(Rendition.objects.values_list("pk", flat=True))
    assert {(r.width, r.height) for r in Rendition.objects.all()} == {(1200, 628), (1080, 1080)}
    schedule(Actor(user=author, via="web"), post)
    assert set(Rendition.objects.values_list("pk", flat=True)) == made
    used = {t.payload["media"][0]["rendition"] for t in DeliveryTarget.objects.filter(post=post)}
    assert used == made


def test_text_over_a_networks_limit_is_refused_when_scheduling_not_when_sending(post, author):
    Post.objects.filter(pk=post.pk).update(text="x" * 501)
    post.refresh_from_db()
    with pytest.raises(SchedulingRefused, match="500"):
        schedule(Actor(user=author, via="web"), post)
    assert not DeliveryTarget.objects.filter(post=post).exists()  # nothing half-written


def test_a_time_in_the_past_is_refused(post, author):
    with pytest.raises(SchedulingRefused, match="passed"):
        schedule(Actor(user=author, via="web"), post, timezone.now() - timedelta(hours=1))


def test_a_contributor_cannot_schedule(post, org):
    contributor = make_member(org, Role.CONTRIBUTOR)
    with pytest.raises(SchedulingRefused):
        schedule(Actor(user=contributor, via="web"), post)


def test_an_approval_after_the_time_passed_keeps_the_post_approved(post, author):
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - timedelta(hours=2))
    post.refresh_from_db()
    assert approved(Actor.system(), post).state == PostState.APPROVED
    assert not DeliveryTarget.objects.filter(post=post).exists()


def test_an_approval_before_the_time_schedules_it(post):
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() + timedelta(hours=2))
    post.refresh_from_db()
    assert approved(Actor.system(), post).state == PostState.SCHEDULED
    assert DeliveryTarget.objects.filter(post=post).count() == 2


def test_a_channel_whose_network_cannot_publish_posts_is_refused_at_scheduling(post, author, monkeypatch):
    from tertulia.connectors.base import Capability
    from tertulia.connectors.sandbox.connector import SandboxConnector

    # As WordPress: it answers comments, it does not publish posts.
    monkeypatch.setattr(
        SandboxConnector,
        "capabilities",
        SandboxConnector.capabilities - {Capability.PUBLISH_TEXT, Capability.PUBLISH_IMAGES},
    )
    with pytest.raises(SchedulingRefused, match="cannot publish"):
        schedule(Actor(user=author, via="web"), post)


def test_renditions_are_kept_when_the_focal_point_moves(brand, image_asset):
    from tertulia.publishing.renditions import rendition_for
    from tertulia.publishing.rules.placements import Placement

    first = rendition_for(image_asset, "sandbox", Placement.SQUARE)
    assert rendition_for(image_asset, "sandbox", Placement.SQUARE) == first
    MediaAsset.objects.filter(pk=image_asset.pk).update(focal_x=0.9)
    image_asset.refresh_from_db()
    second = rendition_for(image_asset, "sandbox", Placement.SQUARE)
    assert second != first and Rendition.objects.filter(pk=first.pk).exists()
    assert first.file.storage.exists(first.file.name)  # a scheduled post may still point at it


def test_instagram_gets_jpeg_even_from_a_transparent_image(brand, author, settings, tmp_path):
    from tertulia.publishing.renditions import rendition_for
    from tertulia.publishing.rules.placements import Placement

    settings.MEDIA_ROOT = str(tmp_path)
    buffer = io.BytesIO()
    Image.new("RGBA", (1200, 1200), (0, 0, 0, 0)).save(buffer, "PNG")
    asset = MediaAsset(
        organization=brand.organization,
        brand=brand,
        mime_type="image/png",
        width=1200,
        height=1200,
        size_bytes=len(buffer.getvalue()),
        sha256="b" * 64,
    )
    asset.file.save("upload", ContentFile(buffer.getvalue()), save=False)
    asset.save()
    assert rendition_for(asset, "instagram", Placement.SQUARE).mime_type == "image/jpeg"
    assert rendition_for(asset, "sandbox", Placement.SQUARE).mime_type == "image/png"


def test_an_approval_does_not_put_a_post_on_channels_nobody_accountable_operates(post, org):
    approver = make_member(org, Role.APPROVER)
    stranger = make_member(org, Role.CONTRIBUTOR)
    Post.objects.filter(pk=post.pk).update(
        created_by=stranger, scheduled_at=timezone.now() + timedelta(hours=1)
    )
    post.refresh_from_db()
    assert approved(Actor(user=approver, via="web"), post).state == PostState.APPROVED
    assert not DeliveryTarget.objects.filter(post=post).exists()


def test_an_approval_that_cannot_schedule_stands_and_the_author_is_told(post, author, channels):
    from tertulia.core.models import ChannelStatus
    from tertulia.inbox.models import Notification, NotificationKind

    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() + timedelta(hours=1))
    # The channel lost its access while the post waited for review.
    channels[0].status = ChannelStatus.NEEDS_RECONNECT
    channels[0].save(update_fields=["status"])
    post.refresh_from_db()
    assert approved(Actor.system(), post).state == PostState.APPROVED
    assert Post.objects.get(pk=post.pk).state == PostState.APPROVED
    assert not DeliveryTarget.objects.filter(post=post).exists()
    note = Notification.objects.get(user=author, kind=NotificationKind.PUBLISH_FAILED)
    assert "could not be scheduled" in note.text and "reconnecting" in note.text


def test_moving_a_scheduled_post_keeps_what_was_frozen(post, author, image_asset):
    PostMedia.objects.create(post=post, asset=image_asset)
    schedule(Actor(user=author, via="web"), post, timezone.now() + timedelta(hours=1))
    frozen = {t.pk: t.payload for t in DeliveryTarget.objects.filter(post=post)}
    MediaAsset.objects.filter(pk=image_asset.pk).update(alt_text="Cambiada después de aprobar", focal_x=0.9)
    later = timezone.now() + timedelta(days=1)
    schedule(Actor(user=author, via="web"), Post.objects.get(pk=post.pk), later)
    moved = {t.pk: t for t in DeliveryTarget.objects.filter(post=post)}
    assert {pk: t.payload for pk, t in moved.items()} == frozen
    assert {t.due_at for t in moved.values()} == {later}
    assert Post.objects.get(pk=post.pk).scheduled_at == later


def test_a_time_years_ahead_is_refused(post, author):
    with pytest.raises(SchedulingRefused, match="ten years"):
        schedule(Actor(user=author, via="web"), post, timezone.now() + timedelta(days=11 * 366))
