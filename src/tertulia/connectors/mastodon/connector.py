"""Mastodon behind the connector interface.

A channel names its instance in `settings["base_url"]` (https://mastodon.social)
and holds an OAuth access token in `credentials["access_token"]`; every instance
needs its own app registration (an `OAuthClient` with `base_url`), which Tertulia
makes itself the first time someone signs in there (`register_app`). See
docs/connectors/mastodon.md.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AccountInfo,
    AccountMetrics,
    AuthenticationFailed,
    Capability,
    ChannelAccount,
    ConnectedAccount,
    Connector,
    ContentRejected,
    InboundItem,
    InboundPage,
    MediaItem,
    NotSupported,
    OAuthClient,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
    RateLimitState,
    TemporaryFailure,
)
from tertulia.connectors.mastodon import parsing
from tertulia.connectors.mastodon.client import (
    BUCKET,
    NETWORK,
    TIMEOUT,
    USER_AGENT,
    MastodonHTTP,
    error_message,
    outbound_policy,
    parse_link_header,
    raise_for_status,
)
from tertulia.connectors.mastodon.streaming import stream_mentions
from tertulia.core.outbound import (
    OutboundFailed,
    OutboundRefused,
    check_url,
    checked_addresses,
    guarded_client,
)

MAX_STATUS_LENGTH = 500  # the default; instances may allow more (instance configuration)
PAGE_LIMIT = 40  # notifications and conversations: Mastodon's own maximum per page is 80
STATUSES_PER_LOOKUP = 20
# Granular scopes (Mastodon 4.0+): only what the connector uses.
SCOPES = "read:accounts read:notifications read:statuses write:statuses write:media write:blocks write:mutes"
CLIENT_NAME = "Tertulia"  # what the instance shows the person authorizing, and in their authorized apps


def pkce_challenge(code_verifier: str) -> str:
    """The S256 code challenge (RFC 7636): base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _account_info(account: dict[str, Any], base_url: str) -> AccountInfo:
    acct = str(account["acct"])
    if "@" not in acct:  # local accounts come without their domain
        acct = f"{acct}@{urlsplit(base_url).hostname}"
    return AccountInfo(
        external_id=str(account["id"]), handle=acct, display_name=str(account.get("display_name") or "")
    )


def _min_id_from_link(response: httpx.Response) -> str | None:
    prev = parse_link_header(response.headers.get("Link", "")).get("prev")
    if not prev:
        return None
    values = parse_qs(urlsplit(prev).query).get("min_id")
    return values[0] if values else None


class MastodonConnector(Connector):
    network = NETWORK
    display_name = "Mastodon"
    # The token is the brand account's own (issued to its login on its server), not a person's.
    credentials_belong_to_person: ClassVar[bool] = False
    max_text_length = MAX_STATUS_LENGTH
    # Mastodon answers a repeated Idempotency-Key with the first status for an hour; 55 minutes
    # leaves room for clocks and the time a request takes.
    idempotency_key_seconds: ClassVar[float | None] = 55 * 60
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGES,
            Capability.PUBLISH_VIDEO,
            Capability.ALT_TEXT,
            Capability.THREADS,
            Capability.QUOTE,
            Capability.REPLY,
            Capability.DIRECT_MESSAGES,
            Capability.READ_MENTIONS,
            Capability.READ_REPLIES,
            Capability.READ_QUOTES,
            Capability.READ_DIRECT_MESSAGES,
            Capability.DELETE,
            Capability.BLOCK,
            Capability.MUTE,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.RATE_LIMIT_STATE,
            Capability.IDEMPOTENT_PUBLISH,
        }
    )

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        base_url = str(account.settings.get("base_url") or account.credentials.get("base_url") or "")
        if not base_url:
            raise AuthenticationFailed(_("This Mastodon channel does not say which instance it is on."))
        self.base_url = base_url.rstrip("/")
        self.access_token = str(account.credentials.get("access_token") or "")
        who = account.external_id or account.handle
        self.http = MastodonHTTP(self.base_url, self.access_token, limiter_key=f"{self.base_url}#{who}")
        self.media_poll_interval = float(account.settings.get("media_poll_interval", 1.0))
        self.media_poll_attempts = int(account.settings.get("media_poll_attempts", 60))
        self._own_id = account.external_id

    # -- account

    def _credentials(self) -> dict[str, Any]:
        account: dict[str, Any] = self.http.request("GET", "/api/v1/accounts/verify_credentials").json()
        self._own_id = str(account["id"])
        return account

    def verify_account(self) -> AccountInfo:
        return _account_info(self._credentials(), self.base_url)

    def account_metrics(self) -> AccountMetrics:
        account = self._credentials()
        return AccountMetrics(
            followers=int(account["followers_count"]),
            following=int(account["following_count"]),
            posts=int(account["statuses_count"]),
        )

    def revoke_access(self) -> None:
        """Invalidate this channel's token on its instance (`POST /oauth/revoke`, RFC 7009), with
        Tertulia's own registration there (a compromised account: tertulia.guard)."""
        from tertulia.vault.actions import app_client

        if not self.access_token:
            return  # nothing to revoke
        with app_client(NETWORK, self.base_url) as registration:
            if registration is None:
                raise NotSupported(
                    _("Tertulia has no app registration on %(server)s to revoke its token with.")
                    % {"server": self.base_url}
                )
            client, _secrets = registration
            self.http.request(
                "POST",
                "/oauth/revoke",
                json={
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                    "token": self.access_token,
                },
            )

    def rate_limit_state(self) -> RateLimitState | None:
        found = ratelimit.state(NETWORK, self.http.limiter_key, BUCKET)
        if found is not None:
            return found
        # Nothing spent yet: the whole default budget is there.
        return RateLimitState(limit=ratelimit_limit(), remaining=ratelimit_limit(), resets_at=timezone.now())

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        return self._post_status(
            post.text,
            media=post.media,
            reply_to=post.reply_to,
            quote_of=post.quote_of,
            idempotency_key=post.idempotency_key,
        )

    def send_direct_message(
        self, recipient_id: str, text: str, idempotency_key: str | None = None
    ) -> PublishedPost:
        """A direct-visibility status that mentions the recipient: Mastodon's DM."""
        recipient = self.http.request("GET", f"/api/v1/accounts/{recipient_id}").json()
        return self._post_status(
            f"@{recipient['acct']} {text}", visibility="direct", idempotency_key=idempotency_key
        )

    def _post_status(
        self,
        text: str,
        *,
        media: Sequence[MediaItem] = (),
        reply_to: str | None = None,
        quote_of: str | None = None,
        visibility: str = "public",
        idempotency_key: str | None = None,
    ) -> PublishedPost:
        if parsing.status_length(text) > self.max_text_length:
            raise ContentRejected(
                _("Mastodon posts are limited to %(limit)d characters.") % {"limit": self.max_text_length}
            )
        if not text and not media:
            raise ContentRejected(_("A Mastodon post needs text or media."))
        body: dict[str, Any] = {"visibility": visibility}
        if text:
            body["status"] = text
        if media:
            body["media_ids"] = [self._upload(item) for item in media]
        if reply_to:
            body["in_reply_to_id"] = reply_to
        if quote_of:
            body["quoted_status_id"] = quote_of
        # Mastodon remembers the key for an hour and answers a repeat with the first status.
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        status = self.http.request("POST", "/api/v1/statuses", json=body, headers=headers).json()
        return parsing.published(status)

    def _upload(self, item: MediaItem) -> str:
        """Upload one file (alt text as its description); wait while the instance processes it."""
        extension = item.mime_type.rpartition("/")[2] or "bin"
        data = {"description": item.alt_text} if item.alt_text else None
        response = self.http.request(
            "POST",
            "/api/v2/media",
            files={"file": (f"upload.{extension}", item.data, item.mime_type)},
            data=data,
        )
        attachment: dict[str, Any] = response.json()
        media_id = str(attachment["id"])
        if response.status_code != 202:
            return media_id
        for _attempt in range(self.media_poll_attempts):
            time.sleep(self.media_poll_interval)
            polled = self.http.request("GET", f"/api/v1/media/{media_id}")
            if polled.status_code == 200:
                return media_id
        raise TemporaryFailure(_("Mastodon is still processing the media; try again later."))

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        """Mentions, replies, quotes and DMs (a DM is a mention with direct visibility).

        The cursor is the newest notification id seen. With `min_id` Mastodon
        returns the page immediately after it (oldest first in time, newest first
        in the list), so paging forward loses nothing and repeats nothing. The
        first read (no cursor) returns the most recent items.
        """
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("types[]", kind) for kind in parsing.INBOUND_NOTIFICATION_TYPES
        ]
        params.append(("limit", str(max(1, min(limit, PAGE_LIMIT)))))
        if cursor:
            params.append(("min_id", cursor))
        response = self.http.request("GET", "/api/v1/notifications", params=params)
        notifications: list[dict[str, Any]] = response.json()
        ids = [str(n["id"]) for n in notifications]
        # Empty page: stay where we were; "0" on a first read means "from the very beginning".
        new_cursor = max(ids, key=parsing.id_key) if ids else _min_id_from_link(response) or cursor or "0"
        items = [item for n in notifications if (item := parsing.item_from_notification(n)) is not None]
        items.sort(key=lambda i: parsing.id_key(str(i.raw.get("id", i.remote_id))))
        return InboundPage(items=items, cursor=new_cursor)

    def fetch_conversations(self, cursor: str | None = None, limit: int = PAGE_LIMIT) -> InboundPage:
        """The latest message of each direct conversation updated since `cursor`.

        Conversations are paged by Link headers (their order follows the latest
        status, not the conversation id), so the cursor is the `min_id` of the
        `rel="prev"` link. Use it to show DM threads; `fetch_inbound` is what
        guarantees every single DM is seen, because a conversation that got two
        messages between polls shows only the last one here.
        """
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("limit", str(max(1, min(limit, PAGE_LIMIT))))
        ]
        if cursor:
            params.append(("min_id", cursor))
        response = self.http.request("GET", "/api/v1/conversations", params=params)
        conversations: list[dict[str, Any]] = response.json()
        items = [item for c in conversations if (item := parsing.item_from_conversation(c)) is not None]
        return InboundPage(items=items, cursor=_min_id_from_link(response) or cursor or None)

    def stream_inbound(self) -> Iterator[InboundItem]:
        """Live mentions over the streaming API, until the server closes the connection."""
        streaming_url = str(self.account.settings.get("streaming_url") or self.base_url)
        return stream_mentions(streaming_url, self.access_token)

    # -- moderation

    def delete(self, remote_id: str) -> None:
        self.http.request("DELETE", f"/api/v1/statuses/{remote_id}")

    def block(self, author_id: str) -> None:
        self.http.request("POST", f"/api/v1/accounts/{author_id}/block")

    def mute(self, author_id: str) -> None:
        self.http.request("POST", f"/api/v1/accounts/{author_id}/mute")

    # -- metrics

    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Counts for posts that still exist (deleted ones are left out), in one request per 20."""
        rows: list[PostMetrics] = []
        for start in range(0, len(remote_ids), STATUSES_PER_LOOKUP):
            chunk = remote_ids[start : start + STATUSES_PER_LOOKUP]
            params: list[tuple[str, str | int | float | bool | None]] = [("id[]", i) for i in chunk]
            for status in self.http.request("GET", "/api/v1/statuses", params=params).json():
                quotes = status.get("quotes_count")
                rows.append(
                    PostMetrics(
                        remote_id=str(status["id"]),
                        likes=int(status["favourites_count"]),
                        reposts=int(status["reblogs_count"]),
                        replies=int(status["replies_count"]),
                        quotes=int(quotes) if isinstance(quotes, int) else 0,
                    )
                )
        return rows

    # -- sign-in (OAuth 2.0 authorization code with PKCE, per instance)

    @classmethod
    def register_app(cls, base_url: str, redirect_uri: str) -> OAuthClient:
        """`POST /api/v1/apps`: register Tertulia on the instance, as every Mastodon client does.

        The scopes are the ones `authorization_url` asks for (an instance refuses scopes the
        app was not registered with) and the redirect URI the one the sign-in comes back to.
        The website is this Tertulia's own address: many installations register on the same
        instance, and its administrators see which one each app belongs to.
        """
        instance = base_url.rstrip("/")
        _refuse_private_address(instance)
        callback = urlsplit(redirect_uri)
        body = {
            "client_name": CLIENT_NAME,
            "redirect_uris": [redirect_uri],
            "scopes": SCOPES,
            "website": f"{callback.scheme}://{callback.netloc}/",
        }
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        try:
            # Redirects are not followed: the registration belongs to the address that was checked.
            # The guarded client connects only to the addresses just checked (no DNS rebinding).
            with guarded_client(
                outbound_policy(), base_url=instance, timeout=TIMEOUT, headers=headers
            ) as http:
                response = http.post("/api/v1/apps", json=body)
        except (httpx.InvalidURL, OutboundRefused) as error:
            raise ContentRejected(_("That is not a valid server address.")) from error
        except (httpx.TransportError, OutboundFailed) as error:
            raise TemporaryFailure(_unreachable(instance)) from error
        return _registered_client(response, instance)

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        query = urlencode(
            {
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": SCOPES,
                "state": state,
                "code_challenge": pkce_challenge(code_verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{_instance(client)}/oauth/authorize?{query}"

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        """Exchange the code (POST /oauth/token), then ask whose token it is.

        The state parameter is the caller's to check before calling this. The
        credentials carry `base_url` too, but the channel should also keep it
        in `settings["base_url"]`.
        """
        base_url = _instance(client)
        with guarded_client(
            outbound_policy(), base_url=base_url, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}
        ) as http:
            try:
                response = http.post(
                    "/oauth/token",
                    json={
                        "grant_type": "authorization_code",
                        "code": code,
                        "client_id": client.client_id,
                        "client_secret": client.client_secret,
                        "redirect_uri": redirect_uri,
                        "code_verifier": code_verifier,
                        "scope": SCOPES,
                    },
                )
                if response.status_code in (400, 401):  # OAuth errors: invalid_grant, invalid_client
                    raise AuthenticationFailed(
                        _("Mastodon refused the authorization: %(detail)s")
                        % {"detail": response.json().get("error_description") or response.json().get("error")}
                    )
                raise_for_status(response)
                token = str(response.json()["access_token"])
                response = http.get(
                    "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
                )
                raise_for_status(response)
            except (httpx.TransportError, OutboundFailed, OutboundRefused) as error:
                raise TemporaryFailure(_("Could not reach the Mastodon instance.")) from error
        return ConnectedAccount(
            info=_account_info(response.json(), base_url),
            credentials={"access_token": token, "base_url": base_url},
        )


def _unreachable(instance: str) -> str:
    return _("Could not reach %(server)s. Check the address and try again.") % {"server": instance}


def _refuse_private_address(instance: str) -> None:
    """Registering is a request to an address a person typed (SSRF): public addresses only.

    The check is `tertulia.core.outbound`'s, and the requests that follow go through its guarded
    client, which connects only to the addresses it checked (no DNS rebinding). An instance on a
    private network is registered by an administrator instead (`tertulia apps set`), or allowed by
    the operator's `TERTULIA_OUTBOUND_ALLOW`, or by the older setting
    `TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES` (every address; the tests).
    """
    policy = outbound_policy()
    if policy.any_address:
        return
    try:
        target = check_url(instance, policy)
        checked_addresses(target.host, target.port, policy)
    except OutboundFailed as error:
        raise TemporaryFailure(_unreachable(instance)) from error
    except OutboundRefused as refused:
        if refused.code != "address":
            raise ContentRejected(str(refused)) from refused
        raise ContentRejected(
            _(
                "%(server)s is on a private or reserved network, so Tertulia does not register itself "
                "there; an administrator can register it by hand."
            )
            % {"server": instance}
        ) from refused


def _registered_client(response: httpx.Response, instance: str) -> OAuthClient:
    """The client id and secret from `POST /api/v1/apps`, or why there are none."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise_for_status(response)  # RateLimited or TemporaryFailure: trying later may work
    if status >= 400 and status not in (404, 405, 410):
        # Mastodon explains a refusal in JSON; any other body is no message for a person.
        is_json = "json" in response.headers.get("Content-Type", "")
        raise ContentRejected(
            _("%(server)s refused to register Tertulia: %(detail)s")
            % {"server": instance, "detail": (error_message(response) if is_json else "") or status}
        )
    try:
        app = response.json() if response.is_success else None
    except ValueError:  # an HTML page: some other kind of server
        app = None
    client_id = app.get("client_id") if isinstance(app, dict) else None
    secret = app.get("client_secret") if isinstance(app, dict) else None
    if not (isinstance(client_id, str) and client_id and isinstance(secret, str) and secret):
        raise ContentRejected(
            _("%(server)s does not answer as a Mastodon instance does. Check the address.")
            % {"server": instance}
        )
    return OAuthClient(client_id=client_id, client_secret=secret, base_url=instance)


def _instance(client: OAuthClient) -> str:
    if not client.base_url:
        raise AuthenticationFailed(_("A Mastodon app registration must say which instance it belongs to."))
    return client.base_url.rstrip("/")


def ratelimit_limit() -> int:
    budget = ratelimit.budget_for(NETWORK, BUCKET)
    return budget.limit if budget else 0
