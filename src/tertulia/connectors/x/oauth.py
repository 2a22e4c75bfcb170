"""OAuth 2.0 Authorization Code with PKCE (S256) for X, and refreshing its tokens.

X issues access tokens that live two hours; with the `offline.access` scope it also issues a refresh
token, which is single-use: every refresh returns a new one that must replace the old in the vault.
A confidential client (one with a client secret) authenticates to the token endpoint with HTTP
Basic; a public client sends its `client_id` in the form instead.

The token endpoint is not in X's OpenAPI document (it describes the resource API only), so its
shape here follows RFC 6749 and RFC 7636 as X documents them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AuthenticationFailed,
    OAuthClient,
    TemporaryFailure,
)

API_BASE_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 (a path, not a secret)
# What Tertulia does with an X account, and offline.access for a refresh token.
SCOPES: tuple[str, ...] = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "tweet.moderate.write",
    "mute.write",
    "dm.read",
    "dm.write",
    "media.write",
    "offline.access",
)
TIMEOUT = httpx.Timeout(20.0)


def code_challenge(code_verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_endpoint(client: OAuthClient) -> str:
    # X's consent page lives on x.com, not on the API host; a test network serves both.
    if client.base_url:
        return client.base_url.rstrip("/") + "/i/oauth2/authorize"
    return AUTHORIZE_URL


def token_endpoint(base_url: str) -> str:
    return (base_url or API_BASE_URL).rstrip("/") + TOKEN_PATH


def authorization_url(client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    return authorize_endpoint(client) + "?" + urlencode(query)


def _post_token(
    base_url: str, client_id: str, client_secret: str, form: dict[str, str], http: httpx.Client | None
) -> dict[str, Any]:
    auth: httpx.BasicAuth | None = None
    if client_secret:
        auth = httpx.BasicAuth(client_id, client_secret)
    else:
        form = {**form, "client_id": client_id}
    owned = http is None
    session = http or httpx.Client(timeout=TIMEOUT)
    try:
        response = session.post(
            token_endpoint(base_url),
            data=form,
            auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise TemporaryFailure(
            _("X could not be reached: %(error)s") % {"error": type(exc).__name__}
        ) from exc
    finally:
        if owned:
            session.close()
    if response.status_code >= 500:
        raise TemporaryFailure(
            _("X's sign-in service failed (%(status)s).") % {"status": response.status_code}
        )
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or not isinstance(payload, dict) or "access_token" not in payload:
        # invalid_grant (a used or revoked refresh token, a stale code), invalid_client...
        error = str(payload.get("error", "")) if isinstance(payload, dict) else ""
        raise AuthenticationFailed(
            _("X refused the sign-in (%(error)s); connect the account again.")
            % {"error": error[:60] or response.status_code}
        )
    return payload


def credentials_from_token(
    payload: Mapping[str, Any], client_id: str, client_secret: str, previous_refresh: str = ""
) -> tuple[dict[str, str], datetime | None]:
    """What the vault keeps: the tokens, their expiry, and the client they belong to (refresh needs it)."""
    expires_at: datetime | None = None
    if isinstance(payload.get("expires_in"), int | float):
        expires_at = datetime.now(UTC) + timedelta(seconds=float(payload["expires_in"]))
    credentials = {
        "access_token": str(payload["access_token"]),
        "refresh_token": str(payload.get("refresh_token") or previous_refresh),
        "scope": str(payload.get("scope", "")),
        "client_id": client_id,
    }
    if client_secret:
        credentials["client_secret"] = client_secret
    if expires_at is not None:
        credentials["expires_at"] = expires_at.isoformat()
    return credentials, expires_at


def exchange_code(
    client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, http: httpx.Client | None = None
) -> tuple[dict[str, str], datetime | None]:
    payload = _post_token(
        client.base_url,
        client.client_id,
        client.client_secret,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
        http,
    )
    return credentials_from_token(payload, client.client_id, client.client_secret)


def refresh(
    base_url: str, credentials: Mapping[str, str], http: httpx.Client | None = None
) -> dict[str, str]:
    refresh_token = credentials.get("refresh_token", "")
    client_id = credentials.get("client_id", "")
    if not refresh_token or not client_id:
        raise AuthenticationFailed(
            _("This X account was connected without offline access; connect it again to keep it signed in.")
        )
    client_secret = credentials.get("client_secret", "")
    payload = _post_token(
        base_url,
        client_id,
        client_secret,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        http,
    )
    new, _expiry = credentials_from_token(payload, client_id, client_secret, previous_refresh=refresh_token)
    return new
