"""The X connector over real HTTP against the fake X; every request is checked against X's spec
(the `x_server` fixture fails a test that sent anything outside it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    ConnectorError,
    ContentRejected,
    InboundKind,
    NotSupported,
    OutgoingPost,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.testing.spec_server import SchemaFixtures, SpecServer
from tertulia.connectors.x import connector as x_connector
from tertulia.connectors.x.connector import XConnector
from tertulia.connectors.x.tests.conftest import make_connector, unauthenticated
from tertulia.connectors.x.tests.fake_x import ACCESS_TOKEN, FakeX

pytestmark = pytest.mark.django_db


def _drain(connector: XConnector, cursor: str | None, limit: int) -> tuple[list, str]:
    items: list = []
    for _ in range(100):
        page = connector.fetch_inbound(cursor, limit=limit)
        assert page.cursor is not None
        cursor = page.cursor
        if not page.items:
            return items, cursor
        items.extend(page.items)
    raise AssertionError("never ran dry")


# ---------------------------------------------------------------- publishing


def test_publish_sends_only_the_text(connector: XConnector, fake: FakeX) -> None:
    published = connector.publish(OutgoingPost(text="Hola, mundo 👋"))
    [request] = fake.server.requests_for("createPosts")
    assert request.json() == {"text": "Hola, mundo 👋"}
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert published.remote_id in fake.posts
    assert published.url == f"https://x.com/casa_prueba/status/{published.remote_id}"
    # The id is a snowflake: its creation time is in it.
    assert published.created_at.tzinfo is not None
    assert abs(published.created_at - datetime.now(UTC)) < timedelta(days=1)


def test_reply_thread_and_quote(connector: XConnector, fake: FakeX, people: list[str]) -> None:
    head = connector.publish(OutgoingPost(text="Hilo 1/3"))
    second = connector.publish(OutgoingPost(text="Hilo 2/3", reply_to=head.remote_id))
    third = connector.publish(OutgoingPost(text="Hilo 3/3", reply_to=second.remote_id))
    foreign = fake.add_post(people[0], "Algo que citar")
    quote = connector.publish(OutgoingPost(text="Mirad esto", quote_of=foreign))
    bodies = [r.json() for r in fake.server.requests_for("createPosts")]
    assert bodies[1] == {"text": "Hilo 2/3", "reply": {"in_reply_to_tweet_id": head.remote_id}}
    assert bodies[2]["reply"] == {"in_reply_to_tweet_id": second.remote_id}
    assert bodies[3] == {"text": "Mirad esto", "quote_tweet_id": foreign}
    assert fake.posts[third.remote_id]["conversation_id"] == head.remote_id
    assert {"type": "quoted", "id": foreign} in fake.posts[quote.remote_id]["referenced_posts"]


def test_weighted_limit_is_checked_before_sending(connector: XConnector, fake: FakeX) -> None:
    for text in ("a" * 281, "日" * 141, "😀" * 141, "", "hola\ufeff"):
        with pytest.raises(ContentRejected):
            connector.publish(OutgoingPost(text=text))
    assert fake.server.requests == []
    # Long URLs count 23, so this fits although it has far more than 280 code points.
    connector.publish(
        OutgoingPost(text="Lee " + " ".join(f"https://tertulia.example/{'a' * 80}" for _ in range(5)))
    )
    connector.publish(OutgoingPost(text="日" * 140))


def test_duplicate_content_is_rejected(connector: XConnector) -> None:
    connector.publish(OutgoingPost(text="Solo una vez"))
    with pytest.raises(ContentRejected, match="duplicate"):
        connector.publish(OutgoingPost(text="Solo una vez"))


def test_replying_to_a_missing_post(connector: XConnector) -> None:
    with pytest.raises(RemoteNotFound):
        connector.publish(OutgoingPost(text="¿Hola?", reply_to="1234567890"))
    with pytest.raises(RemoteNotFound):
        connector.publish(OutgoingPost(text="¿Hola?", reply_to="not-an-id"))


def test_delete(connector: XConnector, fake: FakeX) -> None:
    published = connector.publish(OutgoingPost(text="Borrar"))
    connector.delete(published.remote_id)
    assert published.remote_id not in fake.posts
    with pytest.raises(RemoteNotFound):
        connector.delete(published.remote_id)


# ---------------------------------------------------------------- reconciliation


def test_find_own_post_by_text_after_the_attempt(
    connector: XConnector, fake: FakeX, people: list[str]
) -> None:
    started = datetime.now(UTC)
    foreign = fake.add_post(people[0], "@casa_prueba ¿abrís mañana?")
    text = "Sí & a las 9 <de verdad>: https://tertulia.example/horario"
    post = OutgoingPost(text=text, reply_to=foreign, idempotency_key="delivery-1")
    published = connector.publish(post)
    # X hands the text back escaped, with a t.co link and the handle it answers in front.
    assert fake.posts[published.remote_id]["text"].startswith("@persona_0 Sí &amp; a las 9 &lt;de verdad&gt;")
    found = connector.find_own_post("delivery-1", post=post, since=started)
    assert found is not None and found.remote_id == published.remote_id
    # Same text, but not an answer to that post: not ours.
    assert connector.find_own_post("d", post=OutgoingPost(text=text), since=started) is None
    assert connector.find_own_post("d", post=OutgoingPost(text="Otra cosa", reply_to=foreign)) is None
    [first, *_] = fake.server.requests_for("getUsersPosts")
    assert first.query_values("start_time")[0].endswith("Z")


def test_find_own_post_needs_the_post(connector: XConnector) -> None:
    with pytest.raises(ConnectorError):
        connector.find_own_post("delivery-1")


# ---------------------------------------------------------------- reading


def test_mentions_become_inbound_items(connector: XConnector, fake: FakeX, people: list[str]) -> None:
    brand_post = fake.add_post(fake.me_id, "Novedades")
    mention = fake.add_post(people[1], "Hola @casa_prueba &amp; compañía")
    reply = fake.add_post(people[2], "@casa_prueba ¡genial!", reply_to=brand_post)
    quote = fake.add_post(people[3], "Ojo @casa_prueba", quote_of=brand_post)
    page = connector.fetch_inbound(None, limit=10)
    by_id = {item.remote_id: item for item in page.items}
    assert [i.remote_id for i in page.items] == [mention, reply, quote]  # oldest first
    assert by_id[mention].kind == InboundKind.MENTION
    assert by_id[mention].text == "Hola @casa_prueba & compañía"
    assert by_id[mention].author.handle == "persona_1"
    assert by_id[mention].author.followers_count == 10
    assert by_id[mention].author.profile_url == "https://x.com/persona_1"
    assert by_id[mention].url == f"https://x.com/persona_1/status/{mention}"
    assert by_id[mention].conversation_key == mention
    assert by_id[mention].language == "es"
    assert by_id[reply].kind == InboundKind.REPLY
    assert by_id[reply].in_reply_to == brand_post
    assert by_id[reply].conversation_key == brand_post
    assert by_id[quote].kind == InboundKind.QUOTE
    [request] = fake.server.requests_for("getUsersMentions")
    assert request.path == f"/2/users/{fake.me_id}/mentions"
    assert request.query_values("expansions") == ["author_id,referenced_posts"]
    assert "public_metrics" in request.query_values("user.fields")[0]
    assert not request.query_values("since_id")


def test_cursor_sends_since_id(connector: XConnector, fake: FakeX, people: list[str]) -> None:
    fake.add_post(people[0], "@casa_prueba uno")
    first = connector.fetch_inbound(None)
    newest = fake.add_post(people[0], "@casa_prueba dos")
    second = connector.fetch_inbound(first.cursor)
    assert [i.remote_id for i in second.items] == [newest]
    assert second.cursor is not None
    assert connector.fetch_inbound(second.cursor).items == []
    since = [r.query_values("since_id") for r in fake.server.requests_for("getUsersMentions")]
    assert since[0] == [] and since[1] and since[2] == [newest]


def test_pagination_loses_nothing_and_repeats_nothing(
    connector: XConnector, fake: FakeX, people: list[str]
) -> None:
    start = connector.fetch_inbound(None).cursor
    expected = [fake.add_post(people[n % 4], f"@casa_prueba mensaje {n}") for n in range(250)]
    expected += [fake.add_message(people[n % 4], fake.me_id, f"privado {n}") for n in range(130)]
    items, cursor = _drain(connector, start, limit=60)
    ids = [i.remote_id for i in items]
    assert len(ids) == len(set(ids)) == 380
    assert {i.removeprefix("dm-") for i in ids} == set(expected)
    assert ids == sorted(ids, key=lambda i: int(i.removeprefix("dm-")))  # oldest first throughout
    # X's pages were followed with its tokens.
    tokens = [r.query_values("pagination_token") for r in fake.server.requests_for("getUsersMentions")]
    assert any(tokens)
    later = fake.add_post(people[0], "@casa_prueba y una más")
    more, _ = _drain(connector, cursor, limit=60)
    assert [i.remote_id for i in more] == [later]


def test_direct_messages(connector: XConnector, fake: FakeX, people: list[str]) -> None:
    incoming = fake.add_message(people[0], fake.me_id, "Hola, ¿tenéis mesa?")
    page = connector.fetch_inbound(None)
    [item] = page.items
    assert item.kind == InboundKind.DIRECT_MESSAGE
    assert item.remote_id == f"dm-{incoming}"
    assert item.author.handle == "persona_0"
    assert item.conversation_key == "dm-" + fake.messages[incoming]["dm_conversation_id"]
    sent = connector.send_direct_message(people[0], "Sí, a las 9")
    assert sent.remote_id.startswith("dm-")
    [request] = fake.server.requests_for("createDirectMessagesByParticipantId")
    assert request.path == f"/2/dm_conversations/with/{people[0]}/messages"
    assert request.json() == {"text": "Sí, a las 9"}
    # Our own message is not inbound.
    assert connector.fetch_inbound(page.cursor).items == []
    connector.delete(sent.remote_id)
    assert sent.remote_id.removeprefix("dm-") not in fake.messages
    [dm_read, *_] = fake.server.requests_for("getDirectMessagesEvents")
    assert dm_read.query_values("event_types") == ["MessageCreate"]
    with pytest.raises(RemoteNotFound):
        connector.send_direct_message("not-a-user", "hola")


# ---------------------------------------------------------------- moderation and metrics


def test_hide_unhide_mute(connector: XConnector, fake: FakeX, people: list[str]) -> None:
    own = fake.add_post(fake.me_id, "Nuestro post")
    reply = fake.add_post(people[0], "@casa_prueba spam", reply_to=own)
    connector.hide(reply)
    assert fake.hidden[reply] is True
    connector.unhide(reply)
    assert fake.hidden[reply] is False
    assert [r.json() for r in fake.server.requests_for("hidePostsReply")] == [
        {"hidden": True},
        {"hidden": False},
    ]
    with pytest.raises(NotSupported):
        connector.hide("dm-123")
    connector.mute(people[1])
    assert (fake.me_id, people[1]) in fake.muted
    with pytest.raises(NotSupported):
        connector.block(people[1])  # the v2 spec has no endpoint to block


def test_post_and_account_metrics(connector: XConnector, fake: FakeX, people: list[str]) -> None:
    a = connector.publish(OutgoingPost(text="Uno")).remote_id
    b = connector.publish(OutgoingPost(text="Dos")).remote_id
    fake.add_post(people[0], "@casa_prueba respuesta", reply_to=a)
    fake.posts[b]["public_metrics"].update(like_count=7, repost_count=2, quote_count=1, impression_count=99)
    rows = {m.remote_id: m for m in connector.post_metrics([a, b, "999", "nope"])}
    assert set(rows) == {a, b}
    assert rows[a].replies == 1
    assert (rows[b].likes, rows[b].reposts, rows[b].quotes, rows[b].impressions) == (7, 2, 1, 99)
    [request] = fake.server.requests_for("getPostsByIds")
    assert request.query_values("ids") == [f"{a},{b},999"]
    assert request.query_values("post.fields") == ["public_metrics"]
    metrics = connector.account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (120, 3, 2)


# ---------------------------------------------------------------- limits and errors


def test_rate_limit_headers_are_adopted(connector: XConnector, fake: FakeX) -> None:
    connector.publish(OutgoingPost(text="Contando"))
    state = connector.rate_limit_state()
    assert (state.limit, state.remaining) == (50, 49)
    assert state.resets_at == datetime.fromtimestamp(fake.windows["createPosts"].reset, tz=UTC)


def test_429_holds_off_that_endpoint_only(connector: XConnector, fake: FakeX) -> None:
    fake.throttle["createPosts"] = 1
    with pytest.raises(RateLimited) as caught:
        connector.publish(OutgoingPost(text="Demasiado pronto"))
    reset = fake.windows["createPosts"].reset
    assert 0 < caught.value.retry_after <= reset - time.time() + 1
    sent = len(fake.server.requests)
    # No worker tries that endpoint again before the reset: refused here, without a request.
    with pytest.raises(RateLimited):
        connector.publish(OutgoingPost(text="Otra vez"))
    assert len(fake.server.requests) == sent
    assert ratelimit.state("x", fake.me_id, "POST /2/tweets") is not None
    # Other endpoints have their own windows.
    connector.account_metrics()


def test_401_5xx_and_transport_errors(fake: FakeX, db) -> None:
    with pytest.raises(AuthenticationFailed):
        make_connector(fake, token="expired").publish(OutgoingPost(text="hola"))
    connector = make_connector(fake)
    fake.fail["getUsersMe"] = 1
    with pytest.raises(TemporaryFailure) as caught:
        connector.account_metrics()
    assert caught.value.retryable
    with pytest.raises(AuthenticationFailed):
        make_connector(fake, token="").publish(OutgoingPost(text="hola"))
    gone = XConnector(
        ChannelAccount(
            handle="c",
            external_id="1",
            settings={"base_url": "http://127.0.0.1:9"},
            credentials={"access_token": "t"},
        )
    )
    with pytest.raises(TemporaryFailure):
        gone.account_metrics()


def test_bad_cursor(connector: XConnector) -> None:
    with pytest.raises(ConnectorError):
        connector.fetch_inbound("not-a-cursor")


# ---------------------------------------------------------------- the validation itself


def test_the_spec_server_catches_invalid_requests(x_spec, monkeypatch) -> None:
    """A negative control: requests outside X's spec are recorded as invalid, never answered as valid."""
    with SpecServer(x_spec) as server, httpx.Client(base_url=server.url) as http:
        auth = {"Authorization": "Bearer t"}
        http.post("/2/tweets", json={"text": "hola", "bogus": 1}, headers=auth)  # unknown body field
        http.post("/2/tweets", json={"text": "hola", "quote_tweet_id": "abc"}, headers=auth)  # bad id
        http.get("/2/users/123/mentions", params={"max_results": "500"}, headers=auth)  # over the maximum
        http.get("/2/users/123/mentions", params={"tweet.fields": "public_metrics"}, headers=auth)  # old name
        http.get("/2/users/123/mentions", params={"post.fields": "author_id"}, headers=auth)  # not a field
        http.put("/2/tweets/1/hidden", json={}, headers=auth)  # missing required property
        http.get("/2/no/such/endpoint", headers=auth)
        assert len(server.invalid) == 7
        assert all(r.response_status == 400 for r in server.invalid)
        # No token at all: X's operations also allow OAuth 1.0a, which openapi-core does not check,
        # so the X tests look for the bearer token themselves (conftest.unauthenticated).
        http.get("/2/users/me")
        assert unauthenticated(server) == ["GET /2/users/me"]
        with pytest.raises(AssertionError):
            server.assert_all_valid()


def test_a_connector_bug_would_be_caught(x_spec, db, monkeypatch) -> None:
    """If the connector asked for a field the spec does not have, the server would record it."""
    monkeypatch.setattr(x_connector, "POST_FIELDS", "conversation_id,author_id")
    with SpecServer(x_spec) as server:
        fake = FakeX(
            server=server,
            fixtures=SchemaFixtures(x_spec),
        )
        fake.me_id = fake.add_user("casa_prueba")
        fake.install()
        with pytest.raises(ContentRejected):
            make_connector(fake).fetch_inbound(None)
        [invalid] = server.invalid
        assert "author_id" in (invalid.error or "")
