"""OAuth 2.0 authorization code flow for LinkedIn (3-legged), and refreshing its tokens.

LinkedIn's web-server flow authenticates the client with its secret at the token
endpoint and does not take PKCE parameters (LinkedIn offers PKCE only to native
apps it enables one by one), so the verifier Tertulia generates is not sent; the
`state` round trip is still checked by `connectors/signin.py`. Access tokens live
60 days; refresh tokens (a year) are issued only to applications LinkedIn has
approved for programmatic refresh: without one, the channel is marked "needs
reconnect" when the token expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors.base import AuthenticationFailed, OAuthClient, TemporaryFailure

OAUTH_BASE_URL = "https://www.linkedin.com"
AUTHORIZE_PATH = "/oauth/v2/authorization"
TOKEN_PATH = "/oauth/v2/accessToken"  # noqa: S105 - a path, not a secret
# Community Management API: post and read as the organization, statistics and follower counts.
SCOPES = ("r_organization_social", "w_organization_social", "rw_organization_admin")
TIMEOUT = httpx.Timeout(20.0)


def oauth_base(client: OAuthClient) -> str:
    return (client.base_url or OAUTH_BASE_URL).rstrip("/")


def authorization_url(client: OAuthClient, redirect_uri: str, state: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": " ".join(SCOPES),
    }
    return oauth_base(client) + AUTHORIZE_PATH + "?" + urlencode(query)


def _token(base_url: str, form: dict[str, str]) -> dict[str, Any]:
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            response = http.post(
                base_url + TOKEN_PATH,
                data=form,
                headers={"Accept": "application/json"},
            )
    except httpx.HTTPError as error:
        raise TemporaryFailure(_("LinkedIn could not be reached.")) from error
    if response.status_code >= 500:
        raise TemporaryFailure(
            _("LinkedIn's sign-in service failed (%(status)s).") % {"status": response.status_code}
        )
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or not isinstance(payload, dict) or "access_token" not in payload:
        reason = str(payload.get("error", "")) if isinstance(payload, dict) else ""
        raise AuthenticationFailed(
            _("LinkedIn refused the sign-in (%(error)s); connect the account again.")
            % {"error": reason[:60] or response.status_code}
        )
    return payload


def credentials_from(
    payload: Mapping[str, Any], client: OAuthClient, previous_refresh: str = ""
) -> tuple[dict[str, str], datetime | None]:
    now = datetime.now(UTC)
    expires_at = None
    if isinstance(payload.get("expires_in"), int | float):
        expires_at = now + timedelta(seconds=float(payload["expires_in"]))
    credentials = {
        "access_token": str(payload["access_token"]),
        "refresh_token": str(payload.get("refresh_token") or previous_refresh),
        "scope": str(payload.get("scope", "")),
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    if client.base_url:
        credentials["oauth_base_url"] = client.base_url
    if expires_at is not None:
        credentials["expires_at"] = expires_at.isoformat()
    return credentials, expires_at


def exchange_code(
    client: OAuthClient, redirect_uri: str, code: str
) -> tuple[dict[str, str], datetime | None]:
    payload = _token(
        oauth_base(client),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    return credentials_from(payload, client)


def refresh(credentials: Mapping[str, str]) -> dict[str, str]:
    refresh_token = credentials.get("refresh_token", "")
    if not refresh_token:
        raise AuthenticationFailed(
            _("LinkedIn did not grant this app refresh tokens; connect the account again.")
        )
    client = OAuthClient(
        client_id=credentials.get("client_id", ""),
        client_secret=credentials.get("client_secret", ""),
        base_url=credentials.get("oauth_base_url", ""),
    )
    payload = _token(
        oauth_base(client),
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    new, _expiry = credentials_from(payload, client, previous_refresh=refresh_token)
    return new
