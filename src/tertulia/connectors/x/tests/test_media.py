"""Images with alt text on X: checked locally, uploaded in chunks, every request checked against X's spec
(the `x_server` fixture fails a test that sent anything outside it)."""

from __future__ import annotations

import pytest

from tertulia.connectors.base import (
    Capability,
    ContentRejected,
    MediaItem,
    OutgoingPost,
    TemporaryFailure,
)
from tertulia.connectors.x import media
from tertulia.connectors.x.connector import XConnector
from tertulia.connectors.x.tests.fake_x import FakeX

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 100
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x02" * 50
GIF = b"GIF89a" + b"\x03" * 100


@pytest.fixture
def no_wait(connector: XConnector) -> list[float]:
    waits: list[float] = []
    connector.uploader.sleep = waits.append
    return waits


def test_declares_images_and_alt_text() -> None:
    assert XConnector.supports(Capability.PUBLISH_IMAGES)
    assert XConnector.supports(Capability.ALT_TEXT)


def test_four_images_with_alt_text(connector: XConnector, fake: FakeX, no_wait: list[float]) -> None:
    items = [
        MediaItem("image/png", PNG, alt_text="Un gráfico de barras"),
        MediaItem("image/jpeg", JPEG, alt_text="La tienda por fuera"),
        MediaItem("image/webp", WEBP),
        MediaItem("image/png", PNG + b"!", alt_text="Otra vista"),
    ]
    published = connector.publish(OutgoingPost(text="Cuatro fotos", media=items))
    ids = fake.post_media[published.remote_id]
    assert len(ids) == 4
    for media_id, item in zip(ids, items, strict=True):
        stored = fake.media[media_id]
        assert stored["data"] == item.data
        assert stored["media_type"] == item.mime_type
        assert stored["category"] == "tweet_image"
        assert stored["alt_text"] == (item.alt_text or None)  # no metadata request without alt text
    [create] = fake.server.requests_for("createPosts")
    assert create.json() == {"text": "Cuatro fotos", "media": {"media_ids": ids}}
    assert len(fake.server.requests_for("createMediaMetadata")) == 3
    assert no_wait == []  # images need no processing wait


def test_a_large_image_is_sent_in_ordered_segments(
    connector: XConnector, fake: FakeX, no_wait: list[float]
) -> None:
    data = PNG + bytes(range(256)) * (media.CHUNK_BYTES // 256 * 2 + 3)  # a bit over two chunks
    published = connector.publish(OutgoingPost(text="", media=[MediaItem("image/png", data)]))
    [media_id] = fake.post_media[published.remote_id]
    appends = fake.server.requests_for("appendMediaUpload")
    assert [r.json()["segment_index"] for r in appends] == [0, 1, 2]
    assert fake.media[media_id]["data"] == data
    [init] = fake.server.requests_for("initializeMediaUpload")
    assert init.json() == {
        "media_type": "image/png",
        "total_bytes": len(data),
        "media_category": "tweet_image",
    }


def test_a_gif_waits_for_processing(connector: XConnector, fake: FakeX, no_wait: list[float]) -> None:
    fake.processing_polls = 3
    published = connector.publish(
        OutgoingPost(text="Animado", media=[MediaItem("image/gif", GIF, "Un gato")])
    )
    [media_id] = fake.post_media[published.remote_id]
    assert fake.media[media_id]["category"] == "tweet_gif"
    assert len(fake.server.requests_for("getMediaUploadStatus")) == 3
    assert len(no_wait) == 3  # waited what X asked (check_after_secs) before each poll


def test_failed_processing_is_rejected_and_nothing_posted(
    connector: XConnector, fake: FakeX, no_wait: list[float]
) -> None:
    fake.fail_processing = True
    with pytest.raises(ContentRejected, match="could not process"):
        connector.publish(OutgoingPost(text="Roto", media=[MediaItem("image/gif", GIF)]))
    assert fake.server.requests_for("createPosts") == []


def test_processing_that_never_ends_is_temporary(
    connector: XConnector, fake: FakeX, no_wait: list[float]
) -> None:
    fake.processing_polls = media.MAX_STATUS_POLLS + 5
    with pytest.raises(TemporaryFailure):
        connector.publish(OutgoingPost(text="Lento", media=[MediaItem("image/gif", GIF)]))
    assert len(fake.server.requests_for("getMediaUploadStatus")) == media.MAX_STATUS_POLLS
    assert fake.server.requests_for("createPosts") == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([MediaItem("image/png", PNG)] * 5, "at most 4 images"),
        ([MediaItem("image/tiff", b"II*\x00")], "JPEG, PNG, WEBP and GIF"),
        ([MediaItem("video/mp4", b"\x00\x00\x00\x18ftyp")], "JPEG, PNG, WEBP and GIF"),
        ([MediaItem("image/png", b"")], "empty"),
        ([MediaItem("image/png", PNG + b"\x00" * media.MAX_IMAGE_BYTES)], "up to 5.0 MB"),
        ([MediaItem("image/gif", GIF + b"\x00" * media.MAX_GIF_BYTES)], "up to 15.0 MB"),
        ([MediaItem("image/png", JPEG)], "not a PNG file"),
        ([MediaItem("image/png", PNG, alt_text="a" * 1001)], "1001 characters"),
        ([MediaItem("image/gif", GIF), MediaItem("image/png", PNG)], "GIF only on its own"),
    ],
)
def test_refused_before_any_request(
    connector: XConnector, fake: FakeX, items: list[MediaItem], message: str
) -> None:
    with pytest.raises(ContentRejected, match=message):
        connector.publish(OutgoingPost(text="No", media=items))
    assert fake.server.requests == []


def test_alt_text_at_the_limit_is_accepted(connector: XConnector, fake: FakeX) -> None:
    alt = "é" * media.MAX_ALT_TEXT
    published = connector.publish(OutgoingPost(text="Largo", media=[MediaItem("image/png", PNG, alt)]))
    [media_id] = fake.post_media[published.remote_id]
    assert fake.media[media_id]["alt_text"] == alt


def test_text_is_still_checked_with_media(connector: XConnector, fake: FakeX) -> None:
    with pytest.raises(ContentRejected, match="limit is 280"):
        connector.publish(OutgoingPost(text="a" * 281, media=[MediaItem("image/png", PNG)]))
    assert fake.server.requests == []


def test_find_own_post_with_media(connector: XConnector, fake: FakeX) -> None:
    post = OutgoingPost(text="Foto del día", media=[MediaItem("image/png", PNG)])
    published = connector.publish(post)
    assert fake.posts[published.remote_id]["text"].startswith("Foto del día https://t.co/")
    found = connector.find_own_post("key", post=post)
    assert found is not None and found.remote_id == published.remote_id
