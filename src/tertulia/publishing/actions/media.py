"""The media library: upload an image once per brand, describe it, set its focal point, remove it.

An upload is inspected from its bytes (`imaging.intake`) before anything is written; the same file
uploaded again is the same asset, its description and focal point kept. Renditions are made when a
post is scheduled and never replaced, so changing the focal point changes future crops only.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.publishing.actions.compose import may_write
from tertulia.publishing.imaging.intake import ImageRefused, inspect_upload
from tertulia.publishing.models import MediaAsset, PostMedia

# X takes the shortest descriptions (1,000 characters); one limit for every network keeps an image
# usable everywhere it is posted.
MAX_ALT_TEXT = 1000
MAX_NAME = 255


class MediaRefused(ValueError):
    """The image cannot be stored or changed as asked; the message says what to do."""


def _person(actor: Actor, brand: Brand) -> User:
    user = actor.user
    if user is None or not may_write(user, brand):
        raise MediaRefused(_("You may not change this brand's media library."))
    return user


def _clean_alt(alt_text: str) -> str:
    alt_text = alt_text.strip()
    if len(alt_text) > MAX_ALT_TEXT:
        raise MediaRefused(
            _("The description has at most %(n)d characters (the shortest any network takes).")
            % {"n": MAX_ALT_TEXT}
        )
    if "\x00" in alt_text:
        raise MediaRefused(_("The description contains a NUL character, which no network accepts."))
    return alt_text


def _clean_focus(value: float) -> float:
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise MediaRefused(_("The focal point must be inside the image."))
    return value


def upload_image(
    actor: Actor, brand: Brand, data: bytes, name: str = "", declared_type: str = "", alt_text: str = ""
) -> tuple[MediaAsset, bool]:
    """Store an image in the brand's library. Returns the asset and whether it is new."""
    user = _person(actor, brand)
    alt_text = _clean_alt(alt_text)
    try:
        facts = inspect_upload(data, name, declared_type)
    except ImageRefused as error:
        raise MediaRefused(str(error)) from None
    existing = MediaAsset.objects.filter(brand=brand, sha256=facts.sha256).first()
    if existing is not None:
        return existing, False
    asset = MediaAsset(
        organization=brand.organization,
        brand=brand,
        uploaded_by=user,
        original_name=name.replace("\x00", "")[:MAX_NAME],
        mime_type=facts.mime_type,
        width=facts.width,
        height=facts.height,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        alt_text=alt_text,
    )
    # The file is named by its content, so writing it before the row is safe: a failed insert
    # leaves at most a file some other upload of the same bytes will use.
    asset.file.save("upload", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            asset.save()
            record(actor, brand.organization, "media.uploaded", asset, {"name": [None, asset.original_name]})
    except IntegrityError:
        # The same file, uploaded at the same moment by someone else: theirs is the asset.
        return MediaAsset.objects.get(brand=brand, sha256=facts.sha256), False
    return asset, True


@transaction.atomic
def describe_image(
    actor: Actor,
    asset: MediaAsset,
    *,
    alt_text: str | None = None,
    focal_x: float | None = None,
    focal_y: float | None = None,
) -> MediaAsset:
    """Change an image's description or focal point (what is not given stays)."""
    _person(actor, asset.brand)
    asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
    changes: dict[str, list[object]] = {}
    for name, value in (
        ("alt_text", None if alt_text is None else _clean_alt(alt_text)),
        ("focal_x", None if focal_x is None else _clean_focus(focal_x)),
        ("focal_y", None if focal_y is None else _clean_focus(focal_y)),
    ):
        if value is not None and getattr(asset, name) != value:
            changes[name] = [getattr(asset, name), value]
            setattr(asset, name, value)
    if changes:
        asset.save(update_fields=list(changes))
        record(actor, asset.organization, "media.described", asset, changes)
    return asset


@transaction.atomic
def delete_image(actor: Actor, asset: MediaAsset) -> None:
    """Remove an image no post uses (a post's images stay as long as the post)."""
    _person(actor, asset.brand)
    if PostMedia.objects.filter(asset=asset).exists():
        raise MediaRefused(_("A post uses this image: remove it from the post first."))
    record(actor, asset.organization, "media.deleted", asset, {"name": [asset.original_name, None]})
    asset.delete()
