from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from tertulia.connectors.base import (
    AuthenticationFailed,
    Capability,
    ContentRejected,
    InboundKind,
    NotSupported,
    OutgoingPost,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.registry import connector_class
from tertulia.connectors.signin import SignIn, sign_in_method
from tertulia.connectors.wordpress.connector import WordPressConnector
from tertulia.connectors.wordpress.tests.conftest import wp_connector
from tertulia.connectors.wordpress.tests.fake import APP_PASSWORD, USERNAME, FakeWordPress


def _drain(connector: WordPressConnector, cursor: str | None, limit: int = 100) -> tuple[list[str], str]:
    ids: list[str] = []
    for _ in range(100):
        page = connector.fetch_inbound(cursor, limit=limit)
        assert page.cursor is not None
        cursor = page.cursor
        if not page.items:
            return ids, cursor
        ids += [i.remote_id for i in page.items]
    raise AssertionError("never ran dry")


def test_registered_and_signs_in_with_a_password():
    assert connector_class("wordpress") is WordPressConnector
    assert sign_in_method(WordPressConnector) is SignIn.PASSWORD
    assert WordPressConnector.capabilities >= {Capability.READ_COMMENTS, Capability.HIDE, Capability.DELETE}


def test_connect_with_password_verifies_and_keeps_only_what_is_needed(site: FakeWordPress):
    connected = WordPressConnector.connect_with_password(USERNAME, APP_PASSWORD, site.url + "/")
    assert connected.info.external_id == f"{site.url}#3"
    assert connected.info.handle == f"editora@{site.url.split('://')[1]}"
    assert connected.info.display_name == "Editora Jefa"
    assert dict(connected.credentials) == {
        "username": USERNAME,
        "application_password": APP_PASSWORD,
        "base_url": site.url,
    }
    [request] = site.requests
    assert request.method == "GET" and request.path == "/wp-json/wp/v2/users/me"
    expected = base64.b64encode(f"{USERNAME}:{APP_PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


def test_a_wrong_password_is_refused(site):
    with pytest.raises(AuthenticationFailed, match="invalid application password"):
        WordPressConnector.connect_with_password(USERNAME, "wrong", site.url)


@pytest.mark.parametrize("address", ["ftp://blog.example", "https://u:p@blog.example", "http://"])
def test_site_addresses_are_checked(address):
    with pytest.raises(ContentRejected):
        WordPressConnector.connect_with_password(USERNAME, APP_PASSWORD, address)


def test_comments_become_inbound_items(site, connector):
    first = site.add_comment("Hola <strong>equipo</strong> <script>x()</script>", name="Ana &amp; Co")
    reply = site.add_comment("Respuesta", parent=first["id"], author=5, name="Luis", post=7)
    held = site.add_comment("¿Spam? عربي", status="hold", post=8)
    site.add_comment("Spam", status="spam")
    site.add_comment("Trashed", status="trash")
    page = connector.fetch_inbound(None)
    assert [i.remote_id for i in page.items] == [str(first["id"]), str(reply["id"]), str(held["id"])]
    one, two, three = page.items
    assert one.kind is InboundKind.COMMENT
    assert one.text == "Hola equipo"
    assert one.author.remote_id == "guest:Ana & Co" and one.author.display_name == "Ana & Co"
    assert one.author.profile_url == "https://ana.example/"
    assert one.conversation_key == "post:7" and one.in_reply_to is None
    assert one.created_at == datetime.fromisoformat(first["date_gmt"]).replace(tzinfo=UTC)
    assert one.url.endswith(f"#comment-{first['id']}")
    assert "author_email" not in one.raw and "author_ip" not in one.raw and "_links" not in one.raw
    assert two.in_reply_to == str(first["id"]) and two.author.remote_id == "5"
    assert three.conversation_key == "post:8" and three.raw["status"] == "hold"
    query = site.requests[-1].query
    assert query["status"] == ["all"] and query["order"] == ["desc"] and query["orderby"] == ["date_gmt"]


def test_cursor_pages_across_wp_pages_and_time_zones(site, connector):
    site.add_comment("old")
    cursor = connector.fetch_inbound(None, limit=1).cursor
    for n in range(250):
        site.add_comment(f"c{n}")
    ids, cursor = _drain(connector, cursor, limit=100)
    assert len(ids) == len(set(ids)) == 250
    assert {r.query.get("page", [""])[0] for r in site.requests if r.query.get("order") == ["asc"]} >= {
        "1",
        "3",
    }
    after = [r.query["after"][0] for r in site.requests if "after" in r.query]
    assert after and all("T" in a for a in after)
    site.add_comment("late")
    more, _cursor = _drain(connector, cursor)
    assert len(more) == 1


def test_first_read_skips_history_but_not_what_comes_after(site, connector):
    for n in range(5):
        site.add_comment(f"history {n}", when=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=n))
    page = connector.fetch_inbound(None, limit=2)
    assert [i.text for i in page.items] == ["history 3", "history 4"]
    site.add_comment("new")
    ids, _ = _drain(connector, page.cursor)
    assert [site.comments[int(i)]["content"]["rendered"] for i in ids] == ["<p>new</p>\n"]


def test_a_backdated_comment_within_a_day_is_not_lost(site, connector):
    first = site.add_comment("a", when=site.clock - timedelta(hours=23))
    cursor = connector.fetch_inbound(None).cursor
    site.add_comment("b")
    ids, cursor = _drain(connector, cursor)
    assert len(ids) == 1
    # Dated between the two already read (an import, a clock gone wrong): still new, read once.
    late = site.add_comment(
        "dated earlier",
        when=datetime.fromisoformat(first["date_gmt"]).replace(tzinfo=UTC) + timedelta(hours=1),
    )
    ids, cursor = _drain(connector, cursor)
    assert ids == [str(late["id"])]
    assert _drain(connector, cursor)[0] == []


def test_reply(site, connector):
    parent = site.add_comment("¿Cuándo abren?", post=8)
    published = connector.publish(OutgoingPost(text="Mañana a las 9 🙂", reply_to=str(parent["id"])))
    created = site.comments[int(published.remote_id)]
    assert created["parent"] == parent["id"] and created["post"] == 8
    assert published.url.endswith(f"#comment-{published.remote_id}")
    assert published.created_at.tzinfo is not None
    body = site.requests[-1].body
    assert body == {"post": 8, "parent": parent["id"], "content": "Mañana a las 9 🙂"}
    with pytest.raises(ContentRejected, match="Duplicate"):
        connector.publish(OutgoingPost(text="Mañana a las 9 🙂", reply_to=str(parent["id"])))


def test_publish_without_reply_to_is_not_supported(connector):
    with pytest.raises(NotSupported):
        connector.publish(OutgoingPost(text="A blog post"))


def test_moderation(site, connector):
    comment = site.add_comment("moderate me")
    cid = str(comment["id"])
    connector.hide(cid)
    assert comment["status"] == "hold" and site.requests[-1].body == {"status": "hold"}
    connector.approve(cid)
    assert comment["status"] == "approved"
    connector.hide(cid)
    connector.unhide(cid)
    assert comment["status"] == "approved"
    connector.spam(cid)
    assert comment["status"] == "spam"
    connector.delete(cid)
    assert comment["status"] == "trash"
    assert site.requests[-1].method == "DELETE" and site.requests[-1].query == {}
    with pytest.raises(RemoteNotFound):
        connector.delete(cid)  # already in the trash: 410


@pytest.mark.parametrize("bad", ["../users/me", "1?force=true", "-1", "0", ""])
def test_ids_that_are_not_comment_ids_never_reach_a_url(site, connector, bad):
    with pytest.raises(RemoteNotFound):
        connector.delete(bad)
    assert site.requests == []


def test_comments_by_id(site, connector):
    a = site.add_comment("a")
    site.add_comment("b")
    assert [i.remote_id for i in connector.comments_by_id([str(a["id"])])] == [str(a["id"])]


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (401, {}, AuthenticationFailed),
        (403, {}, AuthenticationFailed),
        (404, {}, RemoteNotFound),
        (400, {}, ContentRejected),
        (429, {"Retry-After": "17"}, RateLimited),
        (500, {}, TemporaryFailure),
        (503, {}, TemporaryFailure),
    ],
)
def test_errors_are_mapped(site, connector, status, headers, error):
    site.fail_next = (status, headers)
    with pytest.raises(error) as caught:
        connector.fetch_inbound(None)
    if error is RateLimited:
        assert caught.value.retry_after == 17


def test_unreachable_site_is_temporary(site):
    connector = wp_connector(site)
    site.httpd.shutdown()
    site.httpd.server_close()
    with pytest.raises(TemporaryFailure):
        connector.fetch_inbound(None)


def test_revoked_password(site):
    with pytest.raises(AuthenticationFailed):
        wp_connector(site, password="revoked").fetch_inbound(None)
