"""HTTP to LinkedIn's versioned REST API (`/rest/...`) as one member acting for one organization.

Every request carries the bearer token, `LinkedIn-Version: YYYYMM` (the API
version the shapes here follow) and `X-Restli-Protocol-Version: 2.0.0` (Rest.li
2.0 URL encoding: URNs in paths and queries are percent-encoded, lists are
`List(a,b)`). LinkedIn publishes daily limits per application and member but no
rate headers; a 429 is honoured with its Retry-After (or an hour).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AuthenticationFailed,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)

API_BASE_URL = "https://api.linkedin.com"
API_VERSION = "202505"
RESTLI_PROTOCOL = "2.0.0"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "Tertulia (+https://github.com/tertulia)"
DEFAULT_RETRY_AFTER = 3600.0


class DuplicatePost(ContentRejected):
    """LinkedIn's 422 DUPLICATE_POST: the same content was already posted (by an earlier attempt)."""

    def __init__(self, message: str, *, existing: str = "") -> None:
        super().__init__(message)
        self.existing = existing  # the URN LinkedIn names, when its message does


def urn(value: str) -> str:
    """A URN encoded for a Rest.li 2.0 path or query value (every reserved character escaped)."""
    return quote(value, safe="")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error") or "")[:300]
    return ""


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response) or str(status)
    if status == 401:
        raise AuthenticationFailed(_("LinkedIn refused the credentials: %(detail)s") % {"detail": detail})
    if status == 404:
        raise RemoteNotFound(_("LinkedIn has no such item: %(detail)s") % {"detail": detail})
    if status == 429:
        value = response.headers.get("Retry-After", "")
        wait = float(value) if value.strip().isdigit() else DEFAULT_RETRY_AFTER
        raise RateLimited(
            _("LinkedIn rate limit reached; try again in %(seconds)d s.") % {"seconds": wait},
            retry_after=wait,
        )
    if status == 422 and "DUPLICATE_POST" in response.text:
        existing = ""
        for word in detail.replace(",", " ").split():
            if word.startswith(("urn:li:share:", "urn:li:ugcPost:")):
                existing = word.rstrip(".")
        raise DuplicatePost(
            _("LinkedIn says this post already exists: %(detail)s") % {"detail": detail}, existing=existing
        )
    if status >= 500:
        raise TemporaryFailure(
            _("LinkedIn had a server error (%(status)d): %(detail)s") % {"status": status, "detail": detail}
        )
    # 400, 403 (a missing permission for this organization), 409, 422...
    raise ContentRejected(
        _("LinkedIn refused the request (%(status)d): %(detail)s") % {"status": status, "detail": detail}
    )


class LinkedInHTTP:
    def __init__(
        self,
        base_url: str,
        access_token: str,
        version: str = API_VERSION,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or API_BASE_URL).rstrip("/")
        self.access_token = access_token
        self.client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "LinkedIn-Version": version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=TIMEOUT,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """`path` carries its query already encoded (Rest.li lists and URNs do not survive httpx's params)."""
        try:
            response = self.client.request(method, path, json=json, content=content, headers=headers)
        except httpx.TimeoutException as error:
            raise TemporaryFailure(_("LinkedIn did not answer in time.")) from error
        except httpx.TransportError as error:
            raise TemporaryFailure(_("Could not reach LinkedIn.")) from error
        raise_for_status(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as error:
            raise TemporaryFailure(_("LinkedIn answered with something that is not JSON.")) from error
