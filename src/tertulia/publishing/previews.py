"""Link previews: the card a network shows under a post with a link, as the composer shows it.

The page is fetched by the server, never by the person's browser, through `tertulia.core.outbound`
(public addresses only, each redirect checked, at most `PAGE_BYTES` read: only the page's head
matters, so a longer page is cut, not refused). Its title, description, site name and image come
from Open Graph (`og:*`), then Twitter cards (`twitter:*`), then `<title>` and
`<meta name="description">`, read with the standard library's HTML parser.

Hostile pages are expected:
- the parser is fed in small pieces under a time budget and stops at `<body>` (Python's HTMLParser
  can take quadratic time on some malformed input, so a page that is slow to parse gives no card);
- `<script>` and `<style>` content is never read as text; text is unescaped once by the parser,
  stored as plain text and escaped by the template;
- control, zero-width and direction-override characters are removed from what is shown (the
  direction of right-to-left text comes from `dir="auto"`, not from hidden marks), lengths capped;
- the charset comes from the Content-Type header, else a `<meta charset>` in the first 4 KB, else
  UTF-8; an unknown or wrong one never fails: undecodable bytes become U+FFFD.

The image is not hot-linked (the person's browser would tell the site who is writing about it, and
the CSP allows no other origin): it is fetched through the same guarded client (at most
`IMAGE_BYTES`), decoded by Pillow with the upload checks (four formats, a pixel cap), shrunk to a
thumbnail and re-encoded, so what the browser gets is a fresh JPEG or PNG made here. It is served
by Tertulia (`web:link-preview-image`) to members of the organization that asked for it.

Cards are kept in Django's cache, per organization and URL: `CARD_SECONDS` for a card,
`NO_CARD_SECONDS` for a page that gave none, so typing does not fetch the same page again.
"""

from __future__ import annotations

import codecs
import hashlib
import time
import unicodedata
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from django.core.cache import cache
from PIL import ImageOps

from tertulia.core import outbound
from tertulia.publishing.imaging.intake import ImageRefused, open_image, refusing_damage

PAGE_BYTES = 512 * 1024
IMAGE_BYTES = 5 * 1024 * 1024
PAGE_DEADLINE = 8.0
IMAGE_DEADLINE = 8.0
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
PARSE_SECONDS = 0.3  # CPU time the parser may spend on one page
PARSE_CHUNK = 2048
SNIFF_BYTES = 4096
CARD_SECONDS = 6 * 3600
NO_CARD_SECONDS = 10 * 60
THUMBNAIL = (600, 600)
PREVIEW_PIXELS = 24_000_000  # a card's image needs no more; decoding more costs memory
MAX_TITLE = 200
MAX_DESCRIPTION = 300
MAX_SITE = 100
MAX_URL = 2000
# Networks that show a card for a post's first link when the post has no image.
CARD_NETWORKS = frozenset({"sandbox", "bluesky", "mastodon", "x", "facebook", "linkedin"})
HTML_TYPES = ("text/html", "application/xhtml+xml")
_VERSION = "v1"


@dataclass(frozen=True)
class LinkCard:
    url: str  # the link as fetched (UTM tags removed)
    found: bool  # False: "no preview" (refused, failed, not a page, nothing to show)
    site: str = ""
    title: str = ""
    description: str = ""
    image_key: str = ""  # "" when there is no image; else `card_key`, to fetch it with `card_image`
    final_url: str = ""  # after redirects


def card_url(link: str) -> str:
    """The link without UTM tags: networks fetch the same page whatever the campaign tags say."""
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        return link.strip()
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_")
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def card_key(organization_id: int, url: str) -> str:
    return hashlib.sha256(f"{organization_id}\n{url}".encode("utf-8", "surrogatepass")).hexdigest()


def _cache_key(organization_id: int, key: str, part: str) -> str:
    return f"linkpreview:{_VERSION}:{organization_id}:{key}:{part}"


def cached_card(organization_id: int, url: str) -> LinkCard | None:
    stored = cache.get(_cache_key(organization_id, card_key(organization_id, url), "card"))
    return LinkCard(**stored) if isinstance(stored, dict) else None


def card_image(organization_id: int, key: str) -> tuple[bytes, str] | None:
    """The stored thumbnail (bytes, MIME type) of one of this organization's cards, if it is still kept."""
    if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        return None
    stored = cache.get(_cache_key(organization_id, key, "image"))
    if isinstance(stored, tuple) and len(stored) == 2:
        return stored[0], stored[1]
    return None


def claim_fetch(organization_id: int, url: str, seconds: int = 30) -> bool:
    """Whether this request should fetch the card (no other request of the organization is at it)."""
    return bool(cache.add(_cache_key(organization_id, card_key(organization_id, url), "lock"), 1, seconds))


def release_fetch(organization_id: int, url: str) -> None:
    cache.delete(_cache_key(organization_id, card_key(organization_id, url), "lock"))


def build_card(organization_id: int, link: str) -> LinkCard:
    """Fetch, read and keep the card of `link` for the organization; never raises for a bad page."""
    url = card_url(link)[:MAX_URL]
    key = card_key(organization_id, url)
    card = _fetch_card(url, key, organization_id)
    lifetime = CARD_SECONDS if card.found else NO_CARD_SECONDS
    cache.set(_cache_key(organization_id, key, "card"), asdict(card), lifetime)
    release_fetch(organization_id, url)
    return card


def _fetch_card(url: str, key: str, organization_id: int) -> LinkCard:
    try:
        page = outbound.fetch(
            url,
            headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"},
            max_bytes=PAGE_BYTES,
            truncate=True,
            timeout=TIMEOUT,
            deadline=PAGE_DEADLINE,
        )
    except outbound.OutboundError:
        return LinkCard(url=url, found=False)
    media_type = page.content_type.split(";")[0].strip().lower()
    if not page.ok or media_type not in HTML_TYPES:
        return LinkCard(url=url, found=False, final_url=page.url)
    meta = read_page(page.body, page.content_type)
    site = meta.site or (urlsplit(page.url).hostname or "")
    if not (meta.title or meta.description):
        return LinkCard(url=url, found=False, final_url=page.url)
    image_key = ""
    if meta.image:
        thumbnail = _thumbnail(meta.image, page.url)
        if thumbnail is not None:
            cache.set(_cache_key(organization_id, key, "image"), thumbnail, CARD_SECONDS)
            image_key = key
    return LinkCard(
        url=url,
        found=True,
        site=clean_text(site, MAX_SITE),
        title=meta.title,
        description=meta.description,
        image_key=image_key,
        final_url=page.url,
    )


def _thumbnail(image_url: str, page_url: str) -> tuple[bytes, str] | None:
    try:
        absolute = str(httpx.URL(page_url).join(image_url))
        fetched = outbound.fetch(
            absolute,
            headers={"Accept": "image/jpeg,image/png,image/webp,image/gif;q=0.8"},
            max_bytes=IMAGE_BYTES,
            timeout=TIMEOUT,
            deadline=IMAGE_DEADLINE,
        )
    except (outbound.OutboundError, httpx.InvalidURL, ValueError):
        return None
    if not fetched.ok:
        return None
    return shrink(fetched.body)


def shrink(data: bytes) -> tuple[bytes, str] | None:
    """A thumbnail made here from `data`: JPEG, or PNG where it has transparency; None if it is no image.

    The upload checks come first (JPEG, PNG, GIF or WebP by their bytes; the pixel count read from
    the header before anything is decoded), then a lower cap of our own: a card needs no more.
    """
    try:
        with open_image(data) as image:
            width, height = image.size
            if width * height > PREVIEW_PIXELS:
                return None
            image.draft("RGB", (THUMBNAIL[0] * 2, THUMBNAIL[1] * 2))  # JPEG decodes smaller; others ignore it
            with refusing_damage():
                image.load()
                upright = ImageOps.exif_transpose(image)
                frame = (
                    upright.convert("RGBA")
                    if upright.mode in ("RGBA", "LA", "P", "PA")
                    else upright.convert("RGB")
                )
                frame.thumbnail(THUMBNAIL)
            out = BytesIO()
            bands = frame.getextrema() if frame.mode == "RGBA" else ()
            alpha = bands[3] if len(bands) == 4 else None
            if isinstance(alpha, tuple) and int(alpha[0]) < 255:
                frame.save(out, format="PNG", optimize=True)
                return out.getvalue(), "image/png"
            frame.convert("RGB").save(out, format="JPEG", quality=82)
            return out.getvalue(), "image/jpeg"
    except (ImageRefused, OSError, ValueError):
        return None


# --- reading the page --------------------------------------------------------------------------

# Removed from shown text: C0/C1 controls, and every format character (zero-width spaces and
# joiners, direction marks, embeddings, overrides and isolates, the byte-order mark).
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_text(value: str, limit: int) -> str:
    """Text fit to show: NFC, no invisible or control characters, whitespace collapsed, capped."""
    normal = unicodedata.normalize("NFC", value)
    kept = "".join(
        " " if char.isspace() else char
        for char in normal
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    text = " ".join(kept.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class PageMeta:
    title: str = ""
    description: str = ""
    site: str = ""
    image: str = ""  # as written in the page (relative or absolute)


class _Stop(Exception):
    """The parser has read enough (the head is over)."""


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title_parts: list[str] = []
        self.in_title = False
        self.title_done = False
        self.depth_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            raise _Stop
        if tag == "svg":
            self.depth_svg += 1
        elif tag == "title" and not self.title_done and not self.depth_svg:
            self.in_title = True
        elif tag == "meta":
            self._meta(dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self._meta(dict(attrs))
        elif tag == "body":
            raise _Stop

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            raise _Stop
        if tag == "svg" and self.depth_svg:
            self.depth_svg -= 1
        elif tag == "title" and self.in_title:
            self.in_title = False
            self.title_done = True

    def handle_data(self, data: str) -> None:
        if self.in_title and sum(len(part) for part in self.title_parts) < 4 * MAX_TITLE:
            self.title_parts.append(data)

    def _meta(self, attrs: dict[str, str | None]) -> None:
        name = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        content = attrs.get("content")
        if name and content is not None and name not in self.meta and len(self.meta) < 200:
            self.meta[name] = content[: 8 * MAX_DESCRIPTION]


class _CharsetSniffer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.charset = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            raise _Stop
        if tag != "meta":
            return
        values = {key: value or "" for key, value in attrs}
        if values.get("charset"):
            self.charset = values["charset"].strip()
        elif values.get("http-equiv", "").lower() == "content-type":
            self.charset = _charset_param(values.get("content", ""))
        if self.charset:
            raise _Stop

    handle_startendtag = handle_starttag


def _feed(parser: HTMLParser, text: str) -> None:
    """Feed `text` in pieces until the parser stops, the text ends or the CPU budget is spent.

    `close()` is never called: it would parse whatever unfinished construct is left all at once,
    which is where the slow cases are; what matters was handled by then.
    """
    started = time.thread_time()
    for start in range(0, len(text), PARSE_CHUNK):
        try:
            parser.feed(text[start : start + PARSE_CHUNK])
        except _Stop:
            return
        except (AssertionError, ValueError):  # what older HTMLParser versions raise on some garbage
            return
        if time.thread_time() - started > PARSE_SECONDS:
            return


def _charset_param(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _eq, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


def _known_charset(name: str) -> str:
    try:
        return codecs.lookup(name.strip()).name if name.strip() else ""
    except (LookupError, ValueError):
        return ""


def decode_page(body: bytes, content_type: str) -> str:
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    charset = _known_charset(_charset_param(content_type))
    if not charset:
        sniffer = _CharsetSniffer()
        _feed(sniffer, body[:SNIFF_BYTES].decode("latin-1"))
        charset = _known_charset(sniffer.charset)
    # "utf-16" declared inside an ASCII page is a lie browsers ignore: so do we.
    if not charset or (charset.startswith("utf-16") and not _charset_param(content_type)):
        charset = "utf-8"
    return body.decode(charset, "replace")


def read_page(body: bytes, content_type: str = "text/html") -> PageMeta:
    parser = _MetaParser()
    _feed(parser, decode_page(body, content_type))
    meta = parser.meta

    def first(*names: str) -> str:
        for name in names:
            value = meta.get(name, "")
            if value.strip():
                return value
        return ""

    title = first("og:title", "twitter:title") or "".join(parser.title_parts)
    image = first("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src")
    return PageMeta(
        title=clean_text(title, MAX_TITLE),
        description=clean_text(
            first("og:description", "twitter:description", "description"), MAX_DESCRIPTION
        ),
        site=clean_text(first("og:site_name"), MAX_SITE),
        image=image.strip()[:MAX_URL],
    )
