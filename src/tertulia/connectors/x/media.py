"""Images for posts: checked here, uploaded in chunks through X API v2, described with alt text.

The flow follows X's OpenAPI document (`spec/x-api-v2.openapi.json`):

1. `POST /2/media/upload/initialize` `{"media_type", "total_bytes", "media_category"}` → the media id;
2. `POST /2/media/upload/{id}/append` `{"segment_index", "media"}` (the chunk in base64), once per chunk.
   The document also allows multipart, but there `segment_index` travels as text and the validator
   (openapi-core) does not coerce it to the declared integer; JSON is validated exactly;
3. `POST /2/media/upload/{id}/finalize`; if X answers with `processing_info` (GIFs), poll
   `GET /2/media/upload?media_id=…&command=STATUS` until it `succeeded` (or `failed`);
4. `POST /2/media/metadata` `{"id", "metadata": {"alt_text": {"text"}}}` when the image has alt text.

The ids then go to `POST /2/tweets` as `media.media_ids`. Everything X would refuse for its shape is
refused here first (`check`), before a single byte is sent: more than 4 images, an animated GIF with
other images, types X does not take for posts, empty or oversized files, data that is not what its
type says, alt text over 1,000 characters.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from tertulia.connectors.base import ContentRejected, MediaItem, TemporaryFailure
from tertulia.connectors.x.client import XHttp

MAX_IMAGES = 4  # "up to 4 photos, 1 animated GIF or 1 video in a Post"
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # 5 MB per image
MAX_GIF_BYTES = 15 * 1024 * 1024  # 15 MB per GIF
MAX_ALT_TEXT = 1000  # CreateMediaMetadataMetadataAltText.text maxLength
CHUNK_BYTES = 1024 * 1024  # an APPEND segment; X takes up to 5 MB, smaller segments fail smaller
# Polling a GIF's processing: at most this many status requests, waiting what X asks, capped.
MAX_STATUS_POLLS = 10
MAX_POLL_WAIT = 10.0


@dataclass(frozen=True)
class _Kind:
    category: str  # media_category
    max_bytes: int
    label: str  # for messages


# The image types X takes for posts (JPEG, PNG, WEBP, GIF), and how each is uploaded.
KINDS: dict[str, _Kind] = {
    "image/jpeg": _Kind("tweet_image", MAX_IMAGE_BYTES, "JPEG"),
    "image/png": _Kind("tweet_image", MAX_IMAGE_BYTES, "PNG"),
    "image/webp": _Kind("tweet_image", MAX_IMAGE_BYTES, "WEBP"),
    "image/gif": _Kind("tweet_gif", MAX_GIF_BYTES, "GIF"),
}


def _looks_like(mime_type: str, data: bytes) -> bool:
    """The file's first bytes match its declared type (a mislabelled file is refused, not sent)."""
    if mime_type == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if mime_type == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if mime_type == "image/gif":
        return data.startswith((b"GIF87a", b"GIF89a"))
    if mime_type == "image/webp":
        return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return False


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def check(media: Sequence[MediaItem]) -> None:
    """Raise ContentRejected, with what is wrong, for media X would refuse in a post."""
    if len(media) > MAX_IMAGES:
        raise ContentRejected(
            _("X takes at most %(limit)d images in a post; this one has %(count)d.")
            % {"limit": MAX_IMAGES, "count": len(media)}
        )
    for number, item in enumerate(media, start=1):
        mime_type = item.mime_type.lower().strip()
        kind = KINDS.get(mime_type)
        if kind is None:
            raise ContentRejected(
                _("Image %(number)d is %(type)s; X takes JPEG, PNG, WEBP and GIF images in posts.")
                % {"number": number, "type": item.mime_type or _("of an unknown type")}
            )
        if not item.data:
            raise ContentRejected(_("Image %(number)d is empty.") % {"number": number})
        if len(item.data) > kind.max_bytes:
            raise ContentRejected(
                _("Image %(number)d is %(size)s MB; X takes %(type)s images up to %(limit)s MB.")
                % {
                    "number": number,
                    "size": _megabytes(len(item.data)),
                    "type": kind.label,
                    "limit": _megabytes(kind.max_bytes),
                }
            )
        if not _looks_like(mime_type, item.data):
            raise ContentRejected(
                _("Image %(number)d is not a %(type)s file, though it says it is.")
                % {"number": number, "type": kind.label}
            )
        if len(item.alt_text) > MAX_ALT_TEXT:
            raise ContentRejected(
                _("The alt text of image %(number)d has %(count)d characters; X takes up to %(limit)d.")
                % {"number": number, "count": len(item.alt_text), "limit": MAX_ALT_TEXT}
            )
        if kind.category == "tweet_gif" and len(media) > 1:
            raise ContentRejected(
                _("X takes a GIF only on its own: a post with a GIF cannot have other images.")
            )


def _media_id(payload: dict[str, Any], step: str) -> str:
    data = payload.get("data")
    media_id = str(data.get("id", "")) if isinstance(data, dict) else ""
    if not media_id.isdigit():
        raise TemporaryFailure(_("X did not return a media id when %(step)s the image.") % {"step": step})
    return media_id


class Uploader:
    """Uploads checked media for one account; `sleep` is injectable so tests never wait."""

    def __init__(self, api: XHttp, sleep: Callable[[float], None] = time.sleep) -> None:
        self.api = api
        self.sleep = sleep

    def upload_all(self, media: Sequence[MediaItem]) -> list[str]:
        check(media)
        return [self.upload(item) for item in media]

    def upload(self, item: MediaItem) -> str:
        mime_type = item.mime_type.lower().strip()
        kind = KINDS[mime_type]
        started = self.api.request(
            "POST",
            "/2/media/upload/initialize",
            "POST /2/media/upload/initialize",
            json={"media_type": mime_type, "total_bytes": len(item.data), "media_category": kind.category},
        )
        media_id = _media_id(started, _("starting to upload"))
        for index, start in enumerate(range(0, len(item.data), CHUNK_BYTES)):
            self.api.request(
                "POST",
                f"/2/media/upload/{media_id}/append",
                "POST /2/media/upload/:id/append",
                json={
                    "segment_index": index,
                    "media": base64.b64encode(item.data[start : start + CHUNK_BYTES]).decode("ascii"),
                },
            )
        finished = self.api.request(
            "POST", f"/2/media/upload/{media_id}/finalize", "POST /2/media/upload/:id/finalize"
        )
        _media_id(finished, _("finishing the upload of"))
        self._wait_for_processing(media_id, finished)
        if item.alt_text.strip():
            self.api.request(
                "POST",
                "/2/media/metadata",
                "POST /2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
            )
        return media_id

    def _wait_for_processing(self, media_id: str, payload: dict[str, Any]) -> None:
        """X processes GIFs (and sometimes images) after FINALIZE; a post must wait until it is done."""
        for _poll in range(MAX_STATUS_POLLS + 1):
            info = (payload.get("data") or {}).get("processing_info") or {}
            state = str(info.get("state", "succeeded"))
            if state == "succeeded":
                return
            if state == "failed":
                raise ContentRejected(_("X could not process the image (it may be damaged)."))
            if _poll == MAX_STATUS_POLLS:
                break
            wait = info.get("check_after_secs")
            self.sleep(min(float(wait), MAX_POLL_WAIT) if isinstance(wait, int | float) and wait > 0 else 1.0)
            payload = self.api.request(
                "GET",
                "/2/media/upload",
                "GET /2/media/upload",
                params={"media_id": media_id, "command": "STATUS"},
            )
        raise TemporaryFailure(_("X is still processing the image; try again later."))
