"""The Mastodon API's OpenAPI 3.1 document (abraham/mastodon-openapi, API 4.7.0; MIT, see mastodon.LICENSE).

Tests load it with `SPEC_PATCHES`: corrections for places where the document
contradicts Mastodon itself. Each one is small, says why, and has a test that
fails once upstream fixes it, so the patch can be dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("mastodon.openapi.json")


def status_body_any_of(spec: dict[str, Any]) -> None:
    """POST /api/v1/statuses: the body is `oneOf` TextStatus, MediaStatus, PollStatus.

    A status with text *and* media satisfies both TextStatus and MediaStatus, so
    `oneOf` rejects the most ordinary post there is (a caption with a picture),
    which Mastodon accepts. `anyOf` is what the documentation describes.
    """
    body = spec["paths"]["/api/v1/statuses"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"anyOf": body["schema"]["oneOf"]}


SPEC_PATCHES = (status_body_any_of,)
