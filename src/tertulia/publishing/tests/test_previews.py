"""Link previews: reading hostile pages, and fetching cards and images from a real local server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from io import BytesIO

import pytest
from PIL import Image

from tertulia.core.tests.outbound_server import Site
from tertulia.publishing import previews
from tertulia.publishing.previews import card_url, clean_text, decode_page, read_page, shrink

HTML = "text/html; charset=utf-8"


def page(head: str, body: str = "") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (1200, 630), mode: str = "RGB") -> bytes:
    out = BytesIO()
    Image.new(mode, size, (200, 40, 40, 255) if mode == "RGBA" else (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


# --- reading pages -------------------------------------------------------------------------------


def test_open_graph_first_then_twitter_then_title():
    head = (
        '<title>Plain title</title><meta name="description" content="Plain description">'
        '<meta name="twitter:title" content="Twitter title"><meta property="og:title" content="OG title">'
        '<meta property="og:site_name" content="Example News">'
        '<meta property="og:image" content="/img/card.png">'
    )
    meta = read_page(page(head))
    assert (meta.title, meta.description, meta.site, meta.image) == (
        "OG title",
        "Plain description",
        "Example News",
        "/img/card.png",
    )
    assert read_page(page('<meta name="twitter:title" content="T"><title>x</title>')).title == "T"
    assert read_page(page("<title>\n  Only   the\ttitle </title>")).title == "Only the title"


def test_scripts_styles_and_markup_never_become_text():
    head = (
        "<script>document.title='<title>pwned</title>';"
        ' var x = \'<meta property="og:title" content="js">\';</script>'
        "<style>title { content: '<title>css</title>' }</style>"
        "<title>Real &amp; &lt;escaped&gt; <b>bold</b></title>"
        '<meta property="og:description" content="&lt;script&gt;alert(1)&lt;/script&gt;">'
    )
    meta = read_page(page(head))
    assert meta.title == "Real & <escaped> bold"  # unescaped once: the template escapes it
    assert meta.description == "<script>alert(1)</script>"


def test_svg_titles_and_the_body_are_ignored():
    meta = read_page(
        page("<svg><title>icon</title></svg><title>Page</title>", '<meta property="og:title" content="late">')
    )
    assert meta.title == "Page"


def test_zero_width_and_direction_overrides_are_removed_rtl_text_kept():
    hostile = "Pay\u200bPal\u202e gnp.exe\u2066x\u2069\u200f \x07bell\ufeff"
    assert clean_text(hostile, 200) == "PayPal gnp.exex bell"
    arabic = read_page(page("<title>أخبار اليوم \u200f</title>"))
    assert arabic.title == "أخبار اليوم"
    assert clean_text("e\u0301", 10) == "é"  # NFC
    assert clean_text("a" * 500, 200) == "a" * 199 + "…"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<title>Año español</title>".encode("latin-1"), "text/html; charset=iso-8859-1", "Año español"),
        ('<meta charset="windows-1252"><title>Año</title>'.encode("cp1252"), "text/html", "Año"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            "<title>Привет</title>".encode("koi8-r"),
            "text/html",
            "Привет",
        ),
        ("<title>Año</title>".encode("latin-1"), "text/html; charset=utf-8", "A\ufffdo"),  # a lying header
        ("<title>Año</title>".encode(), "text/html; charset=x-no-such-charset", "Año"),
        ('<meta charset="utf-16"><title>Año</title>'.encode(), "text/html", "Año"),  # ASCII can't be UTF-16
        ("\ufeff<title>BOM</title>".encode(), "text/html; charset=iso-8859-1", "BOM"),
    ],
)
def test_charsets_right_wrong_and_unknown(body, content_type, expected):
    assert read_page(body, content_type).title == expected


def test_garbage_and_nul_bytes_do_not_break_reading():
    assert read_page(b"\x00\xff\xfe<<<>>><title\x00>x</title>", HTML).title in ("", "x")
    assert read_page(b"", HTML).title == ""
    assert decode_page(b"\xff\xfe\xfd", HTML) == "\ufffd\ufffd\ufffd"


@pytest.mark.parametrize("unit", ["<a ", "<!--", "<a x=1 ", "<", "</", "<?", "&#"])
def test_pathological_markup_gives_what_came_before_it(unit):
    """Python's HTMLParser takes minutes on half a megabyte of some of these; fed in pieces under a
    budget, the read ends soon (or pytest's timeout fails the test) with what came first."""
    hostile = (unit * (previews.PAGE_BYTES // len(unit))).encode()
    meta = read_page(page("<title>before</title>").replace(b"</head>", hostile))
    assert meta.title == "before"


def test_the_parser_stops_when_its_budget_is_spent(monkeypatch):
    """A fake CPU clock: every look at it costs a tenth of a second."""
    ticks = iter(range(10_000))
    monkeypatch.setattr(time, "thread_time", lambda: next(ticks) / 10)
    fed: list[int] = []

    class Counting(previews._MetaParser):
        def feed(self, data: str) -> None:
            fed.append(len(data))
            super().feed(data)

    previews._feed(Counting(), "<p>" * 100_000)
    budget_ticks = int(previews.PARSE_SECONDS * 10)
    assert 1 <= len(fed) <= budget_ticks + 2  # stopped by the budget, not by the end of the text
    assert sum(fed) < 300_000


def test_utm_tags_are_left_out_of_the_fetched_address():
    link = "https://news.example/a?utm_source=x&id=3&UTM_campaign=y#top"
    assert card_url(link) == "https://news.example/a?id=3#top"


def test_images_are_re_encoded_as_small_thumbnails():
    thumbnail = shrink(image_bytes("PNG", (1800, 1200)))
    assert thumbnail is not None
    data, media_type = thumbnail
    assert media_type == "image/jpeg"
    with Image.open(BytesIO(data)) as decoded:
        assert decoded.format == "JPEG" and max(decoded.size) <= 600
    clear = BytesIO()
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(clear, format="PNG")
    transparent = shrink(clear.getvalue())
    assert transparent is not None and transparent[1] == "image/png"
    opaque = shrink(image_bytes("PNG", (400, 400), mode="RGBA"))
    assert opaque is not None and opaque[1] == "image/jpeg"
    assert shrink(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert shrink(b"GIF89a" + b"\0" * 20) is None
    assert shrink(image_bytes("PNG", (6000, 5000))) is None  # over the preview's pixel cap


# --- fetching cards from a real server ------------------------------------------------------------


@pytest.fixture
def site(settings) -> Iterator[Site]:
    with Site().running() as running:
        settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{running.port}"
        yield running


def test_a_card_with_its_image_is_built_and_cached(site):
    site.route("/img.png", image_bytes(), headers={"Content-Type": "image/png"})
    url = site.route(
        "/article",
        page(
            '<meta property="og:title" content="Big news">'
            '<meta property="og:description" content="What happened">'
            '<meta property="og:image" content="/img.png">'
        ),
        headers={"Content-Type": HTML},
    )
    card = previews.build_card(1, url + "?utm_source=x")
    assert (card.found, card.title, card.description, card.site) == (
        True,
        "Big news",
        "What happened",
        "127.0.0.1",
    )
    stored = previews.card_image(1, card.image_key)
    assert stored is not None and stored[1] == "image/jpeg" and stored[0] != image_bytes()
    assert previews.cached_card(1, url) == card
    assert previews.cached_card(2, url) is None  # another organization's cache
    assert previews.card_image(2, card.image_key) is None
    assert site.seen("/article")[0].path == "/article"  # the UTM tag was not sent


@pytest.mark.parametrize(
    ("route", "options"),
    [
        ("/not-html", {"body": b"%PDF-1.7", "headers": {"Content-Type": "application/pdf"}}),
        ("/empty", {"body": page(""), "headers": {"Content-Type": HTML}}),
        ("/missing", None),
        ("/error", {"body": page("<title>Oops</title>"), "status": 500, "headers": {"Content-Type": HTML}}),
    ],
)
def test_no_card_for_what_is_not_a_page_with_something_to_show(site, route, options):
    if options is not None:
        site.route(route, **options)
    card = previews.build_card(1, site.url + route)
    assert not card.found


def test_a_huge_page_is_cut_and_still_gives_its_card(site):
    huge = page('<meta property="og:title" content="Huge">', "x" * (20 * 1024 * 1024))
    url = site.route("/huge", huge, headers={"Content-Type": HTML}, chunked=True)
    assert previews.build_card(1, url).title == "Huge"


def test_a_private_image_address_in_a_public_page_is_not_fetched(site):
    url = site.route(
        "/sneaky",
        page(
            '<meta property="og:title" content="Hi"><meta property="og:image" content="http://169.254.169.254/latest/meta-data/">'
        ),
        headers={"Content-Type": HTML},
    )
    card = previews.build_card(1, url)
    assert card.found and card.image_key == ""


def test_a_refused_page_is_no_card_and_no_request(site, settings):
    settings.TERTULIA_OUTBOUND_ALLOW = ""
    url = site.route("/page", page("<title>x</title>"), headers={"Content-Type": HTML})
    assert not previews.build_card(1, url).found
    assert site.requests == []
