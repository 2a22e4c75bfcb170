"""The media library: uploads checked from their bytes, one asset per file, descriptions, focal points."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import make_member
from tertulia.publishing.actions.compose import DraftSpec, create_post
from tertulia.publishing.actions.media import (
    MAX_ALT_TEXT,
    MediaRefused,
    delete_image,
    describe_image,
    upload_image,
)
from tertulia.publishing.models import MediaAsset


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def by(user) -> Actor:
    return Actor(user=user, via="web")


def png(size=(800, 600), colour=(10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_upload_is_stored_once_with_its_facts(brand, author):
    data = png()
    asset, created = upload_image(
        by(author), brand, data, "../../etc/<b>foto</b>.png", "image/png", "Un cartel"
    )
    assert created and asset.mime_type == "image/png" and (asset.width, asset.height) == (800, 600)
    assert asset.original_name == "../../etc/<b>foto</b>.png"  # kept verbatim, rendered escaped
    assert "etc" not in asset.file.name and asset.sha256 in asset.file.name
    again, created_again = upload_image(by(author), brand, data, "otra.png")
    assert again.pk == asset.pk and not created_again and again.alt_text == "Un cartel"
    assert AuditEntry.objects.filter(action="media.uploaded").count() == 1


def test_what_is_not_an_image_is_refused_with_a_clear_message_and_nothing_stored(brand, author):
    with pytest.raises(MediaRefused, match="SVG"):
        upload_image(
            by(author), brand, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "image/svg+xml"
        )
    with pytest.raises(MediaRefused, match="empty"):
        upload_image(by(author), brand, b"", "nada.png")
    assert not MediaAsset.objects.exists()


def test_description_and_focal_point_are_checked(brand, author):
    asset, _ = upload_image(by(author), brand, png())
    described = describe_image(by(author), asset, alt_text="  Fachada  ", focal_x=0.2, focal_y=0.9)
    assert (described.alt_text, described.focal_x, described.focal_y) == ("Fachada", 0.2, 0.9)
    with pytest.raises(MediaRefused, match=str(MAX_ALT_TEXT)):
        describe_image(by(author), asset, alt_text="a" * (MAX_ALT_TEXT + 1))
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(MediaRefused, match="inside the image"):
            describe_image(by(author), asset, focal_x=bad)
    assert MediaAsset.objects.get(pk=asset.pk).focal_x == 0.2


def test_an_image_a_post_uses_cannot_be_deleted(brand, author):
    asset, _ = upload_image(by(author), brand, png())
    create_post(by(author), brand, DraftSpec(text="Con foto", media=[asset.pk]))
    with pytest.raises(MediaRefused, match="uses this image"):
        delete_image(by(author), asset)
    unused, _ = upload_image(by(author), brand, png(colour=(1, 2, 3)))
    delete_image(by(author), unused)
    assert not MediaAsset.objects.filter(pk=unused.pk).exists()


def test_people_who_may_not_write_posts_cannot_change_the_library(brand, author, org):
    analyst = make_member(org, Role.ANALYST, email="analista@example.com")
    with pytest.raises(MediaRefused):
        upload_image(by(analyst), brand, png())
    asset, _ = upload_image(by(author), brand, png())
    with pytest.raises(MediaRefused):
        describe_image(by(analyst), asset, alt_text="no")
    with pytest.raises(MediaRefused):
        delete_image(by(analyst), asset)
