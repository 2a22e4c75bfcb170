"""Facebook Pages over real HTTP against the fake Graph API, which checks every request."""

from __future__ import annotations

import json

import pytest

from tertulia.connectors.base import (
    ContentRejected,
    InboundKind,
    MediaItem,
    NotSupported,
    OutgoingPost,
    RemoteNotFound,
)
from tertulia.connectors.meta.tests.fake_graph import PAGE_ID, fixture

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def test_verify_account_and_metrics(facebook, graph) -> None:
    info = facebook.verify_account()
    assert (info.external_id, info.handle, info.display_name) == (PAGE_ID, "casatertulia", "Casa Tertulia")
    metrics = facebook.account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (1520, 0, 0)


def test_publish_text_post(facebook, graph) -> None:
    published = facebook.publish(OutgoingPost(text="Abrimos el domingo"))
    assert published.remote_id in graph.posts
    assert published.url == f"https://www.facebook.com/{published.remote_id}"
    assert published.created_at.tzinfo is not None
    [call] = graph.calls("POST", rf"{PAGE_ID}/feed")
    assert call.params == {"message": "Abrimos el domingo"}
    assert call.headers["authorization"] == "Bearer PAGE-TOKEN"


def test_publish_link_post(facebook, graph) -> None:
    facebook.publish(OutgoingPost(text="La carta nueva: https://casa.example/carta."))
    [call] = graph.calls("POST", rf"{PAGE_ID}/feed")
    assert call.params["link"] == "https://casa.example/carta"


def test_publish_photo_with_alt_text(facebook, graph) -> None:
    published = facebook.publish(
        OutgoingPost(text="Hoy", media=[MediaItem("image/jpeg", JPEG, alt_text="Una tortilla")])
    )
    [call] = graph.calls("POST", rf"{PAGE_ID}/photos")
    assert call.params == {"published": "true", "message": "Hoy", "alt_text_custom": "Una tortilla"}
    assert call.files["source"][1] == JPEG
    assert published.remote_id in graph.posts  # the post id, not the photo id
    assert graph.objects[graph.objects[published.remote_id]["photo"]]["alt_text_custom"] == "Una tortilla"


def test_publish_several_photos(facebook, graph) -> None:
    media = [MediaItem("image/png", JPEG, alt_text=f"Foto {n}") for n in range(3)]
    published = facebook.publish(OutgoingPost(text="Tres", media=media))
    uploads = graph.calls("POST", rf"{PAGE_ID}/photos")
    assert [u.params["published"] for u in uploads] == ["false"] * 3
    [post] = graph.calls("POST", rf"{PAGE_ID}/feed")
    attached = [json.loads(post.params[f"attached_media[{n}]"])["media_fbid"] for n in range(3)]
    assert len(set(attached)) == 3
    assert graph.objects[published.remote_id]["attached"] == [{"media_fbid": a} for a in attached]


def test_publish_refusals(facebook, graph) -> None:
    with pytest.raises(ContentRejected):
        facebook.publish(OutgoingPost(text="   "))
    with pytest.raises(ContentRejected):
        facebook.publish(OutgoingPost(text="a" * 63207))
    with pytest.raises(NotSupported):
        facebook.publish(OutgoingPost(text="v", media=[MediaItem("video/mp4", b"v")]))
    with pytest.raises(NotSupported):
        facebook.publish(OutgoingPost(text="q", quote_of="100_1"))
    assert not graph.requests  # refused before any request


def _drain(connector, cursor, limit=4):
    items: list = []
    for _ in range(100):
        page = connector.fetch_inbound(cursor, limit=limit)
        cursor = page.cursor
        if not page.items:
            return items, cursor
        items.extend(page.items)
    raise AssertionError("never ran dry")


def test_comments_since_a_cursor_without_loss_or_repetition(facebook, graph) -> None:
    post = graph.page_post()
    old = graph.deliver_comments(2, post)
    first = facebook.fetch_inbound(None, limit=1)
    assert [i.remote_id for i in first.items] == old[-1:]  # the first read: the most recent
    fresh = graph.deliver_comments(10, post)  # three per second: several share a second
    other = graph.page_post("Otro post")
    fresh += graph.deliver_comments(4, other)
    items, cursor = _drain(facebook, first.cursor)
    assert [i.remote_id for i in items] == fresh
    assert all(i.kind is InboundKind.COMMENT for i in items)
    assert {i.conversation_key for i in items} == {post, other}
    assert items[0].author.remote_id == "5550001" and items[0].text == "Comentario 0"
    assert items[0].in_reply_to == post and items[0].url
    # Nothing new: the same cursor, nothing again; then only what came after.
    again = facebook.fetch_inbound(cursor)
    assert again.items == [] and again.cursor == cursor
    later = graph.deliver_comments(2, post)
    assert [i.remote_id for i in facebook.fetch_inbound(cursor).items] == later
    # Graph got `since`, and unchanged posts were not read at all.
    assert all("since" in c.params for c in graph.calls("GET", r".*/comments")[1:])


def test_own_replies_are_not_inbound_and_threads_keep_their_post(facebook, graph) -> None:
    post = graph.page_post()
    [question] = graph.deliver_comments(1, post)
    start = facebook.fetch_inbound(None).cursor
    reply = facebook.publish(OutgoingPost(text="¡Sí!", reply_to=question))
    graph.tick()
    answer = graph.comment(post, "Gracias", parent=question)
    items = facebook.fetch_inbound(start).items
    assert [i.remote_id for i in items] == [answer]
    assert items[0].in_reply_to == question and items[0].conversation_key == post
    assert graph.objects[reply.remote_id]["parent"] == {"id": question}


def test_reply_hide_unhide_delete(facebook, graph) -> None:
    post = graph.page_post()
    [comment] = graph.deliver_comments(1, post)
    reply = facebook.publish(OutgoingPost(text="Gracias", reply_to=comment))
    [call] = graph.calls("POST", rf"{comment}/comments")
    assert call.params == {"message": "Gracias"}
    facebook.hide(comment)
    assert graph.objects[comment]["is_hidden"] is True
    facebook.unhide(comment)
    assert graph.objects[comment]["is_hidden"] is False
    facebook.delete(reply.remote_id)
    facebook.delete(post)
    assert graph.deleted == [reply.remote_id, post]
    with pytest.raises(RemoteNotFound):
        facebook.delete(post)


def test_direct_messages(facebook, graph) -> None:
    start = facebook.fetch_inbound(None).cursor
    sent = [graph.message(f"Hola {n}") for n in range(3)]
    items, cursor = _drain(facebook, start, limit=2)
    assert [i.remote_id for i in items] == sent
    assert {i.kind for i in items} == {InboundKind.DIRECT_MESSAGE}
    assert items[0].author.remote_id == "PSID-5550001" and items[0].conversation_key.startswith("t_")
    reply = facebook.send_direct_message("PSID-5550001", "¡Claro!")
    [call] = graph.calls("POST", rf"{PAGE_ID}/messages")
    assert json.loads(call.params["recipient"]) == {"id": "PSID-5550001"}
    assert json.loads(call.params["message"]) == {"text": "¡Claro!"}
    assert call.params["messaging_type"] == "RESPONSE"
    assert reply.remote_id.startswith("m_sent_")
    assert facebook.fetch_inbound(cursor).items == []


def test_messages_outside_the_24_hour_window_are_rejected(facebook, graph) -> None:
    graph.fail("POST", rf"{PAGE_ID}/messages", 400, fixture("error_outside_messaging_window"))
    with pytest.raises(ContentRejected, match="24 hours"):
        facebook.send_direct_message("PSID-5550001", "Hola")
    with pytest.raises(ContentRejected):
        facebook.send_direct_message("PSID-5550001", "x" * 2001)


def test_post_metrics(facebook, graph) -> None:
    post = graph.page_post()
    graph.deliver_comments(3, post)
    [row] = facebook.post_metrics([post, "100_404"])  # a deleted post is left out
    assert (row.remote_id, row.likes, row.replies, row.reposts, row.impressions) == (post, 12, 3, 2, 431)
    # Without insights (no read_insights permission), counts still come.
    graph.fail(
        "GET", rf"{post}/insights", 403, fixture("error_outside_messaging_window") | {"error": {"code": 200}}
    )
    [row] = facebook.post_metrics([post])
    assert row.likes == 12 and row.impressions is None


def test_rate_limit_state(facebook, graph) -> None:
    before = facebook.rate_limit_state()
    assert before is not None and before.limit == before.remaining == 200
    facebook.verify_account()
    after = facebook.rate_limit_state()
    assert after is not None and after.remaining == 199
