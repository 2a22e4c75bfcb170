"""Where things of publishing live in the web app (for notifications and the API's links)."""

from __future__ import annotations

from django.urls import reverse


def post_path(post_id: int) -> str:
    return reverse("web:post-detail", args=[post_id])
