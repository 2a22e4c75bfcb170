"""Renditions of library images for a network and placement, made once and kept in storage."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from tertulia.publishing.imaging import renditions as imaging
from tertulia.publishing.models import MediaAsset, Rendition
from tertulia.publishing.rules.placements import Placement

# Largest image each network accepts, in bytes (renditions are compressed to fit).
IMAGE_BYTES: dict[str, int] = {
    "bluesky": 976_560,  # the lexicon's blob limit for images
    "x": 5 * 1024 * 1024,
    "mastodon": 8 * 1024 * 1024,  # the default instance limit is 16 MB; 8 MB keeps uploads quick
    "instagram": 8 * 1024 * 1024,
    "facebook": 4 * 1024 * 1024,
    "linkedin": 5 * 1024 * 1024,
    "sandbox": 5 * 1024 * 1024,
}
DEFAULT_IMAGE_BYTES = 5 * 1024 * 1024
# Networks that take JPEG only (Instagram refuses PNG): transparency is flattened for them.
JPEG_ONLY = frozenset({"instagram"})


def rendition_for(asset: MediaAsset, network: str, placement: Placement) -> Rendition:
    """The asset cropped around its focal point for `placement`, within the network's size limit.

    Raises `ImageRefused` (a ValueError) with a translated message if it cannot fit.
    """
    max_bytes = IMAGE_BYTES.get(network, DEFAULT_IMAGE_BYTES)
    fmt = "jpeg" if network in JPEG_ONLY else "auto"
    # Renditions are never replaced: a payload frozen at scheduling keeps pointing at the one it
    # was made with, even after the focal point moves (a new focal point makes a new rendition).
    made_for = Rendition.objects.filter(
        asset=asset, placement=placement, max_bytes=max_bytes, focal_x=asset.focal_x, focal_y=asset.focal_y
    )
    found = made_for.filter(mime_type="image/jpeg").first() if fmt == "jpeg" else made_for.first()
    if found is not None:
        return found
    with default_storage.open(asset.file.name, "rb") as handle:
        made = imaging.render(
            handle.read(), placement, asset.focal_x, asset.focal_y, max_bytes=max_bytes, fmt=fmt
        )
    rendition = Rendition(
        asset=asset,
        placement=placement,
        max_bytes=max_bytes,
        focal_x=asset.focal_x,
        focal_y=asset.focal_y,
        mime_type=made.mime_type,
        width=made.width,
        height=made.height,
        size_bytes=made.size_bytes,
    )
    try:
        with transaction.atomic():
            rendition.file.save("rendition", ContentFile(made.data), save=False)
            rendition.save()
    except IntegrityError:  # another worker made the same one at the same moment
        rendition.file.delete(save=False)
        return made_for.get(mime_type=made.mime_type)
    return rendition
