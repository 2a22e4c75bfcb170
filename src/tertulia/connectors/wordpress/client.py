"""HTTP to one WordPress site's REST API as one user, with an Application Password.

Application Passwords (WordPress 5.6+) are HTTP Basic credentials made for API
clients: the user name and a 24-character password generated in the user's
profile, revocable there one by one. There is no token to exchange them for, so
the application password itself is the credential kept (sealed) in the vault.
WordPress publishes no rate limits; a 429 from a host or plugin is honoured.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AuthenticationFailed,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)

API_PREFIX = "/wp-json/wp/v2"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "Tertulia (+https://github.com/tertulia)"
DEFAULT_RETRY_AFTER = 60.0


def site_url(value: str) -> str:
    """The site's address as typed ("blog.example" or "https://blog.example/sub/"), normalized."""
    value = value.strip()
    if value and "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContentRejected(_("Enter the WordPress site's address, e.g. https://blog.example."))
    if parts.username or parts.password:
        raise ContentRejected(_("The site's address must not contain a user name or password."))
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("code") or "")[:300]
    return ""


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response) or str(status)
    if status in (401, 403):
        # 401: wrong or revoked application password; 403: the user may not moderate comments.
        raise AuthenticationFailed(
            _("WordPress refused the credentials or the user's role: %(detail)s") % {"detail": detail}
        )
    if status in (404, 410):
        raise RemoteNotFound(_("WordPress has no such item: %(detail)s") % {"detail": detail})
    if status == 429:
        value = response.headers.get("Retry-After", "")
        wait = float(value) if value.strip().isdigit() else DEFAULT_RETRY_AFTER
        raise RateLimited(
            _("The WordPress site asks to slow down; try again in %(seconds)d s.") % {"seconds": wait},
            retry_after=wait,
        )
    if status >= 500:
        raise TemporaryFailure(
            _("The WordPress site had an error (%(status)d): %(detail)s")
            % {"status": status, "detail": detail}
        )
    raise ContentRejected(
        _("WordPress refused the request (%(status)d): %(detail)s") % {"status": status, "detail": detail}
    )


class WordPressHTTP:
    def __init__(
        self, base_url: str, username: str, password: str, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = site_url(base_url)
        self.client = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            auth=httpx.BasicAuth(username, password),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
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
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = self.client.request(method, path, params=params, json=json)
        except httpx.TimeoutException as error:
            raise TemporaryFailure(_("The WordPress site did not answer in time.")) from error
        except httpx.TransportError as error:
            raise TemporaryFailure(_("Could not reach the WordPress site.")) from error
        raise_for_status(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as error:
            raise TemporaryFailure(
                _("The WordPress site answered with something that is not JSON (a cache or a login page?).")
            ) from error
