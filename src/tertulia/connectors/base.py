"""The connector interface.

Every network (the sandbox, Bluesky, Mastodon, X, ...) is a folder under
`tertulia/connectors/` with a `Connector` subclass that declares what it can do
(`capabilities`) and implements those methods. Callers check `supports()`
before calling; a method a connector does not implement raises `NotSupported`.

The types here are plain frozen dataclasses, independent of Django models, so a
connector can be tested without a database and the rest of Tertulia never sees
a network's own payload shapes except in `InboundItem.raw`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy


class Capability(StrEnum):
    PUBLISH_TEXT = "publish_text"
    PUBLISH_IMAGES = "publish_images"
    ALT_TEXT = "alt_text"
    PUBLISH_VIDEO = "publish_video"
    THREADS = "threads"
    QUOTE = "quote"
    REPLY = "reply"
    DIRECT_MESSAGES = "direct_messages"
    READ_MENTIONS = "read_mentions"
    READ_REPLIES = "read_replies"
    READ_QUOTES = "read_quotes"
    READ_COMMENTS = "read_comments"
    READ_DIRECT_MESSAGES = "read_direct_messages"
    HIDE = "hide"
    DELETE = "delete"
    BLOCK = "block"
    MUTE = "mute"
    POST_METRICS = "post_metrics"
    ACCOUNT_METRICS = "account_metrics"
    WEBHOOKS = "webhooks"
    REFRESH_TOKENS = "refresh_tokens"
    RATE_LIMIT_STATE = "rate_limit_state"
    IDEMPOTENT_PUBLISH = "idempotent_publish"
    FIND_OWN_POST = "find_own_post"


class InboundKind(StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    QUOTE = "quote"
    COMMENT = "comment"
    DIRECT_MESSAGE = "direct_message"


# ---------------------------------------------------------------- errors


class ConnectorError(Exception):
    """A network call failed. `retryable` says whether trying again later may succeed."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class NotSupported(ConnectorError):
    """The network (or this connector) cannot do this."""


class RateLimited(ConnectorError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(ConnectorError):
    """The credentials were refused or expired: the channel needs reconnecting."""


class RemoteNotFound(ConnectorError):
    """The post, message or account no longer exists on the network."""


class ContentRejected(ConnectorError):
    """The network refused the content itself (too long, bad media, duplicate...)."""


class TemporaryFailure(ConnectorError):
    retryable = True


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class ChannelAccount:
    """What a connector needs to act as one connected account."""

    handle: str
    external_id: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)  # never in logs or reports
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountInfo:
    """What connecting an account found out about it."""

    external_id: str
    handle: str
    display_name: str


@dataclass(frozen=True)
class MediaItem:
    mime_type: str
    data: bytes
    alt_text: str = ""


@dataclass(frozen=True)
class OutgoingPost:
    text: str
    media: Sequence[MediaItem] = ()
    reply_to: str | None = None  # remote id of the post being answered
    quote_of: str | None = None  # remote id of the post being quoted
    # A key unique to this delivery: networks that accept one dedupe on it, and
    # `find_own_post` looks for it where they do not.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PublishedPost:
    remote_id: str
    url: str
    created_at: datetime


@dataclass(frozen=True)
class RemoteAuthor:
    remote_id: str
    handle: str
    display_name: str = ""
    followers_count: int = 0
    profile_url: str = ""


@dataclass(frozen=True)
class InboundItem:
    """One message addressed to or about the account: mention, reply, quote, comment or DM."""

    remote_id: str
    kind: InboundKind
    author: RemoteAuthor
    text: str
    created_at: datetime
    url: str = ""
    in_reply_to: str | None = None
    # Groups items into one conversation: the DM thread or the root post of a reply chain.
    conversation_key: str = ""
    language: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundPage:
    items: Sequence[InboundItem]
    # Opaque; pass it back to fetch what came after. None when nothing was read yet.
    cursor: str | None


@dataclass(frozen=True)
class PostMetrics:
    remote_id: str
    likes: int
    reposts: int
    replies: int
    quotes: int = 0
    impressions: int | None = None


@dataclass(frozen=True)
class AccountMetrics:
    followers: int
    following: int
    posts: int


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    resets_at: datetime


@dataclass(frozen=True)
class WebhookEvent:
    """One event a network pushed to us, as parsed from a verified webhook request."""

    event_id: str  # the network's id for the event: a replay or a duplicate is stored once
    kind: str  # the network's own event type; unknown kinds are kept and ignored
    account_id: str  # external id of the connected account it concerns ("" if the payload does not say)
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookReply:
    """A response the network expects from us (a CRC or subscription handshake)."""

    status: int
    content_type: str
    body: str


@dataclass(frozen=True)
class OAuthClient:
    """Tertulia's registration with a network (client id and secret), kept in the vault."""

    client_id: str
    client_secret: str = field(default="", repr=False)  # never in logs or reports
    base_url: str = ""  # the network's address, for self-hosted networks (Mastodon) and tests


@dataclass(frozen=True)
class ConnectedAccount:
    """What a completed sign-in flow yields: the account and the credentials to store in the vault.

    A login that administers several accounts (Facebook Pages, LinkedIn organizations) returns
    one of them with the others in `alternatives`; the person then chooses which to connect.
    """

    info: AccountInfo
    credentials: Mapping[str, str] = field(repr=False)  # never in logs or reports
    expires_at: datetime | None = None
    alternatives: Sequence[ConnectedAccount] = ()


# ---------------------------------------------------------------- interface


class Connector:
    """Base class for every network. Subclasses set the class attributes and
    override the methods their `capabilities` declare."""

    network: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Longest text a post may carry, in the network's own unit of counting.
    max_text_length: ClassVar[int] = 0
    # Webhook event kinds the ingestion pipeline uses; others are stored and ignored.
    webhook_kinds: ClassVar[frozenset[str]] = frozenset()
    # How long the network remembers an idempotency key (IDEMPOTENT_PUBLISH); None: for ever. A
    # resend after that could publish twice, so the dispatcher asks a person instead.
    idempotency_key_seconds: ClassVar[float | None] = None
    # The longest one network call can take (the HTTP client's read timeout): the publishing
    # dispatcher keeps a delivery's lease longer than its calls can last.
    call_seconds: ClassVar[float] = 30.0
    # How often the inbox reads a channel, in seconds; 0: the operator's TERTULIA_INBOX_POLL_SECONDS.
    poll_seconds: ClassVar[float] = 0.0
    # True when the channel acts through a token that belongs to the person who connected it (their own
    # login on the network), not to the account itself: it stops working when that person leaves or loses
    # their role there. Backup coverage lists such channels (docs/governance.md#backup-coverage).
    credentials_belong_to_person: ClassVar[bool] = False

    def __init__(self, account: ChannelAccount) -> None:
        self.account = account

    @classmethod
    def supports(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    def _unsupported(self, what: str | Promise) -> NotSupported:
        """`what` is a translatable phrase (gettext_lazy), so the message reads whole in every language."""
        return NotSupported(
            _("%(network)s does not support %(what)s.") % {"network": self.display_name, "what": what}
        )

    # -- account
    def verify_account(self) -> AccountInfo:
        """Check the credentials and return who they belong to."""
        raise self._unsupported(_lazy("account verification"))

    def refresh_credentials(self) -> Mapping[str, str]:
        """A new credential set to replace the old one whole. May hold "expires_at" (ISO 8601)."""
        raise self._unsupported(_lazy("token refresh"))

    def rate_limit_state(self) -> RateLimitState | None:
        return None

    def revoke_access(self) -> None:
        """Ask the network to invalidate the token this channel holds (a compromised account:
        tertulia.guard). Best effort: Tertulia wipes its own copy whatever the network answers."""
        raise self._unsupported(_lazy("revoking access"))

    # -- publishing
    def publish(self, post: OutgoingPost) -> PublishedPost:
        raise self._unsupported(_lazy("publishing"))

    def find_own_post(
        self, idempotency_key: str, post: OutgoingPost | None = None, since: datetime | None = None
    ) -> PublishedPost | None:
        """Find a post this account already published for a delivery (reconciliation before a retry).

        Networks that keep our idempotency key find it by the key; the others can only
        look for the same `post` published since `since` (the attempt's start).
        """
        raise self._unsupported(_lazy("looking up its own posts"))

    def send_direct_message(
        self, recipient_id: str, text: str, idempotency_key: str | None = None
    ) -> PublishedPost:
        raise self._unsupported(_lazy("direct messages"))

    # -- reading
    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        raise self._unsupported(_lazy("reading mentions and messages"))

    # -- moderation
    def hide(self, remote_id: str) -> None:
        raise self._unsupported(_lazy("hiding"))

    def unhide(self, remote_id: str) -> None:
        raise self._unsupported(_lazy("unhiding"))

    def delete(self, remote_id: str) -> None:
        raise self._unsupported(_lazy("deleting"))

    def block(self, author_id: str) -> None:
        raise self._unsupported(_lazy("blocking"))

    def mute(self, author_id: str) -> None:
        raise self._unsupported(_lazy("muting"))

    # -- metrics
    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        raise self._unsupported(_lazy("post metrics"))

    def account_metrics(self) -> AccountMetrics:
        raise self._unsupported(_lazy("account metrics"))

    # -- webhooks (class level: an event arrives before we know its channel)
    @classmethod
    def webhook_challenge(cls, query: Mapping[str, str], secret: str) -> WebhookReply | None:
        """Answer a network's verification request (X's CRC, Meta's hub.challenge), else None."""
        return None

    @classmethod
    def verify_webhook(cls, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """True only if the request is signed by the network (compare in constant time)."""
        return False

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[WebhookEvent]:
        """The events in a verified body. Raise ValueError if it is malformed."""
        raise NotSupported(_("%(network)s does not send webhooks.") % {"network": cls.display_name})

    # -- sign-in flows (class level)
    @classmethod
    def register_app(cls, base_url: str, redirect_uri: str) -> OAuthClient:
        """Register Tertulia as an OAuth client on a server that lets any app register itself
        (Mastodon's `POST /api/v1/apps`), for sign-ins that come back to `redirect_uri`.

        Networks with one central app registration (set by an operator) do not implement it.
        """
        raise NotSupported(
            _("Tertulia cannot register itself on %(network)s; an administrator registers it.")
            % {"network": cls.display_name}
        )

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        """Where to send the person to authorize Tertulia (OAuth 2.0 with PKCE, S256)."""
        raise NotSupported(_("%(network)s has no sign-in flow here.") % {"network": cls.display_name})

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        """Exchange the authorization code for credentials and find out whose account it is.

        `issuer` is the callback's `iss` parameter (RFC 9207), for networks whose servers send it.
        """
        raise NotSupported(_("%(network)s has no sign-in flow here.") % {"network": cls.display_name})

    @classmethod
    def connect_with_password(cls, handle: str, password: str, base_url: str = "") -> ConnectedAccount:
        """Sign in with an app password (Bluesky) or similar; the password itself is never stored."""
        raise NotSupported(_("%(network)s does not take app passwords.") % {"network": cls.display_name})

    # -- connecting (class level: there is no account yet)
    @classmethod
    def prepare_account(cls, handle: str, display_name: str = "") -> AccountInfo:
        """Resolve a handle entered by a person into the account to connect."""
        raise NotSupported(
            _("%(network)s accounts are connected through their sign-in flow.")
            % {"network": cls.display_name}
        )
