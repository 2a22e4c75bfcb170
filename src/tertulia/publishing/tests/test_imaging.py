"""Image intake and renditions: every test image is made here, in memory, with Pillow."""

from __future__ import annotations

import hashlib
import random
import resource
import struct
import warnings
import zlib
from collections.abc import Iterator
from io import BytesIO
from typing import Any, Literal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, ImageDraw, JpegImagePlugin, PngImagePlugin

from tertulia.publishing.imaging import intake
from tertulia.publishing.imaging.intake import ImageRefused, inspect_upload
from tertulia.publishing.imaging.renditions import crop_box, render
from tertulia.publishing.rules.placements import Placement

NOT_PUBLISHABLE = "not an image Tertulia can publish: use JPEG, PNG, GIF or WebP"
DAMAGED = "damaged or incomplete"
RED, BLUE = (255, 0, 0), (0, 0, 255)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


# --- images made for the tests -----------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Something like a photo: smooth areas and edges, compresses as photos do."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill="orange")
    draw.rectangle((0, 0, width // 8, height // 8), fill="green")
    return image


def noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """The worst case for compression, the same every run."""
    bands = len(mode)
    return Image.frombytes(mode, (width, height), random.Random(7).randbytes(width * height * bands))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def declared_png(width: int, height: int) -> bytes:
    """A valid PNG header declaring `width` by `height` RGB pixels, followed by a few bytes of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + png_chunk(b"IEND", b"")
    )


def refusal(data: bytes, **declared: str) -> str:
    with pytest.raises(ImageRefused) as refused:
        inspect_upload(data, **declared)
    return str(refused.value)


def opened(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = image.getpixel((x, y))
    assert isinstance(value, tuple)  # images with several bands have a tuple per pixel
    return value


def is_red(pixel: tuple[int, ...]) -> bool:
    return bool(pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60)


def is_blue(pixel: tuple[int, ...]) -> bool:
    return bool(pixel[0] < 60 and pixel[1] < 60 and pixel[2] > 200)


# --- intake: what is accepted ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_accepts_the_four_formats_networks_take(fmt: str, mime_type: str) -> None:
    data = encode(picture(640, 480), fmt)

    facts = inspect_upload(data, "foto", "application/octet-stream")

    assert facts.mime_type == mime_type
    assert (facts.width, facts.height) == (640, 480)
    assert facts.size_bytes == len(data)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert not facts.animated
    assert not facts.has_transparency


def test_the_bytes_decide_the_format_not_the_name() -> None:
    data = encode(picture(400, 400), "PNG")

    facts = inspect_upload(data, "vacaciones.jpg", "image/jpeg")

    assert facts.mime_type == "image/png"


def test_a_jpeg_with_extra_pictures_is_a_still_jpeg() -> None:
    # Phones store depth maps and previews as extra pictures (MPO): not an animation.
    data = encode(picture(400, 300), "MPO", save_all=True, append_images=[picture(400, 300)])

    facts = inspect_upload(data)

    assert facts.mime_type == "image/jpeg"
    assert not facts.animated


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_are_reported(fmt: str) -> None:
    frames = [Image.new("RGB", (300, 300), RED), Image.new("RGB", (300, 300), BLUE)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)

    assert inspect_upload(data).animated


def test_transparency_means_some_pixel_is_see_through() -> None:
    see_through = picture(300, 300, "RGBA")
    see_through.putpixel((10, 10), (0, 0, 0, 0))
    opaque_with_alpha = picture(300, 300, "RGBA")

    assert inspect_upload(encode(see_through, "PNG")).has_transparency
    assert not inspect_upload(encode(opaque_with_alpha, "PNG")).has_transparency
    assert inspect_upload(encode(see_through, "WEBP", lossless=True)).has_transparency


def test_transparency_of_a_palette_image() -> None:
    palette = picture(300, 300).convert("P")
    index = palette.getpixel((150, 150))
    unused = next(i for i in range(256) if palette.histogram()[i] == 0)

    assert inspect_upload(encode(palette, "GIF", transparency=index)).has_transparency
    assert not inspect_upload(encode(palette, "GIF", transparency=unused)).has_transparency


def test_the_size_reported_is_the_upright_size() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored on its side, shown turned 90° clockwise

    facts = inspect_upload(encode(picture(400, 300), "JPEG", exif=exif))

    assert (facts.width, facts.height) == (300, 400)


def test_limits_are_inclusive() -> None:
    assert inspect_upload(encode(picture(200, 200), "PNG")).width == 200
    assert inspect_upload(encode(picture(2000, 200), "PNG")).width == 2000


# --- intake: what is refused, and why ----------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        b"Hola, esto es texto y no una foto.\n",
        encode(picture(300, 300), "BMP"),  # an image, but not one networks take
        encode(picture(300, 300), "TIFF"),
    ],
    ids=["html", "pdf", "text", "bmp", "tiff"],
)
def test_files_that_are_not_publishable_images_are_refused(data: bytes) -> None:
    assert NOT_PUBLISHABLE in refusal(data, declared_name="foto.png", declared_type="image/png")


@pytest.mark.parametrize(
    "declared",
    [{"declared_name": "logo.png"}, {"declared_name": "logo.svg", "declared_type": "image/svg+xml"}],
)
def test_svg_is_refused_because_it_can_carry_scripts(declared: dict[str, str]) -> None:
    svg = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- logo -->\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
        b"<script>alert(document.cookie)</script><rect width='400' height='400'/></svg>"
    )

    message = refusal(svg, **declared)

    assert "SVG" in message
    assert "scripts" in message
    assert "PNG" in message


def test_a_truncated_jpeg_is_refused() -> None:
    data = encode(noise(600, 600), "JPEG", quality=90)

    assert DAMAGED in refusal(data[: len(data) // 2])


def test_a_truncated_png_is_refused() -> None:
    data = encode(noise(400, 400), "PNG")

    assert DAMAGED in refusal(data[: len(data) * 2 // 3])


def test_a_corrupted_png_is_refused() -> None:
    data = bytearray(encode(picture(400, 400), "PNG"))
    data[len(data) // 2] ^= 0xFF  # a flipped byte in the pixel data: the checksum no longer matches

    assert DAMAGED in refusal(bytes(data))


def test_a_file_cut_inside_its_header_is_damaged_not_foreign() -> None:
    data = encode(picture(400, 400), "JPEG")

    assert DAMAGED in refusal(data[:40])


def test_an_empty_file_is_refused() -> None:
    assert "empty" in refusal(b"", declared_name="foto.jpg", declared_type="image/jpeg")


def test_a_file_over_the_size_limit_is_refused_with_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "MAX_UPLOAD_BYTES", intake.MEGABYTE)
    data = encode(noise(700, 700), "PNG")  # about 1.5 MB of incompressible pixels
    assert 1_400_000 < len(data) < 1_550_000

    message = refusal(data)

    assert "The file is 1.5 MB and the most Tertulia accepts is 1 MB" in message


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 8000),  # 64 megapixels: within Pillow's own limit, over Tertulia's
        (10000, 10000),  # 100 megapixels: Pillow only warns
        (20000, 20000),  # 400 megapixels: Pillow refuses
        (65535, 65535),
    ],
)
@pytest.mark.parametrize("filter_", ["error", "ignore"])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    width: int, height: int, filter_: Literal["error", "ignore"]
) -> None:
    """A few hundred bytes that would decode to gigabytes. The outcome must not depend on the
    warning filters in force (the test suite makes RuntimeWarning an error; production does not)."""
    data = declared_png(width, height)
    assert len(data) < 200
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    with warnings.catch_warnings():
        warnings.simplefilter(filter_)
        message = refusal(data)
        with pytest.raises(ImageRefused):
            render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=1_000_000)

    # How fast the refusal is, is measured by bench/imaging.py, not asserted here.
    assert "more than 50 megapixels" in message
    # 20000 by 20000 RGB pixels would be 1.2 GB: the peak must not have grown by more than a little.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 50_000


@pytest.mark.parametrize(("width", "height"), [(100, 100), (199, 800), (800, 199)])
def test_an_image_too_small_for_networks_is_refused(width: int, height: int) -> None:
    message = refusal(encode(picture(width, height), "PNG"))

    assert f"{width}×{height} pixels" in message  # noqa: RUF001 - as the message writes it
    assert "at least 200 pixels" in message


@pytest.mark.parametrize(("width", "height"), [(2001, 200), (200, 2400)])
def test_a_very_long_and_narrow_image_is_refused(width: int, height: int) -> None:
    assert "too long and narrow" in refusal(encode(picture(width, height), "PNG"))


# --- crop geometry -----------------------------------------------------------------------------

aspects = st.one_of(
    st.sampled_from([w / h for w, h in (placement.size for placement in Placement)]),
    st.floats(min_value=0.05, max_value=20),
)
sides = st.integers(min_value=1, max_value=20000)
unit = st.floats(min_value=0.0, max_value=1.0)


@given(width=sides, height=sides, aspect=aspects, focal_x=unit, focal_y=unit)
def test_crop_box_properties(width: int, height: int, aspect: float, focal_x: float, focal_y: float) -> None:
    left, top, right, bottom = crop_box(width, height, aspect, focal_x, focal_y)
    box_width, box_height = right - left, bottom - top

    # Inside the image, and not empty.
    assert 0 <= left < right <= width
    assert 0 <= top < bottom <= height
    # The target shape, to within a pixel of one side.
    assert abs(box_width - box_height * aspect) <= 1 or abs(box_height - box_width / aspect) <= 1
    # The largest such box: it spans the image in one direction.
    assert (left == 0 and right == width) or (top == 0 and bottom == height)
    # The focal point is in it, and at its centre unless an edge is in the way.
    focus_x, focus_y = focal_x * width, focal_y * height
    assert left <= focus_x <= right
    assert top <= focus_y <= bottom
    if left > 0 and right < width:
        assert abs((left + right) / 2 - focus_x) <= 1
    if top > 0 and bottom < height:
        assert abs((top + bottom) / 2 - focus_y) <= 1


def test_crop_box_examples() -> None:
    assert crop_box(3000, 1000, 1.0, 0.5, 0.5) == (1000, 0, 2000, 1000)
    assert crop_box(3000, 1000, 1.0, 0.0, 0.5) == (0, 0, 1000, 1000)
    assert crop_box(3000, 1000, 1.0, 0.9, 0.5) == (2000, 0, 3000, 1000)
    assert crop_box(1000, 3000, 1.0, 0.5, 0.25) == (0, 250, 1000, 1250)
    assert crop_box(1080, 1350, 1080 / 1350, 0.3, 0.7) == (0, 0, 1080, 1350)


@pytest.mark.parametrize(
    ("focal_x", "focal_y"), [(-0.01, 0.5), (0.5, 1.01), (float("nan"), 0.5), (0.5, float("inf"))]
)
def test_a_focal_point_outside_the_image_is_a_programming_error(focal_x: float, focal_y: float) -> None:
    with pytest.raises(ValueError, match="focal point"):
        crop_box(1000, 1000, 1.0, focal_x, focal_y)
    with pytest.raises(ValueError, match="focal point"):
        render(encode(picture(400, 400), "PNG"), Placement.SQUARE, focal_x, focal_y, max_bytes=10**6)


# --- renditions --------------------------------------------------------------------------------


@pytest.mark.parametrize("placement", list(Placement))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_large_enough_image_gets_exactly_the_placement_size(placement: Placement, fmt: str) -> None:
    rendition = render(encode(picture(2400, 2400), fmt), placement, 0.3, 0.7, max_bytes=8_000_000)

    assert (rendition.width, rendition.height) == placement.size
    assert opened(rendition.data).size == placement.size
    assert rendition.mime_type == "image/jpeg"
    assert rendition.size_bytes == len(rendition.data)


@pytest.fixture
def decoded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size each JPEG is decoded at, once the renditions have asked for a reduced scale."""
    sizes: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> Any:
        result = original(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    return sizes


@pytest.mark.parametrize("placement", [Placement.SQUARE, Placement.LANDSCAPE])
def test_a_big_jpeg_is_decoded_at_half_size_and_still_sized_exactly(
    placement: Placement, decoded_sizes: list[tuple[int, int]]
) -> None:
    data = encode(picture(4800, 4400), "JPEG")

    rendition = render(data, placement, 0.5, 0.5, max_bytes=8_000_000)

    assert decoded_sizes == [(2400, 2200)]
    assert (rendition.width, rendition.height) == placement.size


def test_a_small_image_is_cropped_but_never_scaled_up() -> None:
    rendition = render(encode(picture(500, 400), "PNG"), Placement.SQUARE, 0.5, 0.5, max_bytes=10**6)

    assert (rendition.width, rendition.height) == (400, 400)


def test_the_crop_keeps_the_focal_point() -> None:
    wide = Image.new("RGB", (3000, 1000), BLUE)
    ImageDraw.Draw(wide).rectangle((2600, 0, 2700, 999), fill=RED)
    data = encode(wide, "PNG")

    on_subject = opened(render(data, Placement.SQUARE, 0.88, 0.5, max_bytes=10**6).data)
    elsewhere = opened(render(data, Placement.SQUARE, 0.1, 0.5, max_bytes=10**6).data)

    assert on_subject.size == elsewhere.size == (1000, 1000)  # the crop, not scaled up
    assert any(is_red(pixel(on_subject, x, 500)) for x in range(0, 1000, 10))
    assert not any(is_red(pixel(elsewhere, x, 500)) for x in range(0, 1000, 10))


def test_exif_orientation_is_applied_before_cropping() -> None:
    # Upright: red on top, blue below. A camera held sideways stores it turned a quarter,
    # with orientation 6 saying how to turn it back.
    upright = Image.new("RGB", (1200, 1500), BLUE)
    ImageDraw.Draw(upright).rectangle((0, 0, 1199, 749), fill=RED)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    data = encode(stored, "JPEG", exif=exif, quality=95)

    result = opened(render(data, Placement.PORTRAIT, 0.5, 0.5, max_bytes=10**6).data)

    assert result.size == (1080, 1350)
    assert is_red(pixel(result, 540, 100))
    assert is_blue(pixel(result, 540, 1250))
    assert ExifTags.Base.Orientation not in result.getexif()


@pytest.mark.parametrize(("focal_y", "red_on_top"), [(0.0, True), (1.0, False)])
def test_a_big_sideways_photo_is_turned_then_cropped_at_the_focal_point(
    focal_y: float, red_on_top: bool, decoded_sizes: list[tuple[int, int]]
) -> None:
    # The decoder's reduced scale applies to the image as stored, on its side: the requested
    # size has to be turned as well.
    upright = Image.new("RGB", (4800, 2600), BLUE)
    ImageDraw.Draw(upright).rectangle((0, 0, 4799, 199), fill=RED)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    data = encode(upright.transpose(Image.Transpose.ROTATE_270), "JPEG", exif=exif, quality=95)
    facts = inspect_upload(data)
    assert (facts.width, facts.height) == (4800, 2600)

    result = opened(render(data, Placement.LANDSCAPE, 0.5, focal_y, max_bytes=10**6).data)

    assert decoded_sizes == [(1300, 2400)]
    assert result.size == (1200, 628)
    # The crop is the full width and 2512 of the 2600 rows, at the top or at the bottom:
    # row 40 of the rendition is row 160 of the photo (red) or row 248 (blue).
    assert is_red(pixel(result, 600, 40)) is red_on_top
    assert is_blue(pixel(result, 600, 600))


def test_location_and_all_other_metadata_are_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "AcmeCam"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (40.0, 25.0, 1.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (3.0, 42.0, 12.0)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        picture(1200, 1200),
        "JPEG",
        exif=exif,
        comment=b"casa de la abuela",
        xmp=b"<x:xmpmeta>Calle Mayor 1</x:xmpmeta>",
        icc_profile=profile,
    )
    assert opened(data).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test image does carry a location

    rendition = render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=10**6)
    result = opened(rendition.data)

    assert not result.getexif()
    assert not {"exif", "comment", "xmp", "icc_profile"} & set(result.info)
    for secret in (b"Exif", b"AcmeCam", b"abuela", b"Calle Mayor", b"xmpmeta"):
        assert secret not in rendition.data


def test_metadata_is_stripped_from_png_renditions_too() -> None:
    exif = Image.Exif()
    exif[ExifTags.GPS.GPSLatitudeRef] = "N"
    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "Calle Mayor 1")
    see_through = picture(600, 600, "RGBA")
    see_through.putpixel((300, 300), (0, 0, 0, 0))
    data = encode(see_through, "PNG", exif=exif, pnginfo=text)

    rendition = render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=10**6)
    result = opened(rendition.data)

    assert rendition.mime_type == "image/png"
    assert not result.getexif()
    assert getattr(result, "text", {}) == {}
    assert b"Calle Mayor" not in rendition.data
    assert b"eXIf" not in rendition.data


def test_transparency_gives_a_png_that_keeps_it() -> None:
    logo = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((200, 200, 600, 600), fill=(*RED, 255))

    rendition = render(encode(logo, "PNG"), Placement.SQUARE, 0.5, 0.5, max_bytes=10**6)
    result = opened(rendition.data)

    assert rendition.mime_type == "image/png"
    assert result.mode == "RGBA"
    assert pixel(result, 5, 5)[3] == 0
    assert is_red(pixel(result, 400, 400))


def test_transparency_outside_the_crop_does_not_force_png() -> None:
    banner = Image.new("RGBA", (3000, 1000), (*BLUE, 255))
    ImageDraw.Draw(banner).rectangle((0, 0, 999, 999), fill=(0, 0, 0, 0))

    rendition = render(encode(banner, "PNG"), Placement.SQUARE, 0.9, 0.5, max_bytes=10**6)

    assert rendition.mime_type == "image/jpeg"


def test_an_alpha_channel_that_is_opaque_everywhere_gives_a_jpeg() -> None:
    rendition = render(encode(picture(800, 800, "RGBA"), "PNG"), Placement.SQUARE, 0.5, 0.5, max_bytes=10**6)

    assert rendition.mime_type == "image/jpeg"


def test_a_format_can_be_forced() -> None:
    logo = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((200, 200, 600, 600), fill=(*RED, 255))
    data = encode(logo, "PNG")

    as_jpeg = render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=10**6, fmt="jpeg")
    as_png = render(encode(picture(800, 800), "JPEG"), Placement.SQUARE, 0.5, 0.5, max_bytes=10**6, fmt="png")

    assert as_jpeg.mime_type == "image/jpeg"
    assert pixel(opened(as_jpeg.data), 5, 5) == (255, 255, 255)  # flattened on white
    assert as_png.mime_type == "image/png"
    assert opened(as_png.data).mode == "RGB"
    with pytest.raises(ValueError, match="fmt"):
        render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=10**6, fmt="gif")
    with pytest.raises(ValueError, match="max_bytes"):
        render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=0)


def test_an_animation_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (600, 600), RED), Image.new("RGB", (600, 600), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    result = opened(render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=10**6).data)

    assert is_red(pixel(result, 300, 300))


def test_cmyk_and_sixteen_bit_images_come_out_as_rgb() -> None:
    cmyk = Image.new("CMYK", (600, 600), (0, 255, 255, 0))  # red ink
    grey16 = Image.new("I;16", (600, 600), 32768)  # mid grey

    from_cmyk = opened(render(encode(cmyk, "JPEG"), Placement.SQUARE, 0.5, 0.5, max_bytes=10**6).data)
    from_grey = opened(render(encode(grey16, "PNG"), Placement.SQUARE, 0.5, 0.5, max_bytes=10**6).data)

    assert from_cmyk.mode == "RGB"
    assert is_red(pixel(from_cmyk, 300, 300))
    assert from_grey.mode == "RGB"
    assert all(120 <= value <= 136 for value in pixel(from_grey, 300, 300))


@pytest.mark.parametrize("max_bytes", [1_000_000, 150_000])  # Bluesky's limit; then a harder one
def test_a_jpeg_rendition_fits_the_network_limit(max_bytes: int) -> None:
    data = encode(noise(1500, 1500), "PNG")

    rendition = render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=max_bytes)

    assert rendition.size_bytes <= max_bytes
    assert rendition.width == rendition.height >= 200
    assert opened(rendition.data).size == (rendition.width, rendition.height)


def test_quality_gives_way_before_size() -> None:
    source = noise(1080, 1080)
    at_90, at_40 = len(encode(source, "JPEG", quality=90)), len(encode(source, "JPEG", quality=40))
    limit = (at_90 + at_40) // 2

    rendition = render(encode(source, "PNG"), Placement.SQUARE, 0.5, 0.5, max_bytes=limit)

    assert rendition.size_bytes <= limit
    assert (rendition.width, rendition.height) == (1080, 1080)


def test_a_png_rendition_is_made_smaller_until_it_fits() -> None:
    data = encode(noise(600, 600, "RGBA"), "PNG")  # 1.4 MB at full size

    rendition = render(data, Placement.SQUARE, 0.5, 0.5, max_bytes=500_000)

    assert rendition.mime_type == "image/png"
    assert rendition.size_bytes <= 500_000
    assert 200 <= rendition.width == rendition.height < 600


def test_an_image_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ImageRefused, match=r"cannot be made smaller than 0\.1 MB"):
        render(encode(noise(800, 800), "PNG"), Placement.SQUARE, 0.5, 0.5, max_bytes=2_000)


@pytest.mark.parametrize("see_through", [False, True])
def test_renditions_are_deterministic(see_through: bool) -> None:
    image = picture(1600, 1200, "RGBA")
    if see_through:
        image.putpixel((800, 600), (0, 0, 0, 0))
    data = encode(image, "PNG")

    first = render(data, Placement.LANDSCAPE, 0.4, 0.6, max_bytes=300_000)
    second = render(data, Placement.LANDSCAPE, 0.4, 0.6, max_bytes=300_000)

    assert hashlib.sha256(first.data).hexdigest() == hashlib.sha256(second.data).hexdigest()
    assert first == second
