"""The one place invitations ask about single sign-on (built by `tertulia.accounts`).

An organization that signs its people in through its identity provider (OIDC) does not want them
to choose a Tertulia password: the invitation page sends them to the provider instead, and they
accept the invitation once signed in as the invited address.

`tertulia.accounts.sso` may provide `invitation_sign_in_url(organization, next_path) -> str | None`
(None: the organization has no single sign-on). Without that app or that function, there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.apps import apps

from tertulia.core.models import Organization

HOOK = "invitation_sign_in_url"


def sso_sign_in_url(organization: Organization, next_path: str) -> str | None:
    """Where a person invited to `organization` signs in, if it uses single sign-on; else None."""
    if not apps.is_installed("tertulia.accounts"):
        return None
    try:
        from tertulia.accounts import sso
    except ImportError:
        return None
    hook = getattr(sso, HOOK, None)
    if hook is None:
        return None
    return cast(Callable[[Organization, str], str | None], hook)(organization, next_path)
