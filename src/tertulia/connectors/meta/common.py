"""What Facebook Pages and Instagram share: the Graph client, reading with a cursor, Messenger DMs,
webhooks and sign-in. `facebook.py` and `instagram.py` add what differs.

Reading (`fetch_inbound`) merges two streams, comments on our recent posts and direct messages in
recent conversations, each with its own position in the cursor. Webhooks are the primary, real-time
path (see webhooks.py); polling is the fallback that catches whatever a missed webhook lost, so it
scans a bounded number of recent posts and conversations (`settings["scan_posts"]`,
`settings["scan_conversations"]`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
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
    PostMetrics,
    PublishedPost,
    RateLimited,
    RateLimitState,
    RemoteNotFound,
    TemporaryFailure,
    WebhookEvent,
    WebhookReply,
)
from tertulia.connectors.meta import oauth, parsing, webhooks
from tertulia.connectors.meta.client import CALLS, GRAPH_URL, GraphHTTP, Params

COMMENTS = "c"
MESSAGES = "m"
MAX_PAGES = 20  # of one edge per read: a bound, so a huge thread cannot stall a poll
# What both networks can do (reading, DMs, moderation, metrics, webhooks live here); Facebook adds
# text-only posts and alt text, which Instagram's publishing lacks.
CAPABILITIES: frozenset[Capability] = frozenset(
    {
        Capability.PUBLISH_IMAGES,
        Capability.REPLY,
        Capability.DIRECT_MESSAGES,
        Capability.READ_COMMENTS,
        Capability.READ_DIRECT_MESSAGES,
        Capability.HIDE,
        Capability.DELETE,
        Capability.POST_METRICS,
        Capability.ACCOUNT_METRICS,
        Capability.WEBHOOKS,
        Capability.RATE_LIMIT_STATE,
    }
)


class MetaConnector(Connector):
    """Base of both Meta connectors; not registered itself."""

    # The Page token comes from the Facebook Login of the person who connected it and lasts while that
    # person keeps their role on the Page: when they leave (or their Facebook account goes), it stops.
    credentials_belong_to_person: ClassVar[bool] = True
    scopes: ClassVar[tuple[str, ...]] = ()
    messaging_platform: ClassVar[str] = "messenger"
    max_message_length: ClassVar[int] = 2000
    metric_fields: ClassVar[str] = "id"  # what post_metrics reads of each post
    views_metric: ClassVar[str] = ""  # the insight that counts views; each network names its own
    hide_field: ClassVar[str] = "is_hidden"  # a comment's hidden flag, as the network names it

    def __init__(self, account: ChannelAccount, http: httpx.Client | None = None) -> None:
        super().__init__(account)
        base_url = account.settings.get("base_url") or account.credentials.get("base_url") or GRAPH_URL
        self.base_url = str(base_url).rstrip("/")
        self.page_id = str(account.credentials.get("page_id") or account.settings.get("page_id") or "")
        self.scan_posts = int(account.settings.get("scan_posts", 10))
        self.scan_conversations = int(account.settings.get("scan_conversations", 10))
        self.graph = GraphHTTP(
            self.network,
            self.display_name,
            self.base_url,
            str(account.credentials.get("access_token") or ""),
            limiter_key=account.external_id or account.handle or "unconnected",
            http=http,
        )

    # -- plumbing

    def _get(self, path: str, params: Params | None = None) -> dict[str, Any]:
        return self.graph.request("GET", path, params=params)

    def _post(self, path: str, data: Params | None = None, **kwargs: Any) -> dict[str, Any]:
        return self.graph.request("POST", path, data=data, **kwargs)

    def _paged(self, path: str, params: Mapping[str, str | int]) -> Iterator[dict[str, Any]]:
        """Every row of an edge, following `paging.cursors.after` while Meta says there is a next page."""
        query = dict(params)
        for _page in range(MAX_PAGES):
            payload = self._get(path, query)
            for row in payload.get("data") or []:
                if isinstance(row, dict):
                    yield row
            paging = parsing.obj(payload.get("paging"))
            after = (paging.get("cursors") or {}).get("after") if isinstance(paging, dict) else None
            if not paging.get("next") or not after:
                return
            query["after"] = str(after)

    def _own_ids(self) -> set[str]:
        return {i for i in (self.account.external_id, self.page_id) if i}

    def _require_page(self) -> str:
        if not self.page_id:
            raise AuthenticationFailed(
                _("This %(network)s channel does not know its Facebook Page; connect it again.")
                % {"network": self.display_name}
            )
        return self.page_id

    def rate_limit_state(self) -> RateLimitState | None:
        bucket = self.rate_bucket()
        found = ratelimit.state(self.network, self.graph.limiter_key, bucket)
        if found is not None:
            return found
        budget = ratelimit.budget_for(self.network, bucket)
        limit = budget.limit if budget else 0
        return RateLimitState(limit=limit, remaining=limit, resets_at=datetime.now(UTC))

    def rate_bucket(self) -> str:
        return CALLS

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        """Comments on our posts and direct messages, oldest first after the cursor.

        The first read (no cursor) returns the most recent `limit` items and starts from there.
        Later reads return the oldest `limit` items after the cursor, so paging on loses nothing and
        repeats nothing (positions keep the ids read at their last second, see parsing.Position).
        """
        limit = max(1, limit)
        state = parsing.Cursor.parse(cursor) if cursor else parsing.Cursor()
        found: list[tuple[int, str, str, InboundItem]] = []
        for stream, reader in ((COMMENTS, self._comments), (MESSAGES, self._messages)):
            position = state.get(stream)
            for ts, item in reader(position.ts):
                if cursor is None or position.is_new(ts, item.remote_id):
                    found.append((ts, item.remote_id, stream, item))
        found.sort(key=lambda row: (row[0], row[1]))
        if cursor is None:
            taken = found[-limit:]
            # Start after everything seen, read or not: the first read is a starting point.
            for ts, remote_id, stream, _item in found:
                state.get(stream).advance(ts, remote_id)
            newest = max((pos.ts for pos in state.positions.values()), default=0)
            for stream in (COMMENTS, MESSAGES):
                if not state.get(stream).ts:
                    state.positions[stream] = parsing.Position(newest, set())
        else:
            taken = found[:limit]
            for ts, remote_id, stream, _item in taken:
                state.get(stream).advance(ts, remote_id)
        return InboundPage(items=[row[3] for row in taken], cursor=str(state))

    def _comments(self, since: int) -> Iterator[tuple[int, InboundItem]]:
        """Hook: FacebookPageConnector and InstagramConnector each read their own comment edges."""
        raise NotImplementedError

    def _messages(self, since: int) -> Iterator[tuple[int, InboundItem]]:
        """Messages in conversations updated since `since`, not sent by us (Messenger / IG Messaging)."""
        if not self.page_id:
            return
        own = self._own_ids()
        conversations = self._get(
            f"{self.page_id}/conversations",
            {
                "platform": self.messaging_platform,
                "fields": "id,updated_time",
                "limit": self.scan_conversations,
            },
        )
        for conversation in conversations.get("data") or []:
            if not isinstance(conversation, dict) or not conversation.get("id"):
                continue
            if parsing.timestamp(conversation.get("updated_time")) < since:
                continue
            key = str(conversation["id"])
            for message in self._paged(
                f"{key}/messages", {"fields": "id,created_time,from,to,message", "limit": 50}
            ):
                ts = parsing.timestamp(message.get("created_time"))
                if ts < since:
                    break  # newest first: the rest is older
                sender = parsing.obj(message.get("from"))
                if str(sender.get("id", "")) in own:
                    continue
                yield (
                    ts,
                    InboundItem(
                        remote_id=str(message["id"]),
                        kind=InboundKind.DIRECT_MESSAGE,
                        author=parsing.author(sender),
                        text=str(message.get("message") or ""),
                        created_at=parsing.parse_time(message.get("created_time")),
                        conversation_key=key,
                        raw=message,
                    ),
                )

    # -- direct messages

    def send_direct_message(
        self, recipient_id: str, text: str, idempotency_key: str | None = None
    ) -> PublishedPost:
        """A reply through the Send API; Meta only allows it within 24 h of the person's last message."""
        if not text.strip():
            raise ContentRejected(_("A message needs text."))
        if len(text) > self.max_message_length:
            raise ContentRejected(
                _("%(network)s messages are limited to %(limit)d characters.")
                % {"network": self.display_name, "limit": self.max_message_length}
            )
        data: dict[str, str | int] = {
            "recipient": json.dumps({"id": recipient_id}),
            "message": json.dumps({"text": text}),
        }
        if self.messaging_platform == "messenger":
            data["messaging_type"] = "RESPONSE"
        sent = self._post(f"{self._require_page()}/messages", data)
        message_id = sent.get("message_id")
        if not message_id:
            raise ConnectorError(
                _("%(network)s accepted the message but did not return its id.")
                % {"network": self.display_name}
            )
        return PublishedPost(remote_id=str(message_id), url="", created_at=datetime.now(UTC))

    # -- moderation

    def hide(self, remote_id: str) -> None:
        self._post(remote_id, {self.hide_field: "true"})

    def unhide(self, remote_id: str) -> None:
        self._post(remote_id, {self.hide_field: "false"})

    def delete(self, remote_id: str) -> None:
        self.graph.request("DELETE", remote_id)

    # -- metrics

    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Counts of the posts that still exist (a deleted one is left out); views when insights allow."""
        rows: list[PostMetrics] = []
        for remote_id in remote_ids:
            try:
                found = self._get(remote_id, {"fields": self.metric_fields})
            except RemoteNotFound:
                continue
            rows.append(self._metrics(remote_id, found, self._insight(remote_id, self.views_metric)))
        return rows

    def _metrics(self, remote_id: str, found: dict[str, Any], views: int | None) -> PostMetrics:
        """Hook: the counts each network's post (or media) object holds."""
        raise NotImplementedError

    def _insight(self, remote_id: str, metric: str) -> int | None:
        """An object's latest value of one insight; None when insights are unavailable (no permission,
        a post too new). A limit or an outage still propagates: it says nothing about the insight."""
        try:
            insights = self._get(f"{remote_id}/insights", {"metric": metric})
        except (RateLimited, TemporaryFailure):
            raise
        except ConnectorError:
            return None
        for row in insights.get("data") or []:
            if isinstance(row, dict) and row.get("name") == metric:
                for value in row.get("values") or []:
                    if isinstance(value, dict) and isinstance(value.get("value"), int):
                        return int(value["value"])
        return None

    # -- webhooks

    @classmethod
    def webhook_challenge(cls, query: Mapping[str, str], secret: str) -> WebhookReply | None:
        return webhooks.challenge(query, secret)

    @classmethod
    def verify_webhook(cls, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        return webhooks.verify(headers, body, secret)

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[WebhookEvent]:
        return webhooks.parse(body)

    # -- sign-in

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        return oauth.authorization_url(
            client, redirect_uri, state, oauth.pkce_challenge(code_verifier), cls.scopes
        )

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        pages = oauth.managed_pages(client, redirect_uri, code, code_verifier, cls.display_name)
        return cls.choose_account(pages, client.base_url)

    @classmethod
    def choose_account(cls, pages: list[oauth.ManagedPage], base_url: str) -> ConnectedAccount:
        """Hook: which of a login's Pages each network offers (all Pages, or those with Instagram)."""
        raise NotImplementedError

    @staticmethod
    def _credentials(page: oauth.ManagedPage, base_url: str) -> dict[str, str]:
        credentials = {"access_token": page.access_token, "page_id": page.page_id}
        if base_url:
            credentials["base_url"] = base_url.rstrip("/")
        return credentials


def offer_all(accounts: Sequence[ConnectedAccount], network_name: str) -> ConnectedAccount:
    """The first account, with every other one as an alternative the person may choose instead."""
    if not accounts:
        raise no_pages(network_name)
    return replace(accounts[0], alternatives=tuple(accounts[1:]))


def no_pages(network_name: str) -> AuthenticationFailed:
    return AuthenticationFailed(
        _("The Facebook account manages no Page that %(network)s can connect; check the Page's tasks.")
        % {"network": network_name}
    )
