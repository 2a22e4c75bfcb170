"""Writing posts: drafts saved whole, edits that send a post back to review, time moves, copies,
and the per-channel verdicts the composer, review and scheduling share."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Channel, ChannelStatus, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing.actions import review
from tertulia.publishing.actions.compose import (
    ComposeRefused,
    DraftSpec,
    VariantSpec,
    create_post,
    duplicate_post,
    set_time,
    update_post,
)
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.delivery import claims
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState, Variant
from tertulia.publishing.verdicts import VariantDraft, blocking_errors, post_verdicts, verdicts


def by(user) -> Actor:
    return Actor(user=user, via="web")


def spec(channels, text="Abrimos el lunes https://example.com #Madrid", **extra) -> DraftSpec:
    return DraftSpec(text=text, variants=[VariantSpec(channel.pk) for channel in channels], **extra)


def test_a_draft_is_saved_whole_with_its_channels_and_audited(brand, author, channels):
    post = create_post(
        by(author),
        brand,
        DraftSpec(
            text="Hola",
            title="  Apertura ",
            utm_campaign="otono",
            variants=[
                VariantSpec(channels[0].pk),
                VariantSpec(channels[1].pk, text="Solo aquí", placement="square"),
            ],
        ),
    )
    assert post.state == PostState.DRAFT and post.created_by == author and post.title == "Apertura"
    variants = {v.channel_id: v for v in Variant.objects.filter(post=post)}
    assert set(variants) == {channels[0].pk, channels[1].pk}
    assert variants[channels[1].pk].text == "Solo aquí" and variants[channels[1].pk].placement == "square"
    assert AuditEntry.objects.filter(action="post.created", object_id=str(post.pk)).exists()


def test_hostile_text_is_kept_verbatim(brand, author, channels):
    text = "<script>alert(1)</script> \u202eevil\u202c a\u200bb 👩🏽‍💻"
    post = create_post(by(author), brand, spec(channels[:1], text=text))
    assert Post.objects.get(pk=post.pk).text == text


@pytest.mark.parametrize(
    "bad",
    [
        {"text": "x" * 70_001},
        {"text": "a\x00b"},
        {"title": "t" * 201},
        {"utm_campaign": "c" * 101},
    ],
)
def test_what_no_draft_can_hold_is_refused_and_nothing_is_written(brand, author, channels, bad):
    values = {"text": "Hola", **bad}
    with pytest.raises(ComposeRefused):
        create_post(by(author), brand, spec(channels[:1], **values))
    assert not Post.objects.exists()


def test_channels_and_images_of_another_brand_are_refused(brand, author, channels):
    other = make_brand(brand.organization, "Otra")
    foreign = connect_channel(Actor.system(), other, "sandbox", "@otra", "Otra")
    with pytest.raises(ComposeRefused) as refused:
        create_post(by(author), brand, spec([channels[0], foreign]))
    assert "not this brand's" in str(refused.value)
    with pytest.raises(ComposeRefused):
        create_post(by(author), brand, DraftSpec(text="x", media=[987654]))
    with pytest.raises(ComposeRefused, match="only once"):
        create_post(by(author), brand, spec([channels[0], channels[0]]))
    assert not Post.objects.exists()


def test_a_time_in_the_past_is_refused(brand, author, channels):
    with pytest.raises(ComposeRefused, match="passed"):
        create_post(by(author), brand, spec(channels, scheduled_at=timezone.now() - timedelta(hours=1)))


def test_people_who_may_not_write_are_refused(brand, channels, org):
    analyst = make_member(org, Role.ANALYST, email="analista@example.com")
    with pytest.raises(ComposeRefused):
        create_post(by(analyst), brand, spec(channels))
    outsider = make_member(make_org("Ajena"), Role.OWNER, email="ajena@example.com")
    with pytest.raises(ComposeRefused):
        create_post(by(outsider), brand, spec(channels))


def test_a_contributor_edits_only_their_own_posts(brand, author, channels, org):
    contributor = make_member(org, Role.CONTRIBUTOR, email="colabora@example.com")
    theirs = create_post(by(contributor), brand, spec(channels[:1], text="Propuesta"))
    update_post(by(contributor), theirs, spec(channels[:1], text="Propuesta 2"), version=theirs.version)
    mine = create_post(by(author), brand, spec(channels[:1]))
    with pytest.raises(ComposeRefused):
        update_post(by(contributor), mine, spec(channels[:1], text="No"), version=mine.version)


def test_a_stale_version_is_refused(brand, author, channels):
    post = create_post(by(author), brand, spec(channels))
    update_post(by(author), post, spec(channels, text="Segunda"), version=1)
    with pytest.raises(ComposeRefused, match="while you were editing"):
        update_post(by(author), post, spec(channels, text="Perdida"), version=1)
    assert Post.objects.get(pk=post.pk).text == "Segunda"


def test_editing_a_scheduled_post_takes_it_off_the_ledger_and_back_to_draft(brand, author, channels):
    post = create_post(by(author), brand, spec(channels[:2]))
    review.submit(by(author), post)  # a community manager needs no review: straight to approved
    schedule(by(author), post, timezone.now() + timedelta(hours=2))
    assert DeliveryTarget.objects.filter(post=post, state=TargetState.SCHEDULED).count() == 2
    post = Post.objects.get(pk=post.pk)
    later = timezone.now() + timedelta(hours=3)
    edited = update_post(
        by(author), post, spec(channels[:1], text="Cambio", scheduled_at=later), version=post.version
    )
    assert edited.state == PostState.DRAFT and edited.approved_at is None
    assert not DeliveryTarget.objects.filter(post=post).exists()
    # Sent on again, it goes out once per channel, with the new text.
    review.submit(by(author), edited)
    edited = Post.objects.get(pk=post.pk)
    assert edited.state == PostState.SCHEDULED
    targets = list(DeliveryTarget.objects.filter(post=post))
    assert len(targets) == 1 and targets[0].payload["text"].startswith("Cambio")


def test_a_post_already_going_out_cannot_be_edited(brand, author, channels):
    post = create_post(by(author), brand, spec(channels[:1]))
    review.submit(by(author), post)
    schedule(by(author), post)
    claims.promote_due(timezone.now())
    assert claims.claim("w1", 10, timezone.now())
    post = Post.objects.get(pk=post.pk)
    with pytest.raises(ComposeRefused, match="started going out"):
        update_post(by(author), post, spec(channels[:1], text="Tarde"), version=post.version)
    assert DeliveryTarget.objects.get(post=post).state == TargetState.CLAIMED
    assert Post.objects.get(pk=post.pk).text != "Tarde"


def test_set_time_moves_a_draft_and_a_scheduled_posts_deliveries(brand, author, channels):
    draft = create_post(by(author), brand, spec(channels[:1]))
    later = timezone.now() + timedelta(days=2)
    assert set_time(by(author), draft, later).scheduled_at == later
    post = create_post(by(author), brand, spec(channels[:2]))
    review.submit(by(author), post)
    schedule(by(author), post, timezone.now() + timedelta(hours=1))
    moved = set_time(by(author), Post.objects.get(pk=post.pk), later)
    assert moved.state == PostState.SCHEDULED and moved.scheduled_at == later
    assert {t.due_at for t in DeliveryTarget.objects.filter(post=post)} == {later}
    with pytest.raises(ComposeRefused, match="passed"):
        set_time(by(author), moved, timezone.now() - timedelta(days=1))


def test_duplicate_copies_text_channels_and_images_not_time_or_state(brand, author, channels):
    post = create_post(
        by(author), brand, spec(channels[:2], scheduled_at=timezone.now() + timedelta(hours=3))
    )
    review.submit(by(author), post)
    copy = duplicate_post(by(author), Post.objects.get(pk=post.pk))
    assert copy.pk != post.pk and copy.state == PostState.DRAFT and copy.scheduled_at is None
    assert copy.text == post.text
    assert sorted(Variant.objects.filter(post=copy).values_list("channel_id", flat=True)) == sorted(
        c.pk for c in channels[:2]
    )


def test_verdicts_count_as_each_network_does_and_say_what_is_wrong(brand, channels):
    x = Channel.objects.create(organization=brand.organization, brand=brand, network="x", handle="marca_x")
    bluesky = Channel.objects.create(
        organization=brand.organization, brand=brand, network="bluesky", handle="marca.bsky.social"
    )
    text = "Mira https://example.com/" + "a" * 100
    found = {v.channel.network: v for v in verdicts(text, "", [VariantDraft(x), VariantDraft(bluesky)], [])}
    assert found["x"].check is not None and found["x"].check.length == len("Mira ") + 23
    long = "ñ" * 301
    over = verdicts("", "", [VariantDraft(bluesky, text=long)], [])[0]
    assert over.own_text and over.errors and "1 grapheme" in over.errors[0]


def test_a_channel_that_lost_its_token_is_an_error_a_paused_one_a_warning(brand, channels):
    channels[0].status = ChannelStatus.NEEDS_RECONNECT
    channels[1].status = ChannelStatus.PAUSED
    found = verdicts("Hola", "", [VariantDraft(channels[0]), VariantDraft(channels[1])], [])
    assert "reconnecting" in found[0].errors[0]
    assert not found[1].errors and "paused" in found[1].warnings[0]


def test_review_refuses_a_post_with_errors_naming_the_channel(brand, author, channels):
    post = create_post(by(author), brand, spec(channels[:1], text="x" * 501))
    assert blocking_errors(post) and f"@{channels[0].handle}" in blocking_errors(post)[0]
    with pytest.raises(review.ReviewRefused, match="over"):
        review.submit(by(author), post)
    assert Post.objects.get(pk=post.pk).state == PostState.DRAFT
    empty = create_post(by(author), brand, DraftSpec(text="Sin canales"))
    with pytest.raises(review.ReviewRefused, match="at least one channel"):
        review.submit(by(author), empty)
    assert post_verdicts(empty) == []


def test_taking_a_scheduled_post_off_the_calendar_needs_its_channels(brand, author, channels, org):
    post = create_post(
        by(author), brand, spec(channels[:1], scheduled_at=timezone.now() + timedelta(hours=2))
    )
    review.submit(by(author), post)
    assert Post.objects.get(pk=post.pk).state == PostState.SCHEDULED
    stranger = make_member(org, Role.COMMUNITY_MANAGER, email="otra@example.com")  # operates nothing
    post = Post.objects.get(pk=post.pk)
    with pytest.raises(ComposeRefused, match="do not operate"):
        update_post(by(stranger), post, spec(channels[:1], text="Mía"), version=post.version)
    assert Post.objects.get(pk=post.pk).state == PostState.SCHEDULED


def test_a_time_years_ahead_is_refused(brand, author, channels):
    with pytest.raises(ComposeRefused, match="ten years"):
        create_post(by(author), brand, spec(channels, scheduled_at=timezone.now() + timedelta(days=11 * 366)))
