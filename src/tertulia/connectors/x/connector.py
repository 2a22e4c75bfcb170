"""X (formerly Twitter) behind the connector interface, over X API v2.

Requests follow X's official OpenAPI document (v2.167, copied in `spec/`), and the tests check every
request the connector sends against it over real HTTP. Two consequences worth knowing:

- Field selection uses `post.fields` and the `referenced_posts` expansion, the names in that document
  (older documentation says `tweet.fields` and `referenced_tweets`; responses are read either way).
- X has no idempotency key: after a crash the dispatcher reconciles with `find_own_post`, which looks
  for the text among the account's posts since the attempt started (see its docstring).

Remote ids are X's own: post ids as they are, direct-message event ids prefixed with "dm-" so that
`delete` knows which endpoint to call.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AccountInfo,
    AccountMetrics,
    Capability,
    ChannelAccount,
    ConnectedAccount,
    Connector,
    ConnectorError,
    ContentRejected,
    InboundItem,
    InboundKind,
    InboundPage,
    OAuthClient,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
    RateLimitState,
    RemoteAuthor,
    RemoteNotFound,
    TemporaryFailure,
    WebhookEvent,
    WebhookReply,
)
from tertulia.connectors.x import counting, media, oauth, webhooks
from tertulia.connectors.x.client import BUDGETS, NETWORK, XHttp

API_BASE_URL = oauth.API_BASE_URL
WEB_URL = "https://x.com"
DM_PREFIX = "dm-"
# X's ids are snowflakes: the creation time in milliseconds since this epoch, shifted left 22 bits.
SNOWFLAKE_EPOCH_MS = 1288834974657
# Mentions: X serves only the 800 most recent through this endpoint, 100 at a time.
PAGE_SIZE = 100
MAX_PAGES = 8
# Reconciliation looks a little before the attempt started: clocks differ.
CLOCK_SKEW = timedelta(minutes=2)

# In this spec, author_id and referenced_posts come with their expansions, not as post fields.
POST_FIELDS = "conversation_id,created_at,lang"
POST_EXPANSIONS = "author_id,referenced_posts"
USER_FIELDS = "name,username,public_metrics"
DM_FIELDS = "created_at,dm_conversation_id,event_type,id,text"
_ID = re.compile(r"^[0-9]{1,19}$")
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}\s+)+")
_URL_IN_TEXT = re.compile(r"https?://\S+")


def snowflake_time(remote_id: str) -> datetime | None:
    if not _ID.match(remote_id):
        return None
    return datetime.fromtimestamp(((int(remote_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)


def _parse_time(value: Any, fallback_id: str) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return snowflake_time(fallback_id) or datetime.now(UTC)


def _comparable(text: str) -> str:
    """A post's text as X hands it back, reduced to what we sent: X escapes &, < and >, rewrites every
    URL to a t.co link, and starts the text of a reply with the handles it answers."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _LEADING_MENTIONS.sub("", text)
    text = _URL_IN_TEXT.sub("<url>", text)
    return " ".join(text.split())


def _references(post: Mapping[str, Any]) -> dict[str, str]:
    """{type: id} of the posts this one replies to, quotes or reposts (either field name)."""
    found: dict[str, str] = {}
    for key in ("referenced_posts", "referenced_tweets"):
        for ref in post.get(key) or []:
            if isinstance(ref, dict) and ref.get("type") and ref.get("id"):
                found[str(ref["type"])] = str(ref["id"])
    return found


class _Cursor:
    """Where reading stopped: the newest mention id and the newest DM event id read ("m:1,d:2")."""

    def __init__(self, mentions: int = 0, messages: int = 0) -> None:
        self.mentions = mentions
        self.messages = messages

    @classmethod
    def parse(cls, cursor: str) -> _Cursor:
        values: dict[str, int] = {}
        try:
            for part in cursor.split(","):
                key, _sep, value = part.partition(":")
                values[key.strip()] = int(value)
        except ValueError:
            raise ConnectorError(_("This is not an X cursor: %(cursor)s") % {"cursor": cursor[:40]}) from None
        if set(values) - {"m", "d"}:
            raise ConnectorError(_("This is not an X cursor: %(cursor)s") % {"cursor": cursor[:40]})
        return cls(values.get("m", 0), values.get("d", 0))

    def __str__(self) -> str:
        return f"m:{self.mentions},d:{self.messages}"


class XConnector(Connector):
    network = NETWORK
    display_name = "X"
    # OAuth 2.0 user context of the X account being connected (the brand's), not of a person.
    credentials_belong_to_person: ClassVar[bool] = False
    max_text_length = counting.MAX_WEIGHTED_LENGTH
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGES,
            Capability.ALT_TEXT,
            Capability.THREADS,
            Capability.QUOTE,
            Capability.REPLY,
            Capability.DIRECT_MESSAGES,
            Capability.READ_MENTIONS,
            Capability.READ_REPLIES,
            Capability.READ_DIRECT_MESSAGES,
            Capability.HIDE,
            Capability.DELETE,
            Capability.MUTE,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.WEBHOOKS,
            Capability.REFRESH_TOKENS,
            Capability.RATE_LIMIT_STATE,
            Capability.FIND_OWN_POST,
        }
    )
    # Account Activity kinds the inbox ingests: mentions and replies (posts), and direct messages.
    webhook_kinds: ClassVar[frozenset[str]] = frozenset({"tweet_create_events", "direct_message_events"})

    def __init__(self, account: ChannelAccount, http: httpx.Client | None = None) -> None:
        super().__init__(account)
        self.base_url = str(account.settings.get("base_url", API_BASE_URL)).rstrip("/")
        self._user_id = account.external_id
        self.api = XHttp(
            self.base_url,
            account.credentials.get("access_token", ""),
            account_key=account.external_id or account.handle or "unconnected",
            http=http,
        )
        self.uploader = media.Uploader(self.api)

    # -- plumbing

    def _me(self) -> str:
        """The account's user id (the vault has it; asked once if not)."""
        if not self._user_id:
            self._user_id = self.verify_account().external_id
        return self._user_id

    def _post_id(self, remote_id: str) -> str:
        # An id X could never have issued is not worth a request (and would not be a valid one).
        if not _ID.match(remote_id):
            raise RemoteNotFound(_("%(id)s is not an X post id.") % {"id": remote_id[:40]})
        return remote_id

    def _post_url(self, post_id: str) -> str:
        handle = self.account.handle.lstrip("@")
        return f"{WEB_URL}/{handle}/status/{post_id}" if handle else f"{WEB_URL}/i/web/status/{post_id}"

    # -- account

    def verify_account(self) -> AccountInfo:
        data = self._users_me()
        return AccountInfo(
            external_id=str(data["id"]),
            handle=str(data.get("username", "")),
            display_name=str(data.get("name", "")),
        )

    def _users_me(self) -> Mapping[str, Any]:
        payload = self.api.request(
            "GET", "/2/users/me", "GET /2/users/me", params={"user.fields": USER_FIELDS}
        )
        data = payload.get("data")
        if not isinstance(data, dict) or "id" not in data:
            raise ConnectorError(_("X did not say whose account this is."))
        if not self._user_id:
            self._user_id = str(data["id"])
        return data

    def refresh_credentials(self) -> Mapping[str, str]:
        """New credentials: X's refresh tokens are single-use, so the result replaces the old ones whole."""
        return oauth.refresh(self.base_url, self.account.credentials, http=self.api.session)

    def rate_limit_state(self) -> RateLimitState:
        """The publishing window, the one a community manager runs out of first."""
        bucket = "POST /2/tweets"
        found = ratelimit.state(NETWORK, self.api.account_key, bucket)
        if found is not None:
            return found
        budget = BUDGETS[bucket]
        return RateLimitState(limit=budget.limit, remaining=budget.limit, resets_at=datetime.now(UTC))

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        """A post, with up to 4 images (alt text included): everything is checked before any upload."""
        if post.text or not post.media:
            parsed = counting.parse_text(post.text)
            if parsed.has_invalid_characters:
                raise ContentRejected(
                    _("The text has characters X does not accept (byte-order or direction marks).")
                )
            if not parsed.valid:
                raise ContentRejected(
                    _("The text counts %(count)d on X; the limit is %(limit)d.")
                    % {"count": parsed.weighted_length, "limit": self.max_text_length}
                )
        media.check(post.media)
        body: dict[str, Any] = {"text": post.text}
        if post.reply_to:
            body["reply"] = {"in_reply_to_tweet_id": self._post_id(post.reply_to)}
        if post.quote_of:
            body["quote_tweet_id"] = self._post_id(post.quote_of)
        if post.media:
            body["media"] = {"media_ids": self.uploader.upload_all(post.media)}
        payload = self.api.request("POST", "/2/tweets", "POST /2/tweets", json=body)
        data = payload.get("data")
        if not isinstance(data, dict) or "id" not in data:
            # It is out there: "retry" means reconcile, which finds it with its id.
            raise TemporaryFailure(_("X accepted the post but did not return its id."))
        remote_id = str(data["id"])
        return PublishedPost(
            remote_id=remote_id,
            url=self._post_url(remote_id),
            created_at=snowflake_time(remote_id) or datetime.now(UTC),
        )

    def find_own_post(
        self, idempotency_key: str, post: OutgoingPost | None = None, since: datetime | None = None
    ) -> PublishedPost | None:
        """Reconciliation without an idempotency key: X has none.

        Looks among the account's own posts since `since` (when the attempt started, less two minutes
        for clock skew) for one whose text is `post.text` and which answers or quotes the same post.
        X refuses an identical text within a short time anyway (403 duplicate content), so a text
        match after the attempt started is that attempt. Without `post` there is nothing to look for:
        the key alone is never sent to X.
        """
        if post is None:
            raise ConnectorError(
                _("X has no idempotency keys: finding a post needs its text and when it was attempted.")
            )
        wanted = _comparable(post.text)
        params: dict[str, str] = {
            "max_results": str(PAGE_SIZE),
            "exclude": "retweets",
            "expansions": "referenced_posts",
            "post.fields": POST_FIELDS,
        }
        if since is not None:
            start = (since - CLOCK_SKEW).astimezone(UTC).replace(microsecond=0)
            params["start_time"] = start.isoformat().replace("+00:00", "Z")
        for item in self._pages(
            f"/2/users/{self._me()}/tweets", "GET /2/users/:id/tweets", params, max_pages=2
        ):
            refs = _references(item)
            found = _comparable(str(item.get("text", "")))
            if post.media and found != wanted and found.endswith("<url>"):
                found = found.removesuffix("<url>").rstrip()  # X appends a link to the media
            if found != wanted:
                continue
            if (post.reply_to or None) != refs.get("replied_to") or (post.quote_of or None) != refs.get(
                "quoted"
            ):
                continue
            remote_id = str(item["id"])
            return PublishedPost(
                remote_id=remote_id,
                url=self._post_url(remote_id),
                created_at=_parse_time(item.get("created_at"), remote_id),
            )
        return None

    def send_direct_message(
        self, recipient_id: str, text: str, idempotency_key: str | None = None
    ) -> PublishedPost:
        if not _ID.match(recipient_id):
            raise RemoteNotFound(_("%(id)s is not an X user id.") % {"id": recipient_id[:40]})
        if not text.strip():
            raise ContentRejected(_("A direct message needs text."))
        payload = self.api.request(
            "POST",
            f"/2/dm_conversations/with/{recipient_id}/messages",
            "POST /2/dm_conversations/with/:participant_id/messages",
            json={"text": text},
        )
        data = payload.get("data")
        if not isinstance(data, dict) or "dm_event_id" not in data:
            raise ConnectorError(_("X accepted the message but did not return its id."))
        event_id = str(data["dm_event_id"])
        return PublishedPost(
            remote_id=DM_PREFIX + event_id, url="", created_at=snowflake_time(event_id) or datetime.now(UTC)
        )

    # -- reading

    def _pages(
        self,
        path: str,
        bucket: str,
        params: Mapping[str, str],
        max_pages: int = MAX_PAGES,
        stop_at: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Items of a newest-first timeline, page after page, each with the `includes.users` it came with
        under "_author". Stops when X has no more pages, after `max_pages`, or at an id <= `stop_at`."""
        token: str | None = None
        for _page in range(max_pages):
            query = dict(params)
            if token:
                query["pagination_token"] = token
            payload = self.api.request("GET", path, bucket, params=query)
            users = {
                str(u.get("id")): u
                for u in (payload.get("includes") or {}).get("users") or []
                if isinstance(u, dict)
            }
            for item in payload.get("data") or []:
                if not isinstance(item, dict) or not _ID.match(str(item.get("id", ""))):
                    continue
                if stop_at and int(item["id"]) <= stop_at:
                    return
                author_id = str(item.get("author_id") or item.get("sender_id") or "")
                yield {**item, "_author": users.get(author_id, {"id": author_id})}
            token = (payload.get("meta") or {}).get("next_token")
            if not token:
                return

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        """Mentions (and replies, which mention the account) and direct messages after `cursor`.

        X returns both newest first. On a first read (no cursor) the newest `limit` items are returned
        and older ones are left behind. After that, everything newer than the cursor is read (X keeps
        the 800 most recent mentions) and returned oldest first, `limit` at a time, so a long backlog
        is neither lost nor repeated: the cursor only moves past what was returned.
        """
        limit = max(1, limit)
        me = self._me()
        first = cursor is None
        position = _Cursor() if cursor is None else _Cursor.parse(cursor)
        mention_params = {
            "max_results": str(max(5, min(limit, PAGE_SIZE)) if first else PAGE_SIZE),
            "expansions": POST_EXPANSIONS,
            "post.fields": POST_FIELDS,
            "user.fields": USER_FIELDS,
        }
        if position.mentions:
            mention_params["since_id"] = str(position.mentions)
        mentions = [
            self._mention_item(item, me)
            for item in self._pages(
                f"/2/users/{me}/mentions",
                "GET /2/users/:id/mentions",
                mention_params,
                max_pages=1 if first else MAX_PAGES,
                stop_at=position.mentions,
            )
            if str(item.get("author_id", "")) != me
        ]
        messages: list[InboundItem] = []
        if self.account.settings.get("read_direct_messages", True):
            dm_params = {
                "max_results": str(PAGE_SIZE),
                "event_types": "MessageCreate",
                "dm_event.fields": DM_FIELDS,
                "expansions": "sender_id",
                "user.fields": USER_FIELDS,
            }
            messages = [
                self._message_item(item)
                for item in self._pages(
                    "/2/dm_events",
                    "GET /2/dm_events",
                    dm_params,
                    max_pages=1 if first else MAX_PAGES,
                    stop_at=position.messages,
                )
                if str(item.get("sender_id", "")) != me
            ]
        return self._page(mentions, messages, position, limit, first)

    def _page(
        self,
        mentions: list[InboundItem],
        messages: list[InboundItem],
        position: _Cursor,
        limit: int,
        first: bool,
    ) -> InboundPage:
        def order(item: InboundItem) -> int:
            return int(item.remote_id.removeprefix(DM_PREFIX))

        merged = sorted(mentions + messages, key=order)
        taken = merged[-limit:] if first else merged[:limit]
        after = _Cursor(position.mentions, position.messages)
        # First read: skip the backlog (everything seen); later: move past what is returned, no further.
        for item in merged if first else taken:
            if item.kind == InboundKind.DIRECT_MESSAGE:
                after.messages = max(after.messages, order(item))
            else:
                after.mentions = max(after.mentions, order(item))
        return InboundPage(items=taken, cursor=str(after))

    def _author(self, user: Mapping[str, Any]) -> RemoteAuthor:
        username = str(user.get("username", ""))
        metrics = user.get("public_metrics") or {}
        return RemoteAuthor(
            remote_id=str(user.get("id", "")),
            handle=username,
            display_name=str(user.get("name", "")),
            followers_count=int(metrics.get("followers_count", 0) or 0),
            profile_url=f"{WEB_URL}/{username}" if username else "",
        )

    def _mention_item(self, item: Mapping[str, Any], me: str) -> InboundItem:
        refs = _references(item)
        kind = InboundKind.MENTION
        if "replied_to" in refs:
            kind = InboundKind.REPLY
        elif "quoted" in refs:
            kind = InboundKind.QUOTE
        author = self._author(item["_author"])
        remote_id = str(item["id"])
        raw = {k: v for k, v in item.items() if k != "_author"}
        url = f"{WEB_URL}/{author.handle}/status/{remote_id}" if author.handle else ""
        return InboundItem(
            remote_id=remote_id,
            kind=kind,
            author=author,
            text=html.unescape(str(item.get("text", ""))),
            created_at=_parse_time(item.get("created_at"), remote_id),
            url=url or f"{WEB_URL}/i/web/status/{remote_id}",
            in_reply_to=refs.get("replied_to"),
            conversation_key=str(item.get("conversation_id") or remote_id),
            language=str(item["lang"]) if item.get("lang") else None,
            raw=raw,
        )

    def _message_item(self, item: Mapping[str, Any]) -> InboundItem:
        event_id = str(item["id"])
        conversation = str(item.get("dm_conversation_id") or item.get("sender_id") or event_id)
        return InboundItem(
            remote_id=DM_PREFIX + event_id,
            kind=InboundKind.DIRECT_MESSAGE,
            author=self._author(item["_author"]),
            text=html.unescape(str(item.get("text", ""))),
            created_at=_parse_time(item.get("created_at"), event_id),
            conversation_key=DM_PREFIX + conversation,
            raw={k: v for k, v in item.items() if k != "_author"},
        )

    # -- moderation

    def _set_hidden(self, remote_id: str, hidden: bool) -> None:
        if remote_id.startswith(DM_PREFIX):
            raise self._unsupported(_lazy("hiding direct messages"))
        post_id = self._post_id(remote_id)
        self.api.request(
            "PUT", f"/2/tweets/{post_id}/hidden", "PUT /2/tweets/:id/hidden", json={"hidden": hidden}
        )

    def hide(self, remote_id: str) -> None:
        """Hide a reply to one of the account's posts (X allows only that)."""
        self._set_hidden(remote_id, True)

    def unhide(self, remote_id: str) -> None:
        self._set_hidden(remote_id, False)

    def delete(self, remote_id: str) -> None:
        if remote_id.startswith(DM_PREFIX):
            event_id = remote_id.removeprefix(DM_PREFIX)
            if not _ID.match(event_id):
                raise RemoteNotFound(_("%(id)s is not an X message id.") % {"id": remote_id[:40]})
            self.api.request("DELETE", f"/2/dm_events/{event_id}", "DELETE /2/dm_events/:id")
            return
        post_id = self._post_id(remote_id)
        payload = self.api.request("DELETE", f"/2/tweets/{post_id}", "DELETE /2/tweets/:id")
        if not (payload.get("data") or {}).get("deleted", False) and payload.get("errors"):
            raise RemoteNotFound(_("X did not delete post %(id)s.") % {"id": post_id})

    def mute(self, author_id: str) -> None:
        """Mute an account (the v2 API has no endpoint to block: listing blocks is all it offers)."""
        if not _ID.match(author_id):
            raise RemoteNotFound(_("%(id)s is not an X user id.") % {"id": author_id[:40]})
        self.api.request(
            "POST",
            f"/2/users/{self._me()}/muting",
            "POST /2/users/:id/muting",
            json={"target_user_id": author_id},
        )

    # -- metrics

    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        ids = [i for i in dict.fromkeys(remote_ids) if _ID.match(i)]
        rows: list[PostMetrics] = []
        for start in range(0, len(ids), 100):
            payload = self.api.request(
                "GET",
                "/2/tweets",
                "GET /2/tweets",
                params={"ids": ",".join(ids[start : start + 100]), "post.fields": "public_metrics"},
            )
            for item in payload.get("data") or []:
                metrics = item.get("public_metrics") or {}
                rows.append(
                    PostMetrics(
                        remote_id=str(item["id"]),
                        likes=int(metrics.get("like_count", 0)),
                        reposts=int(metrics.get("repost_count", metrics.get("retweet_count", 0))),
                        replies=int(metrics.get("reply_count", 0)),
                        quotes=int(metrics.get("quote_count", 0)),
                        impressions=metrics.get("impression_count"),
                    )
                )
        return rows

    def account_metrics(self) -> AccountMetrics:
        metrics = self._users_me().get("public_metrics") or {}
        return AccountMetrics(
            followers=int(metrics.get("followers_count", 0)),
            following=int(metrics.get("following_count", 0)),
            posts=int(metrics.get("post_count", metrics.get("tweet_count", 0))),
        )

    # -- webhooks (Account Activity API)

    @classmethod
    def webhook_challenge(cls, query: Mapping[str, str], secret: str) -> WebhookReply | None:
        return webhooks.crc_reply(query, secret)

    @classmethod
    def verify_webhook(cls, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        return webhooks.verify(headers, body, secret)

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[WebhookEvent]:
        return webhooks.parse(body)

    # -- sign-in

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        return oauth.authorization_url(client, redirect_uri, state, code_verifier)

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        credentials, expires_at = oauth.exchange_code(client, redirect_uri, code, code_verifier)
        base_url = client.base_url or API_BASE_URL
        connector = cls(ChannelAccount(handle="", credentials=credentials, settings={"base_url": base_url}))
        try:
            info = connector.verify_account()
        finally:
            connector.api.close()
        return ConnectedAccount(info=info, credentials=credentials, expires_at=expires_at)
