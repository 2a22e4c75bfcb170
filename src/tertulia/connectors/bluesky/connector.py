"""Bluesky (the AT Protocol) behind the connector interface, through the `atproto` SDK.

A channel's credentials are either an app-password session: `access_jwt`, `refresh_jwt`,
`did` and `service` (the account's PDS, which may differ from where the person signed in:
bsky.social is an entryway in front of many PDS hosts; the app password itself is never
stored), or an OAuth session (`auth` = "oauth", see `oauth.py`): DPoP-bound
`access_token` and `refresh_token`, the DPoP key as a JWK, the token endpoint, `did`
and `service`. The connector never refreshes the session on its own: a refresh rotates
the refresh token, and only the caller can store the new one, so an expired access token
raises AuthenticationFailed and the token-health monitor calls `refresh_credentials()`
(`ConnectedAccount.expires_at` says when that is due).

Writes go to the account's repository on its PDS (`com.atproto.repo.*`); reads about
posts, profiles and notifications go through the PDS to the AppView (`app.bsky.*`).
See docs/connectors/bluesky.md for what is supported and why.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

from atproto_client import Client, models
from atproto_client.client.session import (
    get_session_pds_endpoint,
)
from atproto_client.request import Request
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
    ConnectorError,
    ContentRejected,
    InboundItem,
    InboundKind,
    InboundPage,
    MediaItem,
    OAuthClient,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
    RateLimited,
    RateLimitState,
    RemoteAuthor,
    RemoteNotFound,
)
from tertulia.connectors.bluesky import inbound, oauth
from tertulia.connectors.bluesky.errors import translate
from tertulia.connectors.bluesky.records import (
    BLOCK_COLLECTION,
    POST_COLLECTION,
    AtUri,
    deterministic_tid,
    jwt_claims,
    jwt_expiry,
    now_iso,
    parse_at_uri,
    parse_datetime,
    post_url,
    profile_url,
)
from tertulia.connectors.bluesky.text import grapheme_count

NETWORK = "bluesky"
DEFAULT_SERVICE = "https://bsky.social"
TIMEOUT_SECONDS = 30.0

MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000  # the lexicon's other limit on app.bsky.feed.post#text
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
MAX_ALT_TEXT_GRAPHEMES = 2000

# Bluesky's write budget per account: 5,000 points an hour and 35,000 a day; creating a
# record costs 3 points, updating 2, deleting 1.
WRITE_HOURLY = "write-points-hour"
WRITE_DAILY = "write-points-day"
COST_CREATE = 3
COST_UPDATE = 2
COST_DELETE = 1
ratelimit.register(
    NETWORK,
    {
        WRITE_HOURLY: ratelimit.Budget(limit=5000, window_seconds=3600),
        WRITE_DAILY: ratelimit.Budget(limit=35000, window_seconds=86400),
    },
)

# How many notification pages one read may walk (100 each) before handing out what it has.
MAX_NOTIFICATION_PAGES = 100
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs

INBOUND_KINDS: dict[str, InboundKind] = {
    "mention": InboundKind.MENTION,
    "reply": InboundKind.REPLY,
    "quote": InboundKind.QUOTE,
}
# One post can notify twice (a reply that also mentions the account): keep the most specific.
_KIND_PRIORITY = {"mention": 0, "quote": 1, "reply": 2}

T = TypeVar("T")


def _call(fn: Callable[[], T]) -> T:
    """Run one SDK call and translate whatever it raises into the interface's errors."""
    try:
        return fn()
    except ConnectorError:
        raise
    except Exception as exc:
        raise translate(exc) from exc


def _new_client(service: str, bearer: str = "", dpop: oauth.DPoPTransport | None = None) -> Client:
    # The Authorization header is set by hand rather than through the SDK's session, whose
    # automatic refresh would rotate the refresh token behind the vault's back. An OAuth
    # session's requests are signed by the DPoP transport instead (token and proof).
    # `service` is a server the person typed or the PDS an account's DID document names: every
    # request goes through the outbound policy (docs/outbound.md), the DPoP transport's own
    # inner transport included. No proxy from the environment: httpx would mount it in front of
    # the transport, and the proxy would resolve names out of reach of the checks.
    transport = dpop if dpop is not None else oauth.pds_transport()
    request = Request(timeout=TIMEOUT_SECONDS, transport=transport, trust_env=False)
    client = Client(base_url=service, request=request)
    if bearer:
        client.request.add_additional_header("Authorization", f"Bearer {bearer}")
    return client


def is_oauth(credentials: Mapping[str, str]) -> bool:
    return credentials.get("auth") == "oauth"


def _oauth_credentials(
    tokens: Mapping[str, Any], key: oauth.DPoPKey, token_endpoint: str, client_id: str, service: str
) -> dict[str, str]:
    """What the vault keeps of a token answer; refuses an answer that is not an atproto session."""
    access = str(tokens.get("access_token") or "")
    did = str(tokens.get("sub") or "")
    if (
        not access
        or str(tokens.get("token_type", "")).lower() != "dpop"
        or not did.startswith("did:")
        or "atproto" not in str(tokens.get("scope", "")).split()
    ):
        raise AuthenticationFailed(_("Bluesky's sign-in server gave an unusable session."))
    credentials = {
        "auth": "oauth",
        "access_token": access,
        "refresh_token": str(tokens.get("refresh_token") or ""),
        "dpop_key": json.dumps(key.private_jwk()),
        "token_endpoint": token_endpoint,
        "client_id": client_id,
        "did": did,
        "service": service.rstrip("/"),
        "scope": str(tokens.get("scope", "")),
    }
    expires_in = tokens.get("expires_in")
    if isinstance(expires_in, int | float) and expires_in > 0:
        credentials["expires_at"] = (timezone.now() + timedelta(seconds=float(expires_in))).isoformat()
    return credentials


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of an SDK model or of a plain dict (records of unknown types come as dicts)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _dump(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return obj


def _credentials_from_session(session: Any, service: str) -> dict[str, str]:
    return {
        "access_jwt": str(session.access_jwt),
        "refresh_jwt": str(session.refresh_jwt),
        "did": str(session.did),
        "service": (get_session_pds_endpoint(session) or service).rstrip("/"),
    }


def _author(profile: Any) -> RemoteAuthor:
    return RemoteAuthor(
        remote_id=str(profile.did),
        handle=str(profile.handle),
        display_name=str(_get(profile, "display_name") or ""),
        followers_count=int(_get(profile, "followers_count") or 0),
        profile_url=profile_url(str(profile.handle)),
    )


def check_text(text: str) -> None:
    """Refuse text Bluesky would refuse, before anything is uploaded."""
    count = grapheme_count(text)
    if count > MAX_GRAPHEMES:
        raise ContentRejected(
            _("Bluesky posts hold at most %(limit)d characters; this one has %(count)d.")
            % {"limit": MAX_GRAPHEMES, "count": count}
        )
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ContentRejected(_("This text is too long for Bluesky."))


def check_media(media: Sequence[MediaItem]) -> None:
    if len(media) > MAX_IMAGES:
        raise ContentRejected(_("Bluesky posts hold at most %(count)d images.") % {"count": MAX_IMAGES})
    for item in media:
        if item.mime_type not in IMAGE_TYPES:
            raise ContentRejected(
                _("Bluesky does not accept %(type)s here (only JPEG, PNG, WebP and GIF images).")
                % {"type": item.mime_type[:60]}
            )
        if len(item.data) > MAX_IMAGE_BYTES:
            raise ContentRejected(_("Bluesky accepts images of at most 1 MB."))
        if grapheme_count(item.alt_text) > MAX_ALT_TEXT_GRAPHEMES:
            raise ContentRejected(_("This image description is too long for Bluesky."))


class BlueskyConnector(Connector):
    network = NETWORK
    display_name = "Bluesky"
    # An app password or OAuth session of the account itself (the brand's handle), not of a person.
    credentials_belong_to_person: ClassVar[bool] = False
    max_text_length = MAX_GRAPHEMES
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGES,
            Capability.ALT_TEXT,
            Capability.THREADS,
            Capability.QUOTE,
            Capability.REPLY,
            Capability.READ_MENTIONS,
            Capability.READ_REPLIES,
            Capability.READ_QUOTES,
            Capability.DELETE,
            Capability.BLOCK,
            Capability.MUTE,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.REFRESH_TOKENS,
            Capability.RATE_LIMIT_STATE,
            Capability.IDEMPOTENT_PUBLISH,
            Capability.FIND_OWN_POST,
        }
    )

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        credentials = account.credentials
        self.service = str(
            credentials.get("service") or account.settings.get("service") or DEFAULT_SERVICE
        ).rstrip("/")
        self.did = str(credentials.get("did") or account.external_id or "")
        self._client: Client | None = None

    # -- plumbing

    def close(self) -> None:
        """Release the HTTP connections (also done when the connector is garbage collected)."""
        if self._client is not None:
            self._client.request.close()
            self._client = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def client(self) -> Client:
        if self._client is None:
            credentials = self.account.credentials
            if is_oauth(credentials):
                access = str(credentials.get("access_token") or "")
                if not access or not self.did:
                    raise AuthenticationFailed(_("This Bluesky channel has no session; reconnect it."))
                key = oauth.DPoPKey.from_jwk(str(credentials.get("dpop_key") or "{}"))
                self._client = _new_client(self.service, dpop=oauth.DPoPTransport(key, access))
                return self._client
            access = str(credentials.get("access_jwt") or "")
            if not access or not self.did:
                raise AuthenticationFailed(_("This Bluesky channel has no session; reconnect it."))
            self._client = _new_client(self.service, access)
        return self._client

    def _spend(self, cost: int) -> None:
        """Take a write's points from the account's hourly and daily budgets first."""
        ratelimit.spend(NETWORK, self.did, WRITE_HOURLY, cost)
        ratelimit.spend(NETWORK, self.did, WRITE_DAILY, cost)

    def _write(self, cost: int, fn: Callable[[], T]) -> T:
        self._spend(cost)
        try:
            return _call(fn)
        except RateLimited as exc:
            # The network knows better than our count: no worker writes before it says so.
            ratelimit.hold_off(NETWORK, self.did, WRITE_HOURLY, exc.retry_after)
            raise

    def _own_uri(self, remote_id: str) -> AtUri:
        uri = parse_at_uri(remote_id)
        if uri is None:
            raise RemoteNotFound(_("This is not a Bluesky post: %(id)s") % {"id": remote_id[:80]})
        if uri.repo != self.did:
            raise ContentRejected(_("Only the account's own posts can be deleted on Bluesky."))
        return uri

    def _actor_did(self, actor: str) -> str:
        """A DID for a DID or a handle ("@ana.bsky.social" works too)."""
        actor = actor.strip().lstrip("@")
        if actor.startswith("did:"):
            return actor
        if not actor or "." not in actor:
            raise RemoteNotFound(_("This is not a Bluesky account: %(actor)s") % {"actor": actor[:80]})
        response = _call(
            lambda: self.client().com.atproto.identity.resolve_handle(
                models.ComAtprotoIdentityResolveHandle.Params(handle=actor)
            )
        )
        return str(response.did)

    def _own_record(self, collection: str, rkey: str) -> Any | None:
        """A record of the account's own repository (read from its PDS: no indexing lag)."""
        try:
            return _call(
                lambda: self.client().com.atproto.repo.get_record(
                    models.ComAtprotoRepoGetRecord.Params(repo=self.did, collection=collection, rkey=rkey)
                )
            )
        except RemoteNotFound:
            return None

    def _published(self, uri: str, created_at: datetime | None = None) -> PublishedPost:
        parsed = parse_at_uri(uri)
        assert parsed is not None
        return PublishedPost(
            remote_id=uri,
            url=post_url(parsed, str(self.account.handle or "")),
            created_at=created_at or timezone.now(),
        )

    def _posts(self, uris: Sequence[str]) -> Iterator[Any]:
        """Post views from the AppView, 25 at a time (unknown or deleted posts are left out)."""
        valid = [uri for uri in uris if parse_at_uri(uri) is not None]
        for start in range(0, len(valid), GET_POSTS_BATCH):
            batch = valid[start : start + GET_POSTS_BATCH]
            response = _call(
                partial(self.client().app.bsky.feed.get_posts, models.AppBskyFeedGetPosts.Params(uris=batch))
            )
            yield from response.posts

    def _strong_ref(self, remote_id: str) -> tuple[models.ComAtprotoRepoStrongRef.Main, Any]:
        """The (uri, cid) reference to a post, and its record (to find a thread's root)."""
        uri = parse_at_uri(remote_id)
        if uri is None:
            raise RemoteNotFound(_("This is not a Bluesky post: %(id)s") % {"id": remote_id[:80]})
        if uri.repo == self.did:
            own = self._own_record(uri.collection, uri.rkey)
            if own is None:
                raise RemoteNotFound(_("The post %(id)s no longer exists on Bluesky.") % {"id": remote_id})
            return models.ComAtprotoRepoStrongRef.Main(uri=str(own.uri), cid=str(own.cid)), own.value
        for view in self._posts([remote_id]):
            return models.ComAtprotoRepoStrongRef.Main(uri=str(view.uri), cid=str(view.cid)), view.record
        raise RemoteNotFound(_("The post %(id)s is not on Bluesky (or not visible).") % {"id": remote_id})

    # -- account

    def verify_account(self) -> AccountInfo:
        session = _call(lambda: self.client().com.atproto.server.get_session())
        display_name = ""
        with contextlib.suppress(RemoteNotFound):  # a new account the AppView has not indexed yet
            display_name = str(self._profile(str(session.did)).display_name or "")
        return AccountInfo(
            external_id=str(session.did), handle=str(session.handle), display_name=display_name
        )

    def _profile(self, actor: str) -> Any:
        return _call(
            lambda: self.client().app.bsky.actor.get_profile(
                models.AppBskyActorGetProfile.Params(actor=actor)
            )
        )

    def refresh_credentials(self) -> Mapping[str, str]:
        """A new session from the refresh token; the old refresh token stops working."""
        if is_oauth(self.account.credentials):
            return self._refresh_oauth()
        refresh = str(self.account.credentials.get("refresh_jwt") or "")
        if not refresh:
            raise AuthenticationFailed(_("This Bluesky channel has no session; reconnect it."))
        refresher = _new_client(self.service, refresh)
        try:
            session = _call(lambda: refresher.com.atproto.server.refresh_session())
        finally:
            refresher.request.close()
        credentials = _credentials_from_session(session, self.service)
        self.close()
        self.account = ChannelAccount(
            handle=str(session.handle),
            external_id=credentials["did"],
            credentials=credentials,
            settings=self.account.settings,
        )
        self.service = credentials["service"]
        self.did = credentials["did"]
        expiry = jwt_expiry(credentials["access_jwt"])
        return {**credentials, "expires_at": expiry.isoformat()} if expiry else credentials

    def _refresh_oauth(self) -> Mapping[str, str]:
        """The refresh-token grant at the authorization server, proved with the session's DPoP key."""
        old = self.account.credentials
        refresh = str(old.get("refresh_token") or "")
        endpoint = str(old.get("token_endpoint") or "")
        if not refresh or not endpoint:
            raise AuthenticationFailed(_("This Bluesky channel has no session; reconnect it."))
        key = oauth.DPoPKey.from_jwk(str(old.get("dpop_key") or "{}"))
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": str(old.get("client_id", "")),
        }
        with oauth.http_client() as http:
            response = oauth.dpop_post(http, key, endpoint, form, oauth.NonceBook())
        if response.status_code != 200:
            raise oauth.oauth_error(response)
        credentials = _oauth_credentials(
            response.json(), key, endpoint, str(old.get("client_id", "")), self.service
        )
        if credentials["did"] != self.did:
            raise AuthenticationFailed(_("Bluesky's sign-in server gave a session for another account."))
        if not credentials["refresh_token"]:
            credentials["refresh_token"] = refresh
        self.close()
        self.account = ChannelAccount(
            handle=self.account.handle,
            external_id=self.did,
            credentials=credentials,
            settings=self.account.settings,
        )
        return credentials

    def rate_limit_state(self) -> RateLimitState:
        """The hourly write budget, the one a busy account runs out of first."""
        found = ratelimit.state(NETWORK, self.did, WRITE_HOURLY) if self.did else None
        if found is not None:
            return found
        budget = ratelimit.budget_for(NETWORK, WRITE_HOURLY)
        assert budget is not None
        return RateLimitState(
            limit=budget.limit,
            remaining=budget.limit,
            resets_at=timezone.now() + timedelta(seconds=budget.window_seconds),
        )

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        check_text(post.text)
        check_media(post.media)
        if not post.text.strip() and not post.media:
            raise ContentRejected(_("A Bluesky post needs text or an image."))
        client = self.client()
        # Idempotency: the record key comes from the idempotency key, so the post either
        # exists under it already (a retry) or is created there.
        rkey = deterministic_tid(self.did, post.idempotency_key) if post.idempotency_key else None
        if rkey is not None and (found := self._own_record(POST_COLLECTION, rkey)) is not None:
            return self._published(str(found.uri), parse_datetime(_get(found.value, "created_at")))

        facets = _call(lambda: client.detect_facets(post.text)) or None
        reply = self._reply_ref(post.reply_to) if post.reply_to else None
        embed = self._embed(post)
        created_at = now_iso()
        record = models.AppBskyFeedPost.Record(
            text=post.text, created_at=created_at, facets=facets, reply=reply, embed=embed
        )
        data = models.ComAtprotoRepoCreateRecord.Data(
            repo=self.did, collection=POST_COLLECTION, record=record, rkey=rkey
        )
        try:
            created = self._write(COST_CREATE, lambda: client.com.atproto.repo.create_record(data))
        except ConnectorError:
            # Creating over an existing key fails (the PDS answers 500); if the post is there,
            # a concurrent or earlier attempt made it, and that is the answer.
            if rkey is not None and (found := self._own_record(POST_COLLECTION, rkey)) is not None:
                return self._published(str(found.uri), parse_datetime(_get(found.value, "created_at")))
            raise
        return self._published(str(created.uri), parse_datetime(created_at))

    def _reply_ref(self, reply_to: str) -> models.AppBskyFeedPost.ReplyRef:
        parent, record = self._strong_ref(reply_to)
        parent_reply = _get(record, "reply")
        root = _get(parent_reply, "root") if parent_reply is not None else None
        if root is None:
            root_ref = parent
        else:
            root_ref = models.ComAtprotoRepoStrongRef.Main(
                uri=str(_get(root, "uri")), cid=str(_get(root, "cid"))
            )
        return models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent)

    def _embed(
        self, post: OutgoingPost
    ) -> (
        models.AppBskyEmbedImages.Main
        | models.AppBskyEmbedRecord.Main
        | models.AppBskyEmbedRecordWithMedia.Main
        | None
    ):
        images = self._upload_images(post.media) if post.media else None
        quoted = (
            models.AppBskyEmbedRecord.Main(record=self._strong_ref(post.quote_of)[0])
            if post.quote_of
            else None
        )
        if images is not None and quoted is not None:
            return models.AppBskyEmbedRecordWithMedia.Main(record=quoted, media=images)
        return images or quoted

    def _upload_images(self, media: Sequence[MediaItem]) -> models.AppBskyEmbedImages.Main:
        client = self.client()
        images = []
        for item in media:
            uploaded = _call(
                partial(
                    client.com.atproto.repo.upload_blob, item.data, headers={"Content-Type": item.mime_type}
                )
            )
            images.append(models.AppBskyEmbedImages.Image(alt=item.alt_text, image=uploaded.blob))
        return models.AppBskyEmbedImages.Main(images=images)

    def find_own_post(
        self, idempotency_key: str, post: OutgoingPost | None = None, since: datetime | None = None
    ) -> PublishedPost | None:
        found = self._own_record(POST_COLLECTION, deterministic_tid(self.did, idempotency_key))
        if found is None:
            return None
        return self._published(str(found.uri), parse_datetime(_get(found.value, "created_at")))

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        after = inbound.parse_cursor(cursor) if cursor is not None else None
        listed = self._walk_notifications(after, limit)
        if after is None:
            picked, mark = inbound.newest_wanted(listed, limit)
        else:
            picked, mark = inbound.select_after(listed, after, limit)
        return InboundPage(items=[self._item(entry.payload) for entry in picked], cursor=mark.encode())

    def _walk_notifications(self, after: inbound.Mark | None, limit: int) -> list[inbound.Listed]:
        """Notifications from the newest down to `after` (one page when there is no mark)."""
        client = self.client()
        by_uri: dict[str, Any] = {}
        page_cursor: str | None = None
        for _page in range(MAX_NOTIFICATION_PAGES):
            params = models.AppBskyNotificationListNotifications.Params(
                limit=100 if after is not None else min(max(limit * 2, 10), 100), cursor=page_cursor
            )
            response = _call(partial(client.app.bsky.notification.list_notifications, params))
            reached_mark = after is None
            for notification in response.notifications:
                mark = inbound.mark_of(str(notification.indexed_at), str(notification.uri))
                if after is not None and mark.at < after.at:
                    reached_mark = True
                    continue
                known = by_uri.get(str(notification.uri))
                if known is None or _KIND_PRIORITY.get(notification.reason, -1) > _KIND_PRIORITY.get(
                    known.reason, -1
                ):
                    by_uri[str(notification.uri)] = notification
            page_cursor = response.cursor
            if reached_mark or not page_cursor or not response.notifications:
                break
        return [
            inbound.Listed(
                mark=inbound.mark_of(str(n.indexed_at), str(n.uri)),
                wanted=n.reason in INBOUND_KINDS and _get(n.record, "text") is not None,
                payload=n,
            )
            for n in by_uri.values()
        ]

    def _item(self, notification: Any) -> InboundItem:
        record = notification.record
        uri = str(notification.uri)
        parsed = parse_at_uri(uri)
        reply = _get(record, "reply")
        parent = _get(_get(reply, "parent"), "uri") if reply is not None else None
        root = _get(_get(reply, "root"), "uri") if reply is not None else None
        langs = _get(record, "langs") or []
        author = _author(notification.author)
        return InboundItem(
            remote_id=uri,
            kind=INBOUND_KINDS[notification.reason],
            author=author,
            text=str(_get(record, "text") or ""),
            created_at=parse_datetime(_get(record, "created_at"))
            or parse_datetime(str(notification.indexed_at))
            or timezone.now(),
            url=post_url(parsed, author.handle) if parsed else "",
            in_reply_to=str(parent) if parent else None,
            # The thread's root post groups a conversation; a mention or quote starts its own.
            conversation_key=str(root or uri),
            language=str(langs[0]) if langs else None,
            raw={
                "uri": uri,
                "cid": str(notification.cid),
                "reason": notification.reason,
                "reason_subject": notification.reason_subject,
                "indexed_at": str(notification.indexed_at),
                "record": _dump(record),
            },
        )

    # -- moderation

    def delete(self, remote_id: str) -> None:
        uri = self._own_uri(remote_id)
        client = self.client()
        self._write(
            COST_DELETE,
            lambda: client.com.atproto.repo.delete_record(
                models.ComAtprotoRepoDeleteRecord.Data(
                    repo=self.did, collection=uri.collection, rkey=uri.rkey
                )
            ),
        )

    def block(self, author_id: str) -> None:
        """A block is a public record in the account's repository, one per blocked account."""
        subject = self._actor_did(author_id)
        rkey = deterministic_tid(self.did, "block", subject)
        if self._own_record(BLOCK_COLLECTION, rkey) is not None:
            return  # blocked already
        record = models.AppBskyGraphBlock.Record(subject=subject, created_at=now_iso())
        client = self.client()
        self._write(
            COST_CREATE,
            lambda: client.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(
                    repo=self.did, collection=BLOCK_COLLECTION, record=record, rkey=rkey
                )
            ),
        )

    def mute(self, author_id: str) -> None:
        """A mute is private, kept by the AppView (not a repository write); muting twice is fine."""
        subject = self._actor_did(author_id)
        _call(
            lambda: self.client().app.bsky.graph.mute_actor(models.AppBskyGraphMuteActor.Data(actor=subject))
        )

    # -- metrics

    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        rows = {
            str(view.uri): PostMetrics(
                remote_id=str(view.uri),
                likes=int(view.like_count or 0),
                reposts=int(view.repost_count or 0),
                replies=int(view.reply_count or 0),
                quotes=int(view.quote_count or 0),
            )
            for view in self._posts(list(remote_ids))
        }
        # A post the account just published may not be indexed by the AppView yet: if its
        # repository has it, nobody has seen it, let alone liked it.
        for remote_id in remote_ids:
            uri = parse_at_uri(remote_id)
            mine = remote_id not in rows and uri is not None and uri.repo == self.did
            if mine and uri is not None and self._own_record(uri.collection, uri.rkey) is not None:
                rows[remote_id] = PostMetrics(remote_id=remote_id, likes=0, reposts=0, replies=0)
        return [rows[remote_id] for remote_id in dict.fromkeys(remote_ids) if remote_id in rows]

    def account_metrics(self) -> AccountMetrics:
        profile = self._profile(self.did or str(self.account.handle))
        return AccountMetrics(
            followers=int(profile.followers_count or 0),
            following=int(profile.follows_count or 0),
            posts=int(profile.posts_count or 0),
        )

    # -- connecting

    @classmethod
    def connect_with_password(cls, handle: str, password: str, base_url: str = "") -> ConnectedAccount:
        """Sign in with an app password; only the session it yields is kept, never the password."""
        service = (base_url or DEFAULT_SERVICE).rstrip("/")
        identifier = handle.strip().lstrip("@")
        signer = _new_client(service)
        try:
            session = _call(
                lambda: signer.com.atproto.server.create_session(
                    models.ComAtprotoServerCreateSession.Data(identifier=identifier, password=password)
                )
            )
        finally:
            signer.request.close()
        if jwt_claims(str(session.access_jwt)).get("scope") == "com.atproto.access":
            # The account's main password: it could change the password or delete the
            # account, far more than Tertulia needs or should hold.
            raise AuthenticationFailed(
                _(
                    "Use an app password (Bluesky settings → Privacy and security → App passwords), "
                    "not the account's password."
                )
            )
        credentials = _credentials_from_session(session, service)
        connector = cls(
            ChannelAccount(
                handle=str(session.handle),
                external_id=credentials["did"],
                credentials=credentials,
                settings={"service": credentials["service"]},
            )
        )
        try:
            info = connector.verify_account()
        finally:
            connector.close()
        return ConnectedAccount(
            info=info, credentials=credentials, expires_at=jwt_expiry(credentials["access_jwt"])
        )

    @classmethod
    def builtin_oauth_client(cls, base_url: str) -> OAuthClient:
        """atproto OAuth needs no registration: the client id is our metadata document's URL."""
        return OAuthClient(client_id="", base_url=base_url)

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        """Push the authorization request (PAR, PKCE S256, DPoP) and return where to send the person."""
        found = oauth.discover(client.base_url)
        key = oauth.DPoPKey.derive(code_verifier)
        client_id = oauth.client_id_for(redirect_uri, client.client_id)
        form = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": oauth.SCOPE,
            "state": state,
            "code_challenge": oauth.pkce_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        if found.login_hint:
            form["login_hint"] = found.login_hint
        with oauth.http_client() as http:
            response = oauth.dpop_post(http, key, found.server.par_endpoint, form, oauth.NonceBook())
        if response.status_code not in (200, 201):
            raise oauth.oauth_error(response)
        request_uri = str(response.json().get("request_uri") or "")
        if not request_uri:
            raise ConnectorError(_("Bluesky's sign-in server did not accept the request."))
        query = urlencode({"client_id": client_id, "request_uri": request_uri})
        return f"{found.server.authorization_endpoint}?{query}"

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        """Exchange the code (PKCE, the PAR's DPoP key); check whose account it is and where it lives.

        atproto OAuth requires `iss` on the callback (RFC 9207): it must name the server the request
        was pushed to, checked before the code is spent, so a code injected from another server
        (a mix-up attack) is never exchanged.
        """
        found = oauth.discover(client.base_url)
        if issuer.rstrip("/") != found.server.issuer:
            raise AuthenticationFailed(
                _("The sign-in came back from another server than the one it started on. Please start again.")
            )
        key = oauth.DPoPKey.derive(code_verifier)
        client_id = oauth.client_id_for(redirect_uri, client.client_id)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": client_id,
        }
        with oauth.http_client() as http:
            response = oauth.dpop_post(http, key, found.server.token_endpoint, form, oauth.NonceBook())
            if response.status_code != 200:
                raise oauth.oauth_error(response)
            tokens = response.json()
            did = str(tokens.get("sub") or "")
            if found.did and did != found.did:
                raise AuthenticationFailed(_("Bluesky signed in another account than the one asked for."))
            # The account's own PDS (from its DID document) must trust this authorization
            # server; otherwise any server could hand out sessions for any DID.
            service = oauth.pds_of(http, did) if did.startswith("did:") else ""
            if service and oauth.issuer_of_resource(http, service) != found.server.issuer:
                raise AuthenticationFailed(_("This Bluesky account is not managed by that sign-in server."))
        credentials = _oauth_credentials(tokens, key, found.server.token_endpoint, client_id, service)
        connector = cls(
            ChannelAccount(
                handle=did,
                external_id=did,
                credentials=credentials,
                settings={"service": credentials["service"]},
            )
        )
        try:
            info = connector.verify_account()
        finally:
            connector.close()
        if info.external_id != did:
            raise AuthenticationFailed(_("Bluesky's sign-in server gave a session for another account."))
        expires = credentials.get("expires_at")
        return ConnectedAccount(
            info=info,
            credentials=credentials,
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )
