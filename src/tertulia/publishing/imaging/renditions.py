"""One image cut and sized for one placement on one network, small enough for that network.

The steps, in order: decode (with the intake's safety checks), turn upright (EXIF orientation),
convert to sRGB, crop the largest region of the placement's shape around the focal point, scale
down (never up), drop every piece of metadata, and encode, giving up quality and then size until
the file fits the network's limit. The same input always gives the same bytes: a rendition made
again is the same file, and can be compared by hash.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFile, ImageOps

from tertulia.publishing.imaging.intake import (
    MIN_SIDE,
    ImageRefused,
    has_transparent_pixels,
    in_megabytes,
    open_image,
    refusing_damage,
    upright_size,
)
from tertulia.publishing.rules.placements import Placement

# Quality gives way first: below 40 JPEG artefacts show, and a smaller sharp image looks better.
JPEG_QUALITIES = (90, 85, 80, 75, 70, 60, 50, 40)
# Each further try keeps this share of the width and height (about half the pixels every two tries).
SHRINK_FACTOR = 0.85
FORMATS = ("auto", "jpeg", "png")
# How much larger than the target a reduced decode must still be.
_DECODE_MARGIN = 2.0

_SRGB = ImageCms.createProfile("sRGB")
_SIXTEEN_BIT_GREY = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
# Profiles that lcms cannot read or apply to these pixels: the colours are then left as they are.
_COLOUR_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)


@dataclass(frozen=True)
class Rendition:
    data: bytes
    mime_type: str
    width: int
    height: int

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def render(
    data: bytes,
    placement: Placement,
    focal_x: float,
    focal_y: float,
    *,
    max_bytes: int,
    fmt: str = "auto",
) -> Rendition:
    """A rendition of the image in `data` for `placement`, at most `max_bytes` long.

    The focal point (`focal_x`, `focal_y`, from 0 to 1, from the top-left corner of the upright
    image) stays as near the centre of the crop as the image's edges allow. `fmt` is "jpeg",
    "png", or "auto": PNG if some pixel in the crop is transparent, JPEG otherwise. Animated
    images (GIF, WebP, APNG) give a still of their first frame: no network takes an animation
    in every placement, and a still is what a crop can be made of.

    Raises `ImageRefused` if the image cannot be decoded or made to fit `max_bytes`, and
    `ValueError` for arguments out of range (a bug in the caller, not the person's doing).
    """
    _check_focal_point(focal_x, focal_y)
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    # The shape of the target size, not the ratio as documented (1.91:1 is not quite 1200 by 628):
    # then scaling the crop to that size cannot stretch it.
    target_width, target_height = placement.size
    aspect = target_width / target_height
    with open_image(data) as image:
        _decode_no_larger_than_needed(image, placement.size, aspect, focal_x, focal_y)
        with refusing_damage():
            image.load()
            upright = _upright(image)
    pixels = _in_srgb(upright)
    box = crop_box(pixels.width, pixels.height, aspect, focal_x, focal_y)
    framed = _crop_and_scale(pixels, box, placement.size)
    # Crops and resizes carry the source's `info` along: EXIF (with GPS position), XMP, comments,
    # colour profile. Encoders read some of it from there, so the copy we own is emptied.
    framed.info = {}
    transparent = has_transparent_pixels(framed)
    if fmt == "png" or (fmt == "auto" and transparent):
        return _fit_png(framed if transparent else framed.convert("RGB"), max_bytes)
    return _fit_jpeg(_flattened(framed), max_bytes)


def crop_box(
    width: int, height: int, aspect: float, focal_x: float, focal_y: float
) -> tuple[int, int, int, int]:
    """The largest box (left, top, right, bottom) of shape `aspect` (width/height) in the image.

    It spans the whole image in one direction; in the other it is centred on the focal point,
    pushed back inside where the point is near an edge. Sides are rounded to whole pixels, so
    the box's shape is `aspect` to within a pixel, and it always contains the focal point.
    """
    if width < 1 or height < 1:
        raise ValueError(f"the image must have pixels, not {width}x{height}")
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect must be a positive number, not {aspect}")
    _check_focal_point(focal_x, focal_y)
    if width >= height * aspect:  # wider than the target: keep the full height
        box_width = min(width, max(1, round(height * aspect)))
        left = _centred(focal_x * width, box_width, width)
        return (left, 0, left + box_width, height)
    box_height = min(height, max(1, round(width / aspect)))
    top = _centred(focal_y * height, box_height, height)
    return (0, top, width, top + box_height)


def _centred(focus: float, length: int, bound: int) -> int:
    """The start of a segment of `length` centred on `focus`, moved inside [0, bound]."""
    return min(max(round(focus - length / 2), 0), bound - length)


def _check_focal_point(focal_x: float, focal_y: float) -> None:
    # Written so that NaN fails too.
    if not (0.0 <= focal_x <= 1.0 and 0.0 <= focal_y <= 1.0):
        raise ValueError(f"the focal point must be within 0..1, not ({focal_x}, {focal_y})")


def _decode_no_larger_than_needed(
    image: ImageFile.ImageFile, size: tuple[int, int], aspect: float, focal_x: float, focal_y: float
) -> None:
    """Let the JPEG decoder scale down by 2, 4 or 8 as it decodes, if the crop stays big enough.

    A 50-megapixel photo takes 150 MB decoded; cut for a 1080-pixel square, a quarter of that
    is plenty. The crop is kept at least twice the target size (as Pillow's thumbnail() does) so the
    final Lanczos pass still has detail to work with. Other formats ignore the request.
    """
    width, height = upright_size(image)
    left, top, right, bottom = crop_box(width, height, aspect, focal_x, focal_y)
    scale = _DECODE_MARGIN * max(size[0] / (right - left), size[1] / (bottom - top))
    if scale >= 1:
        return
    wanted = (math.ceil(width * scale), math.ceil(height * scale))
    if (width, height) != image.size:  # the decoder works on the image as stored, on its side
        wanted = (wanted[1], wanted[0])
    image.draft(None, wanted)


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        # Unreadable EXIF: shown as stored, which is what the intake reported as its size.
        return image.copy()


def _in_srgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA if the image can be transparent, in sRGB: what every network displays.

    Dropping a colour profile without converting would shift colours (wide-gamut phone photos
    look dull, CMYK exports look wrong), so pixels are converted while the profile is known.
    """
    if image.mode in _SIXTEEN_BIT_GREY:
        # Pillow clips 16-bit values to 8 bits when converting; scaling keeps the tones.
        image = image.point(lambda value: value * (1 / 256)).convert("L")
    mode = "RGBA" if image.has_transparency_data else "RGB"
    profile = image.info.get("icc_profile")
    if profile:
        source = image if image.mode in ("CMYK", mode) else image.convert(mode)
        try:
            converted = ImageCms.profileToProfile(
                source, ImageCms.ImageCmsProfile(BytesIO(profile)), _SRGB, outputMode=mode
            )
        except _COLOUR_ERRORS:
            converted = None
        if converted is not None:
            return converted
    return image if image.mode == mode else image.convert(mode)


def _crop_and_scale(image: Image.Image, box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
    left, top, right, bottom = box
    if right - left >= size[0] and bottom - top >= size[1]:
        # reducing_gap first shrinks by whole factors (fast), then Lanczos does the rest:
        # indistinguishable from Lanczos alone at 3.0, and much faster on 50-megapixel photos.
        return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    # Smaller than the placement asks: networks scale up better than a file of invented pixels.
    return image.crop(box)


def _flattened(image: Image.Image) -> Image.Image:
    """The image on white, for JPEG (which has no transparency): white is what most feeds show."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def _fit_jpeg(image: Image.Image, max_bytes: int) -> Rendition:
    for candidate in _smaller_and_smaller(image):
        encoded = _best_jpeg_within(candidate, max_bytes)
        if encoded is not None:
            return Rendition(encoded, "image/jpeg", candidate.width, candidate.height)
    raise _cannot_fit(max_bytes)


def _best_jpeg_within(image: Image.Image, max_bytes: int) -> bytes | None:
    """The image at the best quality of the ladder that fits, or None if not even the lowest does."""
    best, *middle, lowest = JPEG_QUALITIES
    encoded = _jpeg(image, best)
    if len(encoded) <= max_bytes:
        return encoded  # most photos: a single encoding
    smallest = _jpeg(image, lowest)
    if len(smallest) > max_bytes:
        return None  # no need to try the qualities in between at this size
    for quality in middle:
        encoded = _jpeg(image, quality)
        if len(encoded) <= max_bytes:
            return encoded
    return smallest


def _fit_png(image: Image.Image, max_bytes: int) -> Rendition:
    for candidate in _smaller_and_smaller(image):
        encoded = _png(candidate)
        if len(encoded) <= max_bytes:
            return Rendition(encoded, "image/png", candidate.width, candidate.height)
    raise _cannot_fit(max_bytes)


def _smaller_and_smaller(image: Image.Image) -> Iterator[Image.Image]:
    """The image, then smaller copies, down to the smallest size networks accept.

    Each copy is scaled from the full-size image, not from the previous copy, so blur does not pile up.
    """
    yield image
    scale = SHRINK_FACTOR
    while min(image.width, image.height) * scale >= MIN_SIDE:
        yield image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
        scale *= SHRINK_FACTOR


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = BytesIO()
    # optimize: smaller Huffman tables, same pixels. No exif/icc_profile arguments: none are written.
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _cannot_fit(max_bytes: int) -> ImageRefused:
    return ImageRefused(
        _(
            "This image cannot be made smaller than %(limit)s MB, the most this network accepts, "
            "without losing too much detail: crop it or export it at a smaller size and upload it again."
        )
        % {"limit": in_megabytes(max_bytes)}
    )
