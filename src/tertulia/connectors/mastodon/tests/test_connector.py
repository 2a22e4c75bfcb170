from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    ConnectorError,
    ContentRejected,
    InboundKind,
    MediaItem,
    OAuthClient,
    OutgoingPost,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.mastodon.client import BUCKET, NETWORK
from tertulia.connectors.mastodon.connector import SCOPES, MastodonConnector, pkce_challenge
from tertulia.connectors.mastodon.tests.fake import BRAND_ID, TOKEN
from tertulia.connectors.testing.spec_server import SpecResponse

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


# -- publishing


def test_publish_sends_the_idempotency_key(connector, server):
    published = connector.publish(OutgoingPost(text="Hola, Mastodon", idempotency_key="delivery-42"))
    [request] = server.requests_for("createStatus")
    assert request.headers["idempotency-key"] == "delivery-42"
    assert request.json() == {"status": "Hola, Mastodon", "visibility": "public"}
    assert published.remote_id and published.created_at.tzinfo is not None


def test_publish_without_a_key_sends_no_header(connector, server):
    connector.publish(OutgoingPost(text="sin clave"))
    [request] = server.requests_for("createStatus")
    assert "idempotency-key" not in request.headers


def test_media_is_uploaded_with_alt_text_and_awaited(connector, server, mastodon):
    mastodon.media_processing_polls = 2
    post = OutgoingPost(
        text="Con foto",
        media=[MediaItem("image/png", PNG, alt_text="Una taza de café"), MediaItem("image/png", PNG)],
    )
    connector.publish(post)
    uploads = server.requests_for("createMediaV2")
    assert [u.multipart().get("description") for u in uploads] == [b"Una taza de caf\xc3\xa9", None]
    assert uploads[0].multipart()["file"] == PNG
    polls = server.requests_for("getMedia")
    assert [p.response_status for p in polls] == [206, 206, 200, 206, 206, 200]
    [create] = server.requests_for("createStatus")
    assert create.json()["media_ids"] == list(mastodon.media)


def test_media_still_processing_is_a_temporary_failure(connector, mastodon):
    mastodon.media_processing_polls = 10**6
    connector.media_poll_attempts = 3
    with pytest.raises(TemporaryFailure):
        connector.publish(OutgoingPost(text="x", media=[MediaItem("image/png", PNG, "alt")]))


def test_reply_and_quote(connector, server, mastodon):
    foreign = mastodon.status(mastodon.customer, "original")
    connector.publish(OutgoingPost(text="respuesta", reply_to=foreign["id"]))
    connector.publish(OutgoingPost(text="cita", quote_of=foreign["id"]))
    reply, quote = server.requests_for("createStatus")
    assert reply.json()["in_reply_to_id"] == foreign["id"]
    assert quote.json()["quoted_status_id"] == foreign["id"]


def test_links_count_23_characters(connector):
    url = "https://example.com/" + "a" * 600
    connector.publish(OutgoingPost(text=f"{'x' * 470} {url}"))  # 470 + 1 + 23 = 494
    with pytest.raises(ContentRejected):
        connector.publish(OutgoingPost(text=f"{'x' * 480} {url}"))


def test_direct_message_mentions_the_recipient(connector, server, mastodon):
    connector.send_direct_message(mastodon.customer["id"], "¿Te ayudamos?", idempotency_key="dm-1")
    [request] = server.requests_for("createStatus")
    assert request.json() == {"status": "@customer@other.example ¿Te ayudamos?", "visibility": "direct"}
    assert request.headers["idempotency-key"] == "dm-1"


# -- reading


def test_notifications_are_mentions_replies_quotes_and_dms(connector, server, mastodon):
    mastodon.deliver(1)
    mastodon.deliver(1, kind="quote")
    mastodon.deliver(1, visibility="direct")
    reply = mastodon.deliver(1)[0]
    reply["status"]["in_reply_to_id"] = "1"
    page = connector.fetch_inbound(None, limit=10)
    assert [i.kind for i in page.items] == [
        InboundKind.MENTION,
        InboundKind.QUOTE,
        InboundKind.DIRECT_MESSAGE,
        InboundKind.REPLY,
    ]
    assert page.items[0].text == "@brand hola 0"
    assert page.items[2].conversation_key == f"dm:{BRAND_ID},{mastodon.customer['id']}"
    [request] = server.requests_for("getNotifications")
    assert request.query_values("types") == ["mention", "quote"]


def test_cursor_paging_with_min_id(connector, server, mastodon):
    mastodon.deliver(5)
    first = connector.fetch_inbound(None, limit=2)
    assert len(first.items) == 2
    mastodon.deliver(5)
    seen = []
    cursor = first.cursor
    while True:
        page = connector.fetch_inbound(cursor, limit=3)
        if not page.items:
            break
        seen.extend(page.items)
        cursor = page.cursor
    assert len(seen) == 5 == len({i.remote_id for i in seen})
    assert seen == sorted(seen, key=lambda i: (len(i.remote_id), i.remote_id))
    assert server.requests_for("getNotifications")[1].query_values("min_id") == [first.cursor]


def test_empty_first_read_starts_from_the_beginning(connector, mastodon):
    page = connector.fetch_inbound(None)
    assert page.items == [] and page.cursor == "0"
    mastodon.deliver(2)
    assert len(connector.fetch_inbound(page.cursor).items) == 2


def test_conversations_are_direct_messages(connector, server, mastodon, fixtures):
    dm = mastodon.status(mastodon.customer, "hola por privado", visibility="direct")
    mastodon.conversations.append(
        fixtures.build("Conversation", id="55", accounts=[mastodon.customer], unread=True, last_status=dm)
    )
    page = connector.fetch_conversations(None)
    [item] = page.items
    assert item.kind is InboundKind.DIRECT_MESSAGE and item.text == "hola por privado"
    assert page.cursor == "77"  # from the Link rel="prev" header
    connector.fetch_conversations(page.cursor)
    assert server.requests_for("getConversations")[1].query_values("min_id") == ["77"]


def test_stream_yields_mentions(connector, mastodon, fixtures):
    [mention] = mastodon.deliver(1)
    [favourite] = mastodon.deliver(1)
    favourite = {**favourite, "type": "favourite"}
    mastodon.stream_events = [
        ("update", mention["status"]),
        ("notification", favourite),
        ("notification", mention),
        ("delete", "123"),
    ]
    items = list(connector.stream_inbound())
    assert [i.remote_id for i in items] == [mention["status"]["id"]]
    assert items[0].kind is InboundKind.MENTION


# -- moderation and metrics


def test_delete_block_mute(connector, server, mastodon):
    own = connector.publish(OutgoingPost(text="borrar"))
    connector.delete(own.remote_id)
    connector.block("3000")
    connector.mute("3000")
    assert [r.operation for r in server.requests[-3:]] == [
        "deleteStatus",
        "postAccountBlock",
        "postAccountMute",
    ]
    with pytest.raises(RemoteNotFound):
        connector.delete(own.remote_id)


def test_post_metrics(connector, server, mastodon):
    own = connector.publish(OutgoingPost(text="medir"))
    status = mastodon.statuses[own.remote_id]
    status.update(favourites_count=4, reblogs_count=2, replies_count=1)
    [row] = connector.post_metrics([own.remote_id, "999999"])
    assert (row.likes, row.reposts, row.replies) == (4, 2, 1)
    assert server.requests_for("getStatuses")[0].query_values("id") == [own.remote_id, "999999"]


def test_account_metrics_and_verify(connector):
    metrics = connector.account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (12, 3, 7)
    info = connector.verify_account()
    assert info.external_id == BRAND_ID and info.handle == "brand@127.0.0.1"


# -- errors and rate limits


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationFailed), (404, RemoteNotFound), (422, ContentRejected), (503, TemporaryFailure)],
)
def test_errors_map_to_typed_errors(connector, server, fixtures, status, error):
    server.on("createStatus", SpecResponse(status=status, body=fixtures.build("Error", error="nope")))
    with pytest.raises(error):
        connector.publish(OutgoingPost(text="x"))


def test_server_error_on_upload_is_temporary(connector, server, fixtures):
    # The spec lists 500 for the media upload (not for createStatus).
    server.on("createMediaV2", SpecResponse(status=500, body=fixtures.build("Error", error="boom")))
    with pytest.raises(TemporaryFailure):
        connector.publish(OutgoingPost(text="x", media=[MediaItem("image/png", PNG, "alt")]))


def test_wrong_token_is_authentication_failed(db, server, mastodon):
    stale = MastodonConnector(
        ChannelAccount(handle="b", credentials={"access_token": "expired"}, settings={"base_url": server.url})
    )
    with pytest.raises(AuthenticationFailed):
        stale.account_metrics()


def test_429_with_retry_after_holds_off_every_worker(connector, server, fixtures):
    server.on(
        "createStatus",
        SpecResponse(
            status=429,
            body=fixtures.build("Error", error="Too many requests"),
            headers={"Retry-After": "120"},
        ),
    )
    with pytest.raises(RateLimited) as raised:
        connector.publish(OutgoingPost(text="x"))
    assert raised.value.retry_after == 120
    with pytest.raises(RateLimited):  # refused locally: no request reaches the instance
        connector.account_metrics()
    assert len(server.requests) == 1


def test_rate_limit_headers_are_adopted(connector, mastodon):
    mastodon.remaining = 11
    connector.account_metrics()
    state = connector.rate_limit_state()
    assert state is not None and (state.limit, state.remaining) == (300, 10)
    assert ratelimit.state(NETWORK, connector.http.limiter_key, BUCKET) == state


def test_unreachable_instance_is_temporary(db):
    dead = MastodonConnector(
        ChannelAccount(
            handle="b", credentials={"access_token": "t"}, settings={"base_url": "http://127.0.0.1:9"}
        )
    )
    with pytest.raises(TemporaryFailure):
        dead.account_metrics()


# -- OAuth


def test_authorization_url_uses_pkce_s256(server):
    client = OAuthClient(client_id="app-id", client_secret="app-secret", base_url=server.url)
    verifier = "v" * 64
    url = MastodonConnector.authorization_url(client, "https://tertulia.example/cb", "state-1", verifier)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == expected == pkce_challenge(verifier)
    assert query["code_challenge_method"] == "S256" and query["state"] == "state-1"
    # The URL itself is valid against the spec's /oauth/authorize operation.
    server.on("getOauthAuthorize", SpecResponse(status=200, body=None, content_type="text/html"))
    assert httpx.get(url).status_code == 200
    assert parts.path == "/oauth/authorize"


def test_complete_authorization(server, mastodon):
    app = mastodon.register("https://t.example/cb", SCOPES)
    client = OAuthClient(app["client_id"], app["client_secret"], base_url=server.url)
    url = MastodonConnector.authorization_url(client, "https://t.example/cb", "state-1", "v" * 64)
    assert httpx.get(url).status_code == 200  # the instance checked client, redirect URI, scopes, PKCE
    code = parse_qs(urlsplit(mastodon.approvals[-1]).query)["code"][0]
    connected = MastodonConnector.complete_authorization(client, "https://t.example/cb", code, "v" * 64)
    assert connected.credentials["access_token"] == TOKEN
    assert connected.info.external_id == BRAND_ID
    [token] = server.requests_for("postOauthToken")
    assert token.json()["code_verifier"] == "v" * 64 and token.json()["grant_type"] == "authorization_code"
    with pytest.raises(AuthenticationFailed):  # a code is good once
        MastodonConnector.complete_authorization(client, "https://t.example/cb", code, "v" * 64)


def test_undeclared_find_own_post_refuses(connector):
    with pytest.raises(ConnectorError):
        connector.find_own_post("k")
