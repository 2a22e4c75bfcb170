"""The composer on the web: write a post, adapt it per channel, add images, check it live, send it on."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Membership, Organization, Role, User
from tertulia.core.models.audit import Via
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing.actions.compose import DraftSpec, VariantSpec, create_post
from tertulia.publishing.actions.media import upload_image
from tertulia.publishing.models import (
    DeliveryTarget,
    MediaAsset,
    Post,
    PostMedia,
    PostState,
    TargetState,
    Variant,
)
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> \u202eevil\u202c zero\u200bwidth 🧀"


@dataclass
class World:
    org: Organization
    brand: Brand
    owner: User
    cm: User  # community manager: writes and publishes on every channel below
    contributor: User  # proposes only
    sandbox: Channel
    x: Channel
    bluesky: Channel
    other_org: Organization
    other_brand: Brand
    stranger: User  # a community manager of the other organization


def png(size: tuple[int, int] = (800, 600), colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def by(user: User) -> Actor:
    return Actor(user=user, via=Via.WEB)


def make_world() -> World:
    org = make_org("Café Tertulia")
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    brand = make_brand(org, "Café")
    cm = make_member(org, Role.COMMUNITY_MANAGER, email="cm@example.com")
    contributor = make_member(org, Role.CONTRIBUTOR, email="contributor@example.com")
    sandbox = connect_channel(Actor.system(), brand, "sandbox", "@cafe_sandbox", "Café sandbox")
    x = Channel.objects.create(
        organization=org, brand=brand, network="x", handle="cafe_x", display_name="Café X"
    )
    bluesky = Channel.objects.create(
        organization=org,
        brand=brand,
        network="bluesky",
        handle="cafe.bsky.social",
        display_name="Café Bluesky",
    )
    for channel in (sandbox, x, bluesky):
        set_channel_operators(Actor.system(), channel, [cm])
    other_org = make_org("Otra SA")
    other_brand = make_brand(other_org, "Otra")
    stranger = make_member(other_org, Role.COMMUNITY_MANAGER, email="stranger@example.com")
    return World(org, brand, owner, cm, contributor, sandbox, x, bluesky, other_org, other_brand, stranger)


def image(world: World, colour: tuple[int, int, int] = (10, 120, 200), alt: str = "Una taza") -> MediaAsset:
    asset, _new = upload_image(by(world.cm), world.brand, png(colour=colour), "taza.png", "image/png", alt)
    return asset


def later(days: int = 3) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def local(when: datetime, zone: str = "Europe/Madrid") -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def form(world: World, text: str = "Hola #café https://example.com/menu", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "brand": world.brand.pk,
        "text": text,
        "title": "",
        "utm_campaign": "",
        "scheduled_at": "",
    }
    data.update(extra)
    return data


def section_of(page: str, element_id: str) -> str:
    """The HTML of the <section id=...> in `page` (verdicts are sections)."""
    match = re.search(rf'<section[^>]*id="{element_id}".*?</section>', page, re.S)
    assert match is not None, f"{element_id} not in the page"
    return match.group(0)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world(db) -> World:
    return make_world()


# --- writing -------------------------------------------------------------------------------------


def test_the_composer_creates_a_post_with_variants_and_images(world: World) -> None:
    first, second = image(world, (200, 10, 10)), image(world, (10, 200, 10), alt="")
    client = signed_in(world.cm)
    page = client.get(reverse("web:post-new")).content.decode()
    assert "@cafe_x" in page and "Europe/Madrid" in page and 'id="schedule-button"' in page
    assert f'name="images" value="{first.pk}"' in page and "No description" in page

    when = later()
    response = client.post(
        reverse("web:post-new"),
        form(
            world,
            text="Nuevo menú\r\nde otoño",
            title="Otoño",
            utm_campaign="otono",
            scheduled_at=local(when),
            channels=[world.sandbox.pk, world.x.pk],
            **{
                f"text_{world.x.pk}": "Versión corta para X",
                f"placement_{world.sandbox.pk}": "square",
                "images": [first.pk, second.pk],
                f"order_{first.pk}": "2",
                f"order_{second.pk}": "1",
                "action": "save",
            },
        ),
    )
    post = Post.objects.get(brand=world.brand)
    assert response.status_code == 302 and response["Location"] == reverse("web:post-edit", args=[post.pk])
    assert (post.title, post.text, post.utm_campaign) == ("Otoño", "Nuevo menú\nde otoño", "otono")
    assert post.scheduled_at == when  # typed in Madrid time, stored in UTC
    assert post.created_by == world.cm and post.state == PostState.DRAFT
    variants = {v.channel_id: v for v in Variant.objects.filter(post=post)}
    assert set(variants) == {world.sandbox.pk, world.x.pk}
    assert variants[world.x.pk].text == "Versión corta para X"
    assert variants[world.sandbox.pk].placement == "square"
    assert list(PostMedia.objects.filter(post=post).values_list("asset_id", flat=True)) == [
        second.pk,
        first.pk,
    ]

    # The edit page shows it all again, as saved.
    again = client.get(reverse("web:post-edit", args=[post.pk])).content.decode()
    assert "Versión corta para X" in again and f'value="{local(when)}"' in again
    assert f'name="version" value="{post.version}"' in again
    assert f'name="order_{second.pk}" min="1" max="99" value="1"' in again


def test_a_time_is_read_in_the_brands_time_zone(world: World) -> None:
    world.brand.timezone = "America/Mexico_City"
    world.brand.save()
    client = signed_in(world.cm)
    client.post(
        reverse("web:post-new"),
        form(world, scheduled_at="2031-01-15T09:30", channels=[world.sandbox.pk], action="save"),
    )
    assert Post.objects.get().scheduled_at == datetime(2031, 1, 15, 15, 30, tzinfo=UTC)
    # 02:30 on the night Madrid's clocks go forward does not exist there: refused, not moved.
    world.brand.timezone = "Europe/Madrid"
    world.brand.save()
    response = client.post(
        reverse("web:post-new"), form(world, scheduled_at="2031-03-30T02:30", text="No existe", action="save")
    )
    assert response.status_code == 400
    assert "does not exist in Europe/Madrid" in html.unescape(response.content.decode())
    assert Post.objects.count() == 1


def test_uploading_from_the_composer_keeps_the_typed_post_and_ticks_the_image(world: World) -> None:
    client = signed_in(world.cm)
    upload = io.BytesIO(png())
    upload.name = "nueva.png"
    response = client.post(
        reverse("web:post-new"),
        form(
            world,
            text="Texto a medias <b>",
            channels=[world.bluesky.pk],
            image_file=upload,
            image_alt="Una tarta",
            action="upload",
        ),
    )
    page = response.content.decode()
    asset = MediaAsset.objects.get(brand=world.brand)
    assert response.status_code == 200 and asset.alt_text == "Una tarta"
    assert "Texto a medias &lt;b&gt;" in page
    assert f'name="images" value="{asset.pk}" checked' in page
    assert not Post.objects.exists()  # uploading saves no post


# --- the live check ------------------------------------------------------------------------------


def test_the_live_check_counts_as_each_network_does(world: World) -> None:
    client = signed_in(world.cm)
    text = "字" * 10 + " https://example.com/" + "a" * 60  # X: 20 + 1 + 23 (every link is 23)
    response = client.post(
        reverse("web:compose-check"),
        form(
            world,
            text=text,
            channels=[world.x.pk, world.bluesky.pk],
            **{f"text_{world.bluesky.pk}": "b" * 301},
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    x_part = section_of(page, f"verdict-{world.x.pk}")
    assert 'data-length="44" data-limit="280"' in x_part
    assert "weighted characters" in x_part and "236 left" in x_part and "counter over" not in x_part
    sky = html.unescape(section_of(page, f"verdict-{world.bluesky.pk}"))
    assert 'data-length="301" data-limit="300"' in sky and "counter over" in sky and "1 over" in sky
    assert "This text is 1 grapheme over Bluesky's limit of 300." in sky
    assert "own text" in sky


def test_the_check_lists_entities_and_previews_the_first_image_cropped(world: World) -> None:
    asset = image(world)
    client = signed_in(world.cm)
    response = client.post(
        reverse("web:compose-check"),
        form(
            world,
            text="Hola @ana.bsky.social #café https://example.com/x",
            channels=[world.sandbox.pk],
            images=[asset.pk],
            utm_campaign="otono",
            **{f"placement_{world.sandbox.pk}": "story"},
        ),
    )
    part = section_of(response.content.decode(), f"verdict-{world.sandbox.pk}")
    assert '<span class="ent ent-hashtag">#café</span>' in part
    assert '<span class="ent ent-mention">@ana.bsky.social</span>' in part
    # The link as it is sent: with its UTM tags.
    assert "utm_campaign=otono" in part and '<span class="ent ent-link">' in part
    assert 'class="crop crop-story"' in part and reverse("web:media-file", args=[asset.pk]) in part
    assert 'alt="Una taza"' in part


def test_the_preview_escapes_hostile_text_and_shows_invisible_characters(world: World) -> None:
    client = signed_in(world.cm)
    response = client.post(
        reverse("web:compose-check"), form(world, text=HOSTILE, channels=[world.sandbox.pk])
    )
    page = response.content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    preview = re.search(r'<p class="preview-text".*?</p>', page, re.S)
    assert preview is not None
    # Direction overrides and zero-width characters are shown by their code, never applied.
    assert "\u202e" not in preview.group(0) and "\u200b" not in preview.group(0)
    assert ">U+202E</span>" in preview.group(0) and ">U+200B</span>" in preview.group(0)

    post = create_post(
        by(world.cm), world.brand, DraftSpec(text=HOSTILE, title=HOSTILE, variants=(VariantSpec(world.x.pk),))
    )
    for url in (
        reverse("web:post-edit", args=[post.pk]),
        reverse("web:post-detail", args=[post.pk]),
        reverse("web:publish"),
    ):
        shown = client.get(url).content.decode()
        assert "<script>alert" not in shown and "<img src=x" not in shown, url


def test_the_check_is_for_members_who_write_for_their_own_brands(world: World) -> None:
    client = signed_in(world.cm)
    assert (
        client.post(reverse("web:compose-check"), {"brand": world.other_brand.pk, "text": "x"}).status_code
        == 404
    )
    assert client.post(reverse("web:compose-check"), {"text": "x"}).status_code == 404
    analyst = make_member(world.org, Role.ANALYST)
    assert signed_in(analyst).post(reverse("web:compose-check"), form(world)).status_code == 403


# --- refusals ------------------------------------------------------------------------------------


def test_a_refused_save_keeps_everything_typed(world: World) -> None:
    client = signed_in(world.cm)
    typed = "Texto largo que no quiero perder 🧀 <b>"
    response = client.post(
        reverse("web:post-new"),
        form(
            world,
            text=typed,
            title="Mi título",
            scheduled_at=local(timezone.now() - timedelta(days=2)),
            channels=[world.x.pk],
            **{f"text_{world.x.pk}": "Texto propio de X", "action": "save"},
        ),
    )
    page = response.content.decode()
    assert response.status_code == 400 and not Post.objects.exists()
    assert "That time has passed: choose a time from now on." in page
    assert "Texto largo que no quiero perder 🧀 &lt;b&gt;" in page and 'value="Mi título"' in page
    assert "Texto propio de X" in page and f'name="channels" value="{world.x.pk}" checked' in page

    # Someone else saved first: refused, the typed text stays.
    post = create_post(by(world.cm), world.brand, DraftSpec(text="v1"))
    edit = reverse("web:post-edit", args=[post.pk])
    client.post(edit, form(world, text="v2 de otra persona", version=post.version, action="save"))
    stale = client.post(edit, form(world, text="mi versión", version=post.version, action="save"))
    assert stale.status_code == 400
    assert "Someone saved this post while you were editing it" in stale.content.decode()
    assert "mi versión" in stale.content.decode()
    assert Post.objects.get(pk=post.pk).text == "v2 de otra persona"


def test_sending_on_a_post_with_errors_keeps_it_as_a_draft(world: World) -> None:
    client = signed_in(world.cm)
    response = client.post(
        reverse("web:post-new"),
        form(world, text="b" * 301, channels=[world.bluesky.pk], action="submit"),
        follow=True,
    )
    post = Post.objects.get()
    assert post.state == PostState.DRAFT and post.text == "b" * 301
    page = html.unescape(response.content.decode())
    assert "Fix this before sending the post on:" in page and "@cafe.bsky.social" in page
    assert "Your changes are saved as a draft." in page


def test_a_contributor_proposes_but_never_schedules(world: World) -> None:
    client = signed_in(world.contributor)
    page = client.get(reverse("web:post-new")).content.decode()
    assert 'id="schedule-button"' not in page and 'id="submit-button"' in page

    refused = client.post(
        reverse("web:post-new"),
        form(
            world,
            text="Propuesta",
            channels=[world.sandbox.pk],
            scheduled_at=local(later()),
            action="schedule",
        ),
    )
    assert refused.status_code == 400 and not Post.objects.exists()
    assert "You may not publish posts; send it for review instead." in refused.content.decode()
    assert "Propuesta" in refused.content.decode()

    client.post(
        reverse("web:post-new"),
        form(
            world, text="Propuesta", channels=[world.sandbox.pk], scheduled_at=local(later()), action="submit"
        ),
    )
    post = Post.objects.get()
    assert post.state == PostState.IN_REVIEW and post.created_by == world.contributor
    assert (
        client.post(
            reverse("web:post-schedule", args=[post.pk]), {"scheduled_at": local(later())}
        ).status_code
        == 403
    )
    assert Post.objects.get(pk=post.pk).state == PostState.IN_REVIEW
    assert not DeliveryTarget.objects.exists()


def test_people_who_need_no_review_go_straight_on(world: World) -> None:
    client = signed_in(world.cm)
    page = client.get(reverse("web:post-new")).content.decode()
    assert 'id="no-review-note"' in page

    client.post(
        reverse("web:post-new"), form(world, text="Sin hora", channels=[world.sandbox.pk], action="submit")
    )
    assert Post.objects.get(text="Sin hora").state == PostState.APPROVED

    when = later()
    response = client.post(
        reverse("web:post-new"),
        form(
            world, text="Con hora", channels=[world.sandbox.pk], scheduled_at=local(when), action="schedule"
        ),
        follow=True,
    )
    post = Post.objects.get(text="Con hora")
    assert post.state == PostState.SCHEDULED and post.scheduled_at == when
    assert DeliveryTarget.objects.filter(post=post, state=TargetState.SCHEDULED).count() == 1
    assert "Scheduled for" in response.content.decode()

    missing = client.post(reverse("web:post-new"), form(world, text="Sin hora 2", action="schedule"))
    assert missing.status_code == 400 and "Choose when to publish it." in missing.content.decode()


# --- edits that reopen a post --------------------------------------------------------------------


def test_editing_a_scheduled_post_warns_and_sends_it_back_to_draft(world: World) -> None:
    client = signed_in(world.cm)
    client.post(
        reverse("web:post-new"),
        form(
            world,
            text="Programado",
            channels=[world.sandbox.pk],
            scheduled_at=local(later()),
            action="schedule",
        ),
    )
    post = Post.objects.get()
    assert post.state == PostState.SCHEDULED and DeliveryTarget.objects.filter(post=post).exists()

    edit = reverse("web:post-edit", args=[post.pk])
    page = client.get(edit).content.decode()
    assert 'id="reopen-warning"' in page and "Saving changes sends it back to draft" in page
    assert "data-confirm=" in page

    response = client.post(
        edit,
        form(
            world,
            text="Programado, corregido",
            channels=[world.sandbox.pk],
            scheduled_at=local(later()),
            version=post.version,
            action="save",
        ),
        follow=True,
    )
    post.refresh_from_db()
    assert post.state == PostState.DRAFT and post.text == "Programado, corregido"
    assert not DeliveryTarget.objects.filter(post=post).exclude(state=TargetState.CANCELLED).exists()
    assert "The post is a draft again" in response.content.decode()
    assert 'id="reopen-warning"' not in response.content.decode()  # a draft: nothing to warn about


def test_a_published_post_cannot_be_edited(world: World) -> None:
    post = create_post(by(world.cm), world.brand, DraftSpec(text="Publicado"))
    Post.objects.filter(pk=post.pk).update(state=PostState.PUBLISHED)
    response = signed_in(world.cm).get(reverse("web:post-edit", args=[post.pk]), follow=True)
    assert "cannot be edited; duplicate it" in response.content.decode()


# --- tenancy -------------------------------------------------------------------------------------


def test_other_organizations_posts_and_images_are_not_found(world: World) -> None:
    theirs = create_post(by(world.stranger), world.other_brand, DraftSpec(text="De otros"))
    their_image, _new = upload_image(
        by(world.stranger), world.other_brand, png(colour=(1, 2, 3)), "otra.png", "image/png"
    )
    client = signed_in(world.cm)
    for url in (
        reverse("web:post-edit", args=[theirs.pk]),
        reverse("web:post-detail", args=[theirs.pk]),
        reverse("web:media-file", args=[their_image.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (reverse("web:post-edit", args=[theirs.pk]), form(world, action="save")),
        (reverse("web:post-review", args=[theirs.pk]), {"action": "comment", "comment": "hola"}),
        (reverse("web:post-duplicate", args=[theirs.pk]), {}),
        (reverse("web:post-schedule", args=[theirs.pk]), {"scheduled_at": local(later())}),
        (reverse("web:post-cancel", args=[theirs.pk]), {}),
        (
            reverse("web:media-describe", args=[their_image.pk]),
            {"alt_text": "x", "focal_x": "0.5", "focal_y": "0.5"},
        ),
        (reverse("web:media-delete", args=[their_image.pk]), {}),
    ):
        assert client.post(url, data).status_code == 404, url
    # Their image cannot be slipped into a post of ours either.
    response = client.post(
        reverse("web:post-new"),
        form(world, channels=[world.sandbox.pk], images=[their_image.pk], action="save"),
    )
    assert response.status_code == 400 and not Post.objects.filter(brand=world.brand).exists()
    assert Post.objects.get(pk=theirs.pk).text == "De otros"
    assert MediaAsset.objects.filter(pk=their_image.pk, alt_text="").exists()


# --- the list --------------------------------------------------------------------------------------


def test_the_post_list_filters_by_state_and_author_newest_first(world: World) -> None:
    mine = create_post(by(world.cm), world.brand, DraftSpec(text="Borrador mío"))
    theirs = create_post(by(world.contributor), world.brand, DraftSpec(text="Borrador ajeno"))
    scheduled = create_post(by(world.cm), world.brand, DraftSpec(text="Ya programado"))
    Post.objects.filter(pk=scheduled.pk).update(state=PostState.SCHEDULED)
    create_post(by(world.stranger), world.other_brand, DraftSpec(text="De otra organización"))
    client = signed_in(world.cm)

    page = client.get(reverse("web:publish")).content.decode()
    assert page.index("Ya programado") < page.index("Borrador ajeno") < page.index("Borrador mío")
    assert "De otra organización" not in page and 'id="new-post"' in page and 'id="channel-table"' in page
    drafts = client.get(reverse("web:publish"), {"state": "drafts"}).content.decode()
    assert "Borrador mío" in drafts and "Borrador ajeno" in drafts and "Ya programado" not in drafts
    only_mine = client.get(reverse("web:publish"), {"state": "drafts", "mine": "1"}).content.decode()
    assert "Borrador mío" in only_mine and "Borrador ajeno" not in only_mine
    assert client.get(reverse("web:publish"), {"state": "bogus", "page": "x"}).status_code == 200
    assert mine.pk and theirs.pk

    analyst = make_member(world.org, Role.ANALYST)
    assert 'id="new-post"' not in signed_in(analyst).get(reverse("web:publish")).content.decode()
    assert signed_in(analyst).get(reverse("web:post-new")).status_code == 403


def test_the_post_list_pages_by_fifty(world: World) -> None:
    for n in range(55):
        Post.objects.create(
            organization=world.org, brand=world.brand, created_by=world.cm, text=f"Post número {n:02d}"
        )
    client = signed_in(world.cm)
    first = client.get(reverse("web:publish")).content.decode()
    assert "Post número 54" in first and "Post número 04" not in first and "page=2" in first
    second = client.get(reverse("web:publish"), {"page": "2"}).content.decode()
    assert "Post número 04" in second and "Post número 54" not in second


def anonymous_is_sent_to_sign_in(client: Client, url: str) -> bool:
    response = client.get(url)
    return response.status_code == 302 and reverse("web:login") in response["Location"]


def test_every_page_needs_sign_in(world: World) -> None:
    post = create_post(by(world.cm), world.brand, DraftSpec(text="x"))
    client = Client()
    for url in (
        reverse("web:post-new"),
        reverse("web:post-edit", args=[post.pk]),
        reverse("web:post-detail", args=[post.pk]),
        reverse("web:media"),
    ):
        assert anonymous_is_sent_to_sign_in(client, url), url


@pytest.mark.parametrize(
    ("value", "zone"),
    [("0001-01-01T00:30", "Europe/Berlin"), ("9999-12-31T23:30", "America/New_York")],
)
def test_times_at_the_ends_of_the_calendar_are_a_clear_error_not_a_crash(value: str, zone: str) -> None:
    import zoneinfo

    from django.core.exceptions import ValidationError

    from tertulia.web.forms_compose import parse_local

    with pytest.raises(ValidationError):
        parse_local(value, zoneinfo.ZoneInfo(zone))
