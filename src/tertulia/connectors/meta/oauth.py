"""Facebook Login (OAuth 2.0 authorization code with PKCE) for Pages and Instagram professional accounts.

The round trip (Facebook Login "Manually Build a Login Flow", "Long-Lived Access Tokens" and
"Page access tokens" guides):

1. the person is sent to `www.facebook.com/<version>/dialog/oauth` with our `state`, the scopes and an
   S256 `code_challenge`;
2. the code comes back and is exchanged (`POST /oauth/access_token`, a form with the app secret and
   the `code_verifier`, never a query: URLs end up in logs) for a short-lived **user** token (about an hour);
3. that is exchanged (`grant_type=fb_exchange_token`) for a long-lived user token (about 60 days);
4. `GET /me/accounts` with the long-lived user token lists the Pages the person manages, each with a
   **Page** token that, obtained this way, does not expire, and the Instagram professional account
   linked to it.

Only the Page token is kept (it is all the connector needs); the user tokens and the app secret are
never stored. The app secret arrives from the vault in the `OAuthClient` for the exchange only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors.base import AuthenticationFailed, OAuthClient, TemporaryFailure
from tertulia.connectors.meta.client import GRAPH_URL, TIMEOUT, USER_AGENT, graph_path, map_error

DIALOG_URL = "https://www.facebook.com"
MAX_ACCOUNT_PAGES = 20  # of `/me/accounts` (25 Pages each): a bound on a sign-in

FACEBOOK_SCOPES: tuple[str, ...] = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",  # comments by other people on the Page's posts
    "pages_manage_posts",
    "pages_manage_engagement",  # reply to, hide and delete comments
    "pages_manage_metadata",  # subscribe the Page to webhooks
    "pages_messaging",
    "read_insights",
)
INSTAGRAM_SCOPES: tuple[str, ...] = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_messages",
    "instagram_manage_insights",
)


@dataclass(frozen=True)
class ManagedPage:
    page_id: str
    name: str
    username: str
    access_token: str
    instagram: Mapping[str, Any] | None


def pkce_challenge(code_verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """HMAC-SHA256 of the token with the app secret, which apps that "Require App Secret" must send."""
    return hmac.new(app_secret.encode("utf-8"), access_token.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_url(
    client: OAuthClient, redirect_uri: str, state: str, challenge: str, scopes: tuple[str, ...]
) -> str:
    query = urlencode(
        {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    # A test network serves the dialog and the API on one address.
    base = (client.base_url or DIALOG_URL).rstrip("/")
    return f"{base}{graph_path('dialog/oauth')}?{query}"


def _call(
    http: httpx.Client,
    network_name: str,
    path: str,
    params: Mapping[str, str],
    token: str = "",
    *,
    secret: bool = False,
) -> dict[str, Any]:
    """GET `path`; or, when `params` carry the app secret or a token, POST them as a form."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        if secret:
            response = http.post(graph_path(path), data=dict(params), headers=headers)
        else:
            response = http.get(graph_path(path), params=dict(params), headers=headers)
    except httpx.HTTPError as exc:
        raise TemporaryFailure(_("Could not reach %(network)s.") % {"network": network_name}) from exc
    if response.status_code >= 500:
        raise map_error(network_name, response)
    if response.status_code >= 400:
        error = map_error(network_name, response)
        # A stale or reused code, a wrong secret or redirect: the person must sign in again.
        raise AuthenticationFailed(
            _("%(network)s refused the sign-in: %(detail)s") % {"network": network_name, "detail": error}
        )
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise AuthenticationFailed(_("%(network)s answered the sign-in oddly.") % {"network": network_name})
    return payload


def _token(payload: Mapping[str, Any], network_name: str) -> str:
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthenticationFailed(
            _("%(network)s did not return an access token.") % {"network": network_name}
        )
    return token


def _all_accounts(http: httpx.Client, network_name: str, user_token: str, app_secret: str) -> list[Any]:
    """Every row of `/me/accounts`, in Meta's order, following `paging.cursors.after` (bounded)."""
    query = {
        "fields": "id,name,username,access_token,instagram_business_account{id,username,name}",
        "appsecret_proof": appsecret_proof(user_token, app_secret),
    }
    rows: list[Any] = []
    for _page in range(MAX_ACCOUNT_PAGES):
        listing = _call(http, network_name, "me/accounts", query, token=user_token)
        rows.extend(listing.get("data") or [])
        paging = listing.get("paging")
        cursors = paging.get("cursors") if isinstance(paging, dict) else None
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not isinstance(paging, dict) or not paging.get("next") or not after:
            break
        query["after"] = str(after)
    return rows


def managed_pages(
    client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, network_name: str
) -> list[ManagedPage]:
    """Steps 2 to 4: the Pages the person manages, each with its own Page token."""
    base = (client.base_url or GRAPH_URL).rstrip("/")
    with httpx.Client(base_url=base, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}) as http:
        short = _token(
            _call(
                http,
                network_name,
                "oauth/access_token",
                {
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                    "redirect_uri": redirect_uri,
                    "code": code,
                    "code_verifier": code_verifier,
                },
                secret=True,
            ),
            network_name,
        )
        long_lived = _token(
            _call(
                http,
                network_name,
                "oauth/access_token",
                {
                    "grant_type": "fb_exchange_token",
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                    "fb_exchange_token": short,
                },
                secret=True,
            ),
            network_name,
        )
        rows = _all_accounts(http, network_name, long_lived, client.client_secret)
    pages: list[ManagedPage] = []
    for row in rows:
        if not isinstance(row, dict) or not row.get("id") or not row.get("access_token"):
            continue
        instagram = row.get("instagram_business_account")
        pages.append(
            ManagedPage(
                page_id=str(row["id"]),
                name=str(row.get("name") or ""),
                username=str(row.get("username") or ""),
                access_token=str(row["access_token"]),
                instagram=instagram if isinstance(instagram, dict) and instagram.get("id") else None,
            )
        )
    return pages
