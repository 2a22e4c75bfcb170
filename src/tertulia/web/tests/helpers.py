from __future__ import annotations

from django.test import Client

from tertulia.core.models import User


def signed_in(user: User) -> Client:
    """A test client with `user` signed in."""
    client = Client()
    client.force_login(user)
    return client
