"""Fixtures and helpers for the publishing API tests: a brand with sandbox channels, a token per role,
images made in memory, and multipart uploads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tertulia.api.tests.conftest import Api, Response, Tenant, TokenMaker
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Role

# The fixtures, for `from ... import *` in the test modules (a named import would look redefined).
__all__ = ["brand", "channels", "media_root", "tokens"]


@pytest.fixture
def brand(tenant: Tenant) -> Brand:
    return Brand.objects.create(organization=tenant.org, name="Marca", slug="marca")


@pytest.fixture
def channels(brand: Brand) -> list[Channel]:
    """Two sandbox channels; owners and admins operate every channel, others need a grant."""
    return [connect_channel(Actor.system(), brand, "sandbox", f"@marca_api_{n}") for n in range(2)]


@pytest.fixture
def tokens(tenant: Tenant, make_token: TokenMaker) -> dict[str, str]:
    """A token per role, with every scope the role allows."""
    return {role.value: make_token(tenant.person(role), tenant.org) for role in Role}


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def draft(
    channels: Sequence[Channel], text: str = "¡Hola! #tertulia https://example.com/oferta", **extra: Any
) -> dict[str, Any]:
    return {"text": text, "variants": [{"channel_id": channel.pk} for channel in channels], **extra}


def png(width: int = 400, height: int = 300, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(
    api: Api,
    brand_id: int,
    token: str,
    content: bytes,
    name: str = "foto.png",
    content_type: str = "image/png",
    **fields: str,
) -> Response:
    """A multipart upload to the brand's media library, answered as (status, parsed JSON)."""
    response = api.client.post(
        f"/api/v1/brands/{brand_id}/media",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), **fields},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    return Response(response.status_code, json.loads(response.content), response)
