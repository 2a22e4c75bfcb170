from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from tertulia.connectors.base import (
    Capability,
    ContentRejected,
    InboundKind,
    NotSupported,
    OutgoingPost,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.feeds.connector import FeedConnector
from tertulia.connectors.feeds.cursor import FeedCursor
from tertulia.connectors.feeds.fetch import MAX_FEED_BYTES
from tertulia.connectors.feeds.tests.conftest import feed_connector, fixture
from tertulia.connectors.feeds.tests.server import LiveFeed
from tertulia.connectors.feeds.text import html_to_text
from tertulia.connectors.registry import connector_class

pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_registered():
    assert connector_class("feeds") is FeedConnector
    assert FeedConnector.capabilities == {Capability.READ_MENTIONS}
    with pytest.raises(NotSupported):
        feed_connector("https://blog.example/feed").publish(OutgoingPost(text="no"))


def test_rss2_entries_become_mentions(server):
    url = server.serve("/rss.xml", fixture("rss2.xml"))
    page = feed_connector(url).fetch_inbound(None)
    assert [i.remote_id for i in page.items] == ["blog.example-post-1", "blog.example-post-2"]  # oldest first
    first, second = page.items
    assert first.kind is InboundKind.MENTION
    assert first.author.display_name == "Marta Gil"
    assert first.author.remote_id == "marta@blog.example"
    assert first.created_at == datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    assert second.created_at == datetime(2025, 6, 3, 7, 30, tzinfo=UTC)  # +0200 normalized
    assert (
        second.text
        == "Plan de crisis: el primer paso\n\nAntes de publicar, planifica: objetivos y competidores."
    )
    assert second.author.handle == "Lucía Pérez"
    assert second.url == "https://blog.example/plan-de-crisis"
    assert second.conversation_key == second.remote_id
    assert second.language == "es"
    assert second.raw["feed_title"] == "Comunidad & Marca"
    assert second.raw["tags"] == ["crisis"]
    request = server.requests[-1]
    assert request.path == "/rss.xml" and "If-None-Match" not in request.headers
    assert "rss" in request.headers["accept"]


def test_atom_uses_full_content_and_handles_undated_entries(server):
    url = server.serve("/atom.xml", fixture("atom.xml"), content_type="application/atom+xml")
    before = datetime.now(UTC)
    items = feed_connector(url).fetch_inbound(None).items
    by_id = {i.remote_id: i for i in items}
    launch = by_id["urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"]
    assert launch.text == "Acme launches a new product\n\nThe full article about Acme.\n\nSecond paragraph."
    assert launch.created_at == datetime(2025, 6, 4, 9, 0, tzinfo=UTC)  # published wins over updated
    assert launch.author.display_name == "Sam Reporter"
    assert launch.author.profile_url == "https://watch.example/sam"
    assert launch.url == "https://watch.example/acme-launch"
    assert launch.language == "en"
    undated = by_id["urn:uuid:2225c695-cfb8-4ebb-aaaa-80da344efa6b"]
    assert undated.created_at >= before  # no date: when we read it
    assert undated.author.handle == "Brand Watch"  # no author: the feed


def test_conditional_get_and_304(server):
    url = server.serve("/rss.xml", fixture("rss2.xml"))
    connector = feed_connector(url)
    first = connector.fetch_inbound(None)
    assert len(first.items) == 2
    second = connector.fetch_inbound(first.cursor)
    assert second.items == [] and second.cursor == first.cursor
    sent = server.requests[-1].headers
    assert sent["if-none-match"] == FeedCursor.decode(first.cursor).etag
    assert sent["if-modified-since"] == "Sun, 01 Jun 2025 12:00:00 GMT"


def test_a_server_that_ignores_validators_still_repeats_nothing(server):
    url = server.serve("/rss.xml", fixture("rss2.xml"), conditional=False)
    connector = feed_connector(url)
    first = connector.fetch_inbound(None)
    again = connector.fetch_inbound(first.cursor)
    assert len(first.items) == 2 and again.items == []


def test_paging_loses_nothing_and_a_cut_page_is_not_answered_with_304(server, live: LiveFeed):
    connector = feed_connector(live.url)
    live.add(5)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = connector.fetch_inbound(cursor, limit=2)
        if not page.items:
            break
        seen += [i.remote_id for i in page.items]
        cursor = page.cursor
    assert seen == [f"urn:post:{n}" for n in range(1, 6)]
    live.add(1)
    assert [i.remote_id for i in connector.fetch_inbound(cursor).items] == ["urn:post:6"]


def test_entries_that_fall_out_of_the_feed_are_forgotten_and_not_repeated(server):
    live = LiveFeed(server, path="/window.xml", window=3)
    connector = feed_connector(live.url)
    live.add(3)
    cursor = connector.fetch_inbound(None).cursor
    live.add(4)  # 4..7 published; the feed now lists 5, 6, 7 only: 4 is lost on the network's side
    page = connector.fetch_inbound(cursor)
    assert [i.remote_id for i in page.items] == ["urn:post:5", "urn:post:6", "urn:post:7"]
    assert len(FeedCursor.decode(page.cursor).seen) == 3  # the cursor stays as small as the feed
    live.window = 10  # the feed lengthens again: old entries reappear, and are not new
    live.add(1)
    assert [i.remote_id for i in connector.fetch_inbound(page.cursor).items] == ["urn:post:8"]


def test_malformed_feed_is_a_temporary_failure(server):
    url = server.serve("/broken.xml", fixture("malformed.xml"))
    with pytest.raises(TemporaryFailure, match="malformed"):
        feed_connector(url).fetch_inbound(None)


def test_a_web_page_is_not_a_feed(server):
    url = server.serve("/page", fixture("not_a_feed.html"), content_type="text/html")
    with pytest.raises(ContentRejected, match="not an RSS or Atom feed"):
        feed_connector(url).fetch_inbound(None)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_feed_is_refused(server, chunked):
    item = "<item><title>x</title><description>" + "a" * 1000 + "</description></item>"
    body = (
        "<rss version='2.0'><channel><title>t</title>"
        + item * (MAX_FEED_BYTES // 1000 + 10)
        + "</channel></rss>"
    )
    url = server.serve("/huge.xml", body, chunked=chunked)
    with pytest.raises(ContentRejected, match="larger than 5 MB"):
        feed_connector(url).fetch_inbound(None)


def test_html_and_script_are_stored_as_text(server):
    url = server.serve("/hostile.xml", fixture("hostile.xml"))
    [item] = feed_connector(url).fetch_inbound(None).items
    assert "<" not in item.text.replace("<b>literal</b>", "")
    assert "steal" not in item.text and "display:none" not in item.text and "frame text" not in item.text
    assert "Hello world" in item.text.replace("\n", " ") or "Helloworld" in item.text
    assert "link text" in item.text
    assert "<b>literal</b>" in item.text  # escaped markup in the source is text, shown as written
    assert item.url == ""  # a javascript: link is never kept
    assert item.raw["link"] == ""
    assert item.raw["feed_title"] == "Hostile"


def test_non_ascii_and_rtl_text(server):
    url = server.serve("/ar.xml", fixture("i18n.xml"))
    [item] = feed_connector(url).fetch_inbound(None).items
    expected = "مرحبا بالعالم\n\nשלום עולם — ¡Hola, señor! 日本語 🎉"  # noqa: RUF001 - Hebrew on purpose
    assert item.text.startswith(expected)
    assert "\u202e" in item.text  # kept as written; display code isolates bidirectional text
    assert item.author.display_name == "كاتب"
    assert item.language == "ar"
    assert item.raw["feed_title"] == "أخبار العلامة"


def test_latin1_feed_is_decoded(server):
    url = server.serve("/latin.xml", fixture("latin1.xml"), content_type="application/rss+xml")
    [item] = feed_connector(url).fetch_inbound(None).items
    assert item.text == "Señales de alarma\n\nCorazón"


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/feed", "javascript:alert(1)", "gopher://x/", "//no-scheme", ""],
)
def test_only_http_urls(url):
    with pytest.raises(ContentRejected):
        feed_connector(url)
    with pytest.raises(ContentRejected):
        FeedConnector.prepare_account(url)


def test_credentials_in_the_url_are_refused():
    with pytest.raises(ContentRejected):
        FeedConnector.prepare_account("https://user:secret@blog.example/feed")


def test_private_addresses_are_refused_unless_allowed(server, settings):
    url = server.serve("/rss.xml", fixture("rss2.xml"))
    settings.TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ContentRejected, match="private or reserved"):
        feed_connector(url).fetch_inbound(None)
    assert server.requests == []  # refused before any request


def test_redirects_are_followed_and_checked(server):
    target = server.serve("/rss.xml", fixture("rss2.xml"))
    moved = server.serve("/old", b"", status=301, headers={"Location": "/rss.xml"})
    assert len(feed_connector(moved).fetch_inbound(None).items) == 2
    assert target.endswith("/rss.xml")
    sneaky = server.serve("/sneaky", b"", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(ContentRejected, match="http"):
        feed_connector(sneaky).fetch_inbound(None)
    loop = server.serve("/loop", b"", status=302, headers={"Location": "/loop"})
    with pytest.raises(TemporaryFailure, match="redirected too many times"):
        feed_connector(loop).fetch_inbound(None)


def test_http_errors(server):
    with pytest.raises(RemoteNotFound):
        feed_connector(server.url + "/missing.xml").fetch_inbound(None)
    url = server.serve("/down.xml", b"oops", status=503)
    with pytest.raises(TemporaryFailure):
        feed_connector(url).fetch_inbound(None)
    url = server.serve("/private.xml", b"no", status=403)
    with pytest.raises(ContentRejected):
        feed_connector(url).fetch_inbound(None)


def test_unreachable_server_is_temporary():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TemporaryFailure):
        feed_connector(f"http://127.0.0.1:{port}/feed").fetch_inbound(None)


def test_verify_account_reads_the_title(server):
    url = server.serve("/rss.xml", fixture("rss2.xml"))
    info = feed_connector(url).verify_account()
    assert info.display_name == "Comunidad & Marca" and info.external_id == url


def test_prepare_account_keeps_the_url():
    info = FeedConnector.prepare_account("  https://blog.example/feed.xml ")
    assert info.external_id == info.handle == "https://blog.example/feed.xml"
    assert feed_connector(info.handle).url == "https://blog.example/feed.xml"


def test_a_garbage_cursor_starts_afresh(server):
    url = server.serve("/rss.xml", fixture("rss2.xml"))
    assert len(feed_connector(url).fetch_inbound("not json").items) == 2


def test_html_to_text():
    assert html_to_text("<p>a</p><p>b<br>c</p>") == "a\n\nb\nc"
    assert html_to_text("x &amp; y&nbsp;z") == "x & y z"
    assert html_to_text("<script>bad()</script><noscript>n</noscript>ok") == "ok"
    assert html_to_text("") == ""
