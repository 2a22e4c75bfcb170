"""Instagram over real HTTP against the fake Graph API: the container flow, its limit, comments, DMs."""

from __future__ import annotations

import json

import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    ConnectorError,
    ContentRejected,
    InboundKind,
    MediaItem,
    NotSupported,
    OutgoingPost,
    RateLimited,
    TemporaryFailure,
)
from tertulia.connectors.meta.tests.fake_graph import IG_ID, PAGE_ID

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def _photo(alt: str = "") -> MediaItem:
    return MediaItem("image/jpeg", JPEG, alt_text=alt)


def test_verify_account_and_metrics(instagram, graph) -> None:
    info = instagram.verify_account()
    assert (info.external_id, info.handle) == (IG_ID, "casa.tertulia")
    metrics = instagram.account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (2310, 180, 64)


def test_publish_container_poll_publish(instagram, graph) -> None:
    graph.container_polls = ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    published = instagram.publish(OutgoingPost(text="Nuevo menú #verano", media=[_photo()]))
    assert published.remote_id in graph.media
    assert published.url.startswith("https://www.instagram.com/p/")
    # Staged on the Page, unpublished; then one container with the staged photo's URL and the caption.
    [stage] = graph.calls("POST", rf"{PAGE_ID}/photos")
    assert stage.params == {"published": "false"}
    [container] = graph.calls("POST", rf"{IG_ID}/media")
    assert container.params["caption"] == "Nuevo menú #verano"
    assert container.params["image_url"].endswith("889_o.jpg")  # the largest rendition
    polls = graph.calls("GET", r"178\d+")
    assert len(polls) == 3 and all(p.params == {"fields": "status_code,status"} for p in polls)
    [publish] = graph.calls("POST", rf"{IG_ID}/media_publish")
    assert publish.params == {"creation_id": polls[0].path}  # the container polled
    order = [r.path for r in graph.requests]
    assert order.index(f"{IG_ID}/content_publishing_limit") < order.index(f"{IG_ID}/media")
    assert order.index(polls[-1].path) < order.index(f"{IG_ID}/media_publish")
    # The staged photo is removed once the post is out.
    assert len(graph.deleted) == 1 and graph.deleted[0] not in graph.media


def test_publish_carousel(instagram, graph) -> None:
    instagram.publish(OutgoingPost(text="Tres platos", media=[_photo(), _photo(), _photo()]))
    containers = graph.calls("POST", rf"{IG_ID}/media")
    assert [c.params.get("is_carousel_item") for c in containers[:3]] == ["true"] * 3
    assert containers[3].params["media_type"] == "CAROUSEL"
    assert len(containers[3].params["children"].split(",")) == 3
    assert len(graph.deleted) == 3


def test_a_container_that_errors_is_rejected_and_not_published(instagram, graph) -> None:
    graph.container_polls = ["IN_PROGRESS", "ERROR"]
    with pytest.raises(ContentRejected, match="download has failed"):
        instagram.publish(OutgoingPost(text="x", media=[_photo()]))
    assert not graph.calls("POST", rf"{IG_ID}/media_publish")
    assert len(graph.deleted) == 1  # staging cleaned up anyway


def test_a_container_still_processing_is_a_temporary_failure(instagram, graph) -> None:
    graph.container_polls = ["IN_PROGRESS"]
    with pytest.raises(TemporaryFailure):
        instagram.publish(OutgoingPost(text="x", media=[_photo()]))
    assert len(graph.calls("GET", r"178\d+")) == instagram.poll_attempts
    assert not graph.calls("POST", rf"{IG_ID}/media_publish")


def test_instagram_says_the_24_hour_limit_is_used(instagram, graph) -> None:
    graph.quota_usage = 50
    with pytest.raises(RateLimited) as caught:
        instagram.publish(OutgoingPost(text="x", media=[_photo()]))
    assert caught.value.retry_after > 0
    assert not graph.calls("POST", rf"{IG_ID}/media")
    # Every worker now holds off without asking Instagram again.
    asked = len(graph.requests)
    with pytest.raises(RateLimited):
        instagram.publish(OutgoingPost(text="x", media=[_photo()]))
    assert len(graph.requests) == asked


def test_our_own_budget_stops_the_51st_post(instagram, graph) -> None:
    budget = ratelimit.budget_for("instagram", "publish")
    assert budget is not None and (budget.limit, budget.window_seconds) == (50, 86_400)
    for _n in range(49):
        ratelimit.spend("instagram", instagram.graph.limiter_key, "publish")
    instagram.publish(OutgoingPost(text="el 50", media=[_photo()]))
    state = instagram.rate_limit_state()
    assert state is not None and (state.limit, state.remaining) == (50, 0)
    asked = len(graph.requests)
    with pytest.raises(RateLimited):
        instagram.publish(OutgoingPost(text="el 51", media=[_photo()]))
    assert len(graph.requests) == asked  # refused before any request


def test_publish_refusals(instagram, graph) -> None:
    with pytest.raises(NotSupported):
        instagram.publish(OutgoingPost(text="solo texto"))
    with pytest.raises(ContentRejected):
        instagram.publish(OutgoingPost(text="a" * 2201, media=[_photo()]))
    with pytest.raises(ContentRejected):
        instagram.publish(OutgoingPost(text=" ".join(f"#t{n}" for n in range(31)), media=[_photo()]))
    with pytest.raises(ContentRejected, match="JPEG"):
        instagram.publish(OutgoingPost(text="png", media=[MediaItem("image/png", b"png")]))
    with pytest.raises(ContentRejected):
        instagram.publish(OutgoingPost(text="many", media=[_photo()] * 11))
    assert not graph.requests


def test_comments_and_replies_since_a_cursor(instagram, graph) -> None:
    media = graph.ig_media_item()
    graph.tick()
    older = graph.ig_comment(media, "Primero")
    start = instagram.fetch_inbound(None)
    assert [i.remote_id for i in start.items] == [older]
    made = []
    for n in range(7):
        if n % 3 == 0:
            graph.tick()
        made.append(graph.ig_comment(media, f"Comentario {n}", parent=older if n == 4 else ""))
    empty = graph.ig_media_item()  # no comments: not read
    seen, cursor = [], start.cursor
    for _ in range(10):
        page = instagram.fetch_inbound(cursor, limit=3)
        cursor = page.cursor
        if not page.items:
            break
        seen.extend(page.items)
    assert sorted(i.remote_id for i in seen) == sorted(made)
    assert len({i.remote_id for i in seen}) == len(made)
    reply = next(i for i in seen if i.text == "Comentario 4")
    assert reply.in_reply_to == older and reply.conversation_key == media
    assert seen[0].author.handle == "cliente.fiel" and seen[0].kind is InboundKind.COMMENT
    assert not graph.calls("GET", rf"{empty}/comments")


def test_reply_hide_delete(instagram, graph) -> None:
    media = graph.ig_media_item()
    comment = graph.ig_comment(media, "¿Precio?")
    start = instagram.fetch_inbound(None).cursor
    reply = instagram.publish(OutgoingPost(text="12 €", reply_to=comment))
    [call] = graph.calls("POST", rf"{comment}/replies")
    assert call.params == {"message": "12 €"}
    assert instagram.fetch_inbound(start).items == []  # our own reply is not inbound
    instagram.hide(comment)
    assert graph.objects[comment]["hidden"] is True
    instagram.unhide(comment)
    assert graph.objects[comment]["hidden"] is False
    instagram.delete(reply.remote_id)
    assert graph.deleted == [reply.remote_id]
    with pytest.raises(ConnectorError):
        instagram.delete(media)  # Instagram media cannot be deleted through the API


def test_direct_messages(instagram, graph) -> None:
    start = instagram.fetch_inbound(None).cursor
    graph.message("Hola por Messenger")  # another platform: not Instagram's
    sent = [
        graph.message(f"DM {n}", platform="instagram", sender={"id": "IGSID-1", "username": "c"})
        for n in range(2)
    ]
    items = instagram.fetch_inbound(start).items
    assert [i.remote_id for i in items] == sent
    assert [c.params["platform"] for c in graph.calls("GET", rf"{PAGE_ID}/conversations")] == [
        "instagram"
    ] * 2
    instagram.send_direct_message("IGSID-1", "¡Hola!")
    [call] = graph.calls("POST", rf"{PAGE_ID}/messages")
    assert json.loads(call.params["recipient"]) == {"id": "IGSID-1"} and "messaging_type" not in call.params


def test_post_metrics(instagram, graph) -> None:
    media = graph.ig_media_item()
    graph.ig_comment(media, "uno")
    graph.ig_comment(media, "dos")
    [row] = instagram.post_metrics([media, "17999999"])  # a missing media is left out
    assert (row.remote_id, row.likes, row.replies, row.reposts, row.impressions) == (media, 40, 2, 0, 1234)
