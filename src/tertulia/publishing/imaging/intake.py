"""What an uploaded file is, decided from its bytes, or why Tertulia will not take it.

The name and the type the browser declares are hints at most: anyone can call an HTML page
`photo.png`. Pillow decodes the bytes, restricted to the four formats every network accepts,
and the checks run cheapest first, so a hostile file is turned away before it is decoded:
size in bytes, then the pixel count from the header (decompression bombs), then a full decode.
Nothing here changes the image; renditions strip metadata when they make copies.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageFile

MEGABYTE = 1_000_000  # decimal, as the networks state their limits
MAX_UPLOAD_BYTES = 30 * MEGABYTE
MAX_PIXELS = 50_000_000
MIN_SIDE = 200  # networks reject smaller images, or show them blurred
MAX_ASPECT_RATIO = 10  # longer side over shorter side; beyond it no placement can show the subject

# Pillow's names for what it decoded, and the MIME type Tertulia stores. MPO is how Pillow reads
# a JPEG with extra pictures in it (phones store depth maps and previews that way): still a JPEG.
MIME_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# Only these decoders are tried: less of Pillow is exposed to uploads, and nothing else gets in.
_DECODERS = ("JPEG", "PNG", "GIF", "WEBP")
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")

# What Pillow's decoders raise on malformed input. Broad on purpose: only Pillow runs inside these
# handlers, and whatever a hostile file makes it raise means "damaged", not a bug of ours.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    struct.error,
)
# The warning is a RuntimeWarning and may be an error or not depending on the warning filters in force:
# either way the header check below refuses the image, so both are caught rather than filters changed.
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

_ORIENTATIONS_SWAPPING_SIDES = frozenset({5, 6, 7, 8})


class ImageRefused(ValueError):
    """An upload or rendition Tertulia will not use; the message tells the person what to do."""


@dataclass(frozen=True)
class ImageFacts:
    mime_type: str
    # As people see it: after the EXIF orientation, which is what focal points refer to.
    width: int
    height: int
    size_bytes: int
    sha256: str
    animated: bool
    # Whether some pixel (of the first frame) is not fully opaque; an alpha channel that is
    # opaque everywhere does not count, so such images can become JPEG renditions.
    has_transparency: bool


def inspect_upload(data: bytes, declared_name: str = "", declared_type: str = "") -> ImageFacts:
    """The facts about an uploaded image, or `ImageRefused` with a message the uploader can act on.

    `declared_name` and `declared_type` only choose a more helpful message for a file that cannot
    be decoded (an SVG); whether and as what a file is accepted depends on its bytes alone.
    """
    if not data:
        raise ImageRefused(_("The file is empty: choose the image again and upload it."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(
            _(
                "The file is %(size)s MB and the most Tertulia accepts is %(limit)s MB: "
                "export a smaller image and upload it again."
            )
            % {"size": in_megabytes(len(data)), "limit": in_megabytes(MAX_UPLOAD_BYTES)}
        )
    with open_image(data, declared_name, declared_type) as probe:
        _check_shape(*probe.size)
        # verify() checks what it can without decoding (PNG checksums); the file must be reopened after.
        with refusing_damage():
            probe.verify()
    with loaded_image(data) as image:
        with refusing_damage():
            has_transparency = has_transparent_pixels(image)
            # MPO's extra pictures are not frames of an animation.
            animated = image.format != "MPO" and bool(getattr(image, "is_animated", False))
        width, height = upright_size(image)
        mime_type = MIME_TYPES[str(image.format)]
    return ImageFacts(
        mime_type=mime_type,
        width=width,
        height=height,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        animated=animated,
        has_transparency=has_transparency,
    )


@contextmanager
def open_image(
    data: bytes, declared_name: str = "", declared_type: str = ""
) -> Iterator[ImageFile.ImageFile]:
    """`data` opened (header read, pixels not decoded) if it is a format and size Tertulia handles."""
    try:
        image = Image.open(BytesIO(data), formats=_DECODERS)
    except _BOMB_ERRORS:
        raise ImageRefused(_too_many_pixels()) from None
    except _DECODE_ERRORS:
        raise ImageRefused(_undecodable(data, declared_name, declared_type)) from None
    with image:
        width, height = image.size
        # Pillow only objects from 89 megapixels (and only warns up to twice that): our limit is lower,
        # and checking the header here means no call decodes a bomb, whatever the global settings.
        if width * height > MAX_PIXELS:
            raise ImageRefused(_too_many_pixels())
        yield image


@contextmanager
def loaded_image(data: bytes) -> Iterator[ImageFile.ImageFile]:
    """The first frame of `data`, decoded, after the same safety checks as an upload."""
    with open_image(data) as image:
        # A file cut short fails here, unless some code set Pillow's process-wide switch
        # ImageFile.LOAD_TRUNCATED_IMAGES (Tertulia never does): then it decodes with grey at the end.
        with refusing_damage():
            image.load()
        yield image


@contextmanager
def refusing_damage() -> Iterator[None]:
    """Decoding errors, whatever Pillow raises for them, as `ImageRefused`."""
    try:
        yield
    except _BOMB_ERRORS:
        raise ImageRefused(_too_many_pixels()) from None
    except _DECODE_ERRORS:
        raise ImageRefused(_damaged()) from None


def has_transparent_pixels(image: Image.Image) -> bool:
    """Whether any pixel is less than fully opaque, without converting big images where avoidable."""
    if not image.has_transparency_data:
        return False
    if "A" in image.getbands():
        alpha = image.getextrema()[image.getbands().index("A")]
        assert isinstance(alpha, tuple)  # one (min, max) pair per band for images with several bands
        return int(alpha[0]) < 255
    key = image.info.get("transparency")
    if image.mode == "P" and isinstance(key, int):  # one palette entry is transparent (GIF, PNG)
        return image.histogram()[key] > 0
    if image.mode == "P" and isinstance(key, bytes):  # an alpha value per palette entry (PNG tRNS)
        used = image.histogram()
        return any(used[index] and alpha < 255 for index, alpha in enumerate(key))
    # A colour key on a greyscale or RGB image: rare enough to afford the conversion.
    return has_transparent_pixels(image.convert("RGBA"))


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 is upright); unreadable EXIF counts as upright, as browsers do."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) else 1


def upright_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as people see the image, once turned as its EXIF orientation says."""
    width, height = image.size
    if orientation(image) in _ORIENTATIONS_SWAPPING_SIDES:
        return height, width
    return width, height


def in_megabytes(size: int) -> str:
    """A byte count in (decimal) megabytes, written the way the reader's language writes numbers.

    Rounded up to a tenth, so that a file just over a limit never reads as the limit itself.
    """
    if size % MEGABYTE == 0:
        return number_format(size // MEGABYTE)
    return number_format(math.ceil(size * 10 / MEGABYTE) / 10, decimal_pos=1)


def _check_shape(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise ImageRefused(
            _(
                "The image is %(width)d×%(height)d pixels and networks need at least %(minimum)d "  # noqa: RUF001 - the multiplication sign, as sizes are written
                "pixels on each side: upload a larger version."
            )
            % {"width": width, "height": height, "minimum": MIN_SIDE}
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageRefused(
            _(
                "The image is too long and narrow (%(width)d×%(height)d pixels): crop it so that its "  # noqa: RUF001 - the multiplication sign, as sizes are written
                "longer side is at most %(ratio)d times its shorter side."
            )
            % {"width": width, "height": height, "ratio": MAX_ASPECT_RATIO}
        )


def _undecodable(data: bytes, declared_name: str, declared_type: str) -> str:
    if _looks_like_svg(data, declared_name, declared_type):
        return _(
            "SVG drawings can contain scripts, so Tertulia does not publish them: export the drawing "
            "as PNG (or JPEG, GIF or WebP) and upload that."
        )
    if data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return _damaged()
    return _("This is not an image Tertulia can publish: use JPEG, PNG, GIF or WebP.")


def _looks_like_svg(data: bytes, declared_name: str, declared_type: str) -> bool:
    declared_svg = declared_type.strip().lower().startswith("image/svg")
    if declared_svg or declared_name.lower().endswith((".svg", ".svgz")):
        return True
    # An XML prologue or comments may come first; the root element is near the start.
    return b"<svg" in data[:4096].lower()


def _damaged() -> str:
    return _("The file is damaged or incomplete: export or download the image again and upload it.")


def _too_many_pixels() -> str:
    return _("The image has more than %(limit)d megapixels: scale it down and upload it again.") % {
        "limit": MAX_PIXELS // 1_000_000
    }
