"""What the sandbox accepts as text and media: the checks a real network's API makes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from tertulia.connectors.base import ContentRejected, MediaItem

MAX_POST_LENGTH = 500
MAX_MESSAGE_LENGTH = 10_000
MAX_MEDIA_PER_POST = 4
MAX_MEDIA_BYTES = 5 * 1024 * 1024
MAX_ALT_TEXT_LENGTH = 1_500

# Leading bytes of each accepted format: a file that claims to be a PNG must be one.
IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


@dataclass(frozen=True)
class MediaSpec:
    """What the network keeps of an image: its description, never its bytes."""

    mime_type: str
    size_bytes: int
    sha256: str
    alt_text: str = ""


def check_text(text: str, limit: int) -> None:
    """Accept any Unicode a person can type, verbatim; refuse what no database can store."""
    if "\x00" in text:
        raise ContentRejected(_("The text contains a NUL character, which the network does not accept."))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ContentRejected(_("The text is not valid Unicode (it contains unpaired surrogates).")) from None
    if len(text) > limit:
        raise ContentRejected(
            _("The text is %(length)d characters long; the sandbox accepts at most %(limit)d.")
            % {"length": len(text), "limit": limit}
        )


def check_media(items: Sequence[MediaItem]) -> list[MediaSpec]:
    if len(items) > MAX_MEDIA_PER_POST:
        raise ContentRejected(_("A post can carry at most %(limit)d images.") % {"limit": MAX_MEDIA_PER_POST})
    specs = []
    for item in items:
        mime = item.mime_type.strip().lower()
        signatures = IMAGE_SIGNATURES.get(mime)
        if signatures is None:
            raise ContentRejected(
                _("The sandbox accepts PNG, JPEG, GIF and WebP images only, not %(mime)s.")
                % {"mime": mime[:64]}
            )
        if len(item.data) > MAX_MEDIA_BYTES:
            raise ContentRejected(
                _("An image may weigh at most 5 MB; this one weighs %(size).1f MB.")
                % {"size": len(item.data) / (1024 * 1024)}
            )
        if not item.data.startswith(signatures) or (mime == "image/webp" and item.data[8:12] != b"WEBP"):
            raise ContentRejected(_("The file's contents are not a %(mime)s image.") % {"mime": mime})
        check_text(item.alt_text, MAX_ALT_TEXT_LENGTH)
        specs.append(
            MediaSpec(
                mime_type=mime,
                size_bytes=len(item.data),
                sha256=hashlib.sha256(item.data).hexdigest(),
                alt_text=item.alt_text,
            )
        )
    return specs
