"""The media library on the web: upload, describe, focal point and crops, delete, and serving the files."""

from __future__ import annotations

import html
import io

import pytest
from django.http import FileResponse
from django.test import Client
from django.urls import reverse

from tertulia.core.models import Role
from tertulia.core.tests.factories import make_member
from tertulia.publishing.actions.compose import DraftSpec, create_post
from tertulia.publishing.actions.media import upload_image
from tertulia.publishing.models import MediaAsset
from tertulia.publishing.rules.placements import Placement
from tertulia.web.tests.helpers import signed_in
from tertulia.web.tests.test_compose_pages import World, by, image, make_world, png
from tertulia.web.views.media import crop_position

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world(db) -> World:
    return make_world()


def a_file(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_the_library_shows_each_image_with_its_crops_and_a_missing_description(world: World) -> None:
    described = image(world, (200, 10, 10), alt="Una <taza> de café")
    bare = image(world, (10, 200, 10), alt="")
    page = signed_in(world.cm).get(reverse("web:media")).content.decode()
    assert f'id="asset-{described.pk}"' in page and f'id="asset-{bare.pk}"' in page
    assert 'alt="Una &lt;taza&gt; de café"' in page and "<taza>" not in page
    assert page.count("No description yet") == 1
    assert page.count('class="crop crop-story"') == 2 and 'data-aspect="1.91"' in page
    assert 'id="upload-form"' in page and "compose.js" in page and "publish.css" in page

    # Someone who may not write sees the images, not the forms.
    looked = signed_in(make_member(world.org, Role.ANALYST)).get(reverse("web:media")).content.decode()
    assert f'id="asset-{described.pk}"' in looked and 'id="upload-form"' not in looked
    assert "data-focal-form" not in looked


def test_an_upload_lands_in_the_brands_library(world: World) -> None:
    client = signed_in(world.cm)
    response = client.post(
        reverse("web:media-upload"), {"image_file": a_file(png(), "foto.png"), "image_alt": "Fachada"}
    )
    asset = MediaAsset.objects.get(brand=world.brand)
    assert response.status_code == 302 and response["Location"].endswith(f"#asset-{asset.pk}")
    assert (asset.alt_text, asset.original_name, asset.mime_type) == ("Fachada", "foto.png", "image/png")
    again = client.post(reverse("web:media-upload"), {"image_file": a_file(png(), "otra.png")}, follow=True)
    assert MediaAsset.objects.count() == 1 and "already in the library" in again.content.decode()


def test_a_file_that_is_not_an_image_is_refused_in_the_persons_language(world: World) -> None:
    world.cm.language = "es"
    world.cm.save()
    client = signed_in(world.cm)
    typed = "Mi descripción"
    response = client.post(
        reverse("web:media-upload"),
        {"image_file": a_file(b"<html><script>alert(1)</script></html>", "foto.png"), "image_alt": typed},
    )
    page = html.unescape(response.content.decode())
    assert response.status_code == 400 and not MediaAsset.objects.exists()
    assert "Esto no es una imagen que Tertulia pueda publicar: usa JPEG, PNG, GIF o WebP." in page
    assert typed in page
    # The composer's own upload says the same, and keeps the post being written.
    composed = client.post(
        reverse("web:post-new"),
        {
            "brand": world.brand.pk,
            "text": "Mi texto",
            "image_file": a_file(b"GIF89a no", "x.gif"),
            "action": "upload",
        },
    )
    shown = html.unescape(composed.content.decode())
    assert composed.status_code == 400 and "Mi texto" in shown
    assert "El archivo está dañado" in shown or "Esto no es una imagen" in shown


def test_the_description_and_focal_point_are_saved(world: World) -> None:
    asset = image(world, alt="")
    client = signed_in(world.cm)
    url = reverse("web:media-describe", args=[asset.pk])
    response = client.post(url, {"alt_text": "  Taza azul  ", "focal_x": "0.9", "focal_y": "0.25"})
    asset.refresh_from_db()
    assert response.status_code == 302
    assert (asset.alt_text, asset.focal_x, asset.focal_y) == ("Taza azul", 0.9, 0.25)
    page = client.get(reverse("web:media")).content.decode()
    # The marker sits on the point; an 800x600 image's square crop goes as far right as it can.
    assert 'class="focal-marker fx-90 fy-25"' in page
    assert 'class="fx-100 fy-50" data-aspect="1.0"' in page

    refused = client.post(url, {"alt_text": "Texto que quiero conservar", "focal_x": "1.5", "focal_y": "0.5"})
    assert refused.status_code == 400 and "Texto que quiero conservar" in refused.content.decode()
    too_long = client.post(url, {"alt_text": "a" * 1001, "focal_x": "0.5", "focal_y": "0.5"})
    assert too_long.status_code == 400 and "The description has at most 1000 characters" in html.unescape(
        too_long.content.decode()
    )
    asset.refresh_from_db()
    assert (asset.alt_text, asset.focal_x) == ("Taza azul", 0.9)


def test_crops_follow_the_focal_point_as_renditions_do() -> None:
    wide = MediaAsset(width=1600, height=800, focal_x=0.0, focal_y=0.5)
    assert crop_position(wide, Placement.SQUARE) == (0, 50)
    wide.focal_x = 0.5
    assert crop_position(wide, Placement.SQUARE) == (50, 50)
    wide.focal_x = 0.8  # the box (800 wide) centred on x=1280 is pushed back to the right edge
    assert crop_position(wide, Placement.SQUARE) == (100, 50)
    tall = MediaAsset(width=800, height=1600, focal_x=0.5, focal_y=0.25)  # box 800 high around y=400
    assert crop_position(tall, Placement.SQUARE) == (50, 0)
    assert crop_position(tall, Placement.STORY) == (50, 0)  # 1422 high around y=400: from the top
    tall.focal_y = 0.46  # around y=736: starts at 25 of the 178 pixels to spare
    assert crop_position(tall, Placement.STORY) == (50, 14)
    broken = MediaAsset(width=800, height=600, focal_x=float("nan"), focal_y=0.5)
    assert crop_position(broken, Placement.SQUARE) == (50, 50)


def test_an_image_in_use_cannot_be_deleted_others_can(world: World) -> None:
    used, spare = image(world, (1, 1, 1)), image(world, (2, 2, 2))
    create_post(by(world.cm), world.brand, DraftSpec(text="Con foto", media=(used.pk,)))
    client = signed_in(world.cm)
    assert (
        "A post uses this image, so it cannot be deleted."
        in client.get(reverse("web:media")).content.decode()
    )
    refused = client.post(reverse("web:media-delete", args=[used.pk]), follow=True)
    assert "A post uses this image: remove it from the post first." in refused.content.decode()
    client.post(reverse("web:media-delete", args=[spare.pk]))
    assert set(MediaAsset.objects.values_list("pk", flat=True)) == {used.pk}

    contributor_image = image(world, (3, 3, 3))
    analyst = signed_in(make_member(world.org, Role.ANALYST))
    analyst.post(reverse("web:media-delete", args=[contributor_image.pk]))
    assert MediaAsset.objects.filter(pk=contributor_image.pk).exists()


def test_files_are_served_to_members_of_their_organization_only(world: World) -> None:
    asset = image(world)
    url = reverse("web:media-file", args=[asset.pk])
    response = signed_in(world.contributor).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == asset.file.open("rb").read()

    assert signed_in(world.stranger).get(url).status_code == 404
    theirs, _new = upload_image(
        by(world.stranger), world.other_brand, png(colour=(9, 9, 9)), "x.png", "image/png"
    )
    assert signed_in(world.cm).get(reverse("web:media-file", args=[theirs.pk])).status_code == 404
    assert signed_in(world.cm).get(reverse("web:media-file", args=[999_999])).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and reverse("web:login") in anonymous["Location"]
    # Someone who left the organization loses the images with it.
    member = make_member(world.org, Role.ANALYST)
    member.memberships.update(is_active=False)
    assert signed_in(member).get(url).status_code == 404
