"""The sandbox network behind the connector interface, as Tertulia sees every network.

There are no credentials yet (the vault is a later issue): a channel acts as
the sandbox account named by its handle. Every call spends the account's read
or write budget first, as a real API gateway would, so rate limiting shows up
in the demo, in tests and in benchmarks exactly where it would in production.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AccountInfo,
    AccountMetrics,
    AuthenticationFailed,
    Capability,
    ChannelAccount,
    Connector,
    ConnectorError,
    InboundItem,
    InboundKind,
    InboundPage,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
    RateLimitState,
    RemoteAuthor,
)
from tertulia.connectors.sandbox import limits, network
from tertulia.connectors.sandbox.handles import normalize_handle
from tertulia.connectors.sandbox.models import (
    InboundEventKind,
    RateBucket,
    SandboxAccount,
    SandboxInboundEvent,
    SandboxMessage,
    SandboxPost,
)
from tertulia.connectors.sandbox.validation import MAX_POST_LENGTH, check_media
from tertulia.core.ids import parse_id

# A reserved top-level domain: links look real but can never leave the machine.
DEFAULT_BASE_URL = "https://sandbox.tertulia.invalid"

EVENT_KINDS: dict[str, InboundKind] = {
    InboundEventKind.MENTION: InboundKind.MENTION,
    InboundEventKind.REPLY: InboundKind.REPLY,
    InboundEventKind.QUOTE: InboundKind.QUOTE,
    InboundEventKind.DIRECT_MESSAGE: InboundKind.DIRECT_MESSAGE,
}


def base_url() -> str:
    return str(getattr(settings, "TERTULIA_SANDBOX_BASE_URL", DEFAULT_BASE_URL)).rstrip("/")


def profile_url(account: SandboxAccount) -> str:
    return f"{base_url()}/@{account.handle}"


def post_url(post: SandboxPost) -> str:
    return f"{base_url()}/@{post.author.handle}/{post.pk}"


def message_remote_id(message: SandboxMessage) -> str:
    # DMs and posts share no id space, so DMs carry a prefix: remote ids stay unique per network.
    return f"dm-{message.pk}"


def author_of(account: SandboxAccount) -> RemoteAuthor:
    return RemoteAuthor(
        remote_id=str(account.pk),
        handle=account.handle,
        display_name=account.display_name,
        followers_count=account.followers_count,
        profile_url=profile_url(account),
    )


def item_from_event(event: SandboxInboundEvent) -> InboundItem:
    raw: dict[str, Any] = {"event_id": event.pk, "kind": event.kind}
    if event.message is not None:
        message = event.message
        raw["message_id"] = message.pk
        return InboundItem(
            remote_id=message_remote_id(message),
            kind=InboundKind.DIRECT_MESSAGE,
            author=author_of(message.sender),
            text=message.text,
            created_at=message.created_at,
            conversation_key=network.dm_conversation_key(message.sender_id, message.recipient_id),
            raw=raw,
        )
    post = event.post
    assert post is not None  # the table's check constraint: a post or a message
    raw.update(
        post_id=post.pk,
        post_kind=post.kind,
        root_id=post.thread_root_id,
        in_reply_to=post.in_reply_to_id,
        quote_of=post.quote_of_id,
        is_hidden=post.is_hidden,
    )
    return InboundItem(
        remote_id=str(post.pk),
        kind=EVENT_KINDS[event.kind],
        author=author_of(post.author),
        text=post.text,
        created_at=post.created_at,
        url=post_url(post),
        in_reply_to=str(post.in_reply_to_id) if post.in_reply_to_id else None,
        conversation_key=str(post.thread_root_id),
        language=post.language or None,
        raw=raw,
    )


def published(post: SandboxPost) -> PublishedPost:
    return PublishedPost(remote_id=str(post.pk), url=post_url(post), created_at=post.created_at)


class SandboxConnector(Connector):
    network = "sandbox"
    display_name = "Sandbox"
    credentials_belong_to_person: ClassVar[bool] = False  # simulated accounts, in Tertulia's own database
    max_text_length = MAX_POST_LENGTH
    # A local network: reading it costs nothing, and the demo should feel live.
    poll_seconds: ClassVar[float] = 2.0
    # In-process: a database write and the account's configured response delay (at most a second).
    call_seconds: ClassVar[float] = 2.0
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
            Capability.READ_QUOTES,
            Capability.READ_DIRECT_MESSAGES,
            Capability.HIDE,
            Capability.DELETE,
            Capability.BLOCK,
            Capability.MUTE,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.RATE_LIMIT_STATE,
            Capability.IDEMPOTENT_PUBLISH,
            Capability.FIND_OWN_POST,
        }
    )

    def revoke_access(self) -> None:
        """The sandbox keeps no tokens (its accounts live in Tertulia's database): nothing to revoke."""
        return None

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        self._me: SandboxAccount | None = None

    # -- plumbing

    def _account(self) -> SandboxAccount:
        """The sandbox account this channel speaks as; refuse if it is gone or was replaced."""
        if self._me is None:
            try:
                me = SandboxAccount.objects.get(handle=normalize_handle(self.account.handle))
            except (SandboxAccount.DoesNotExist, ConnectorError):
                raise AuthenticationFailed(
                    _("The sandbox account @%(handle)s does not exist; reconnect the channel.")
                    % {"handle": self.account.handle[:60]}
                ) from None
            if self.account.external_id and self.account.external_id != str(me.pk):
                raise AuthenticationFailed(
                    _("The sandbox account @%(handle)s was replaced by another one; reconnect the channel.")
                    % {"handle": me.handle}
                )
            self._me = me
        return self._me

    def _spend(self, bucket: str) -> SandboxAccount:
        me = self._account()
        limits.consume(me, bucket)
        return me

    # -- account

    @classmethod
    def prepare_account(cls, handle: str, display_name: str = "") -> AccountInfo:
        account = network.create_account(handle, display_name, is_brand=True)
        return AccountInfo(
            external_id=str(account.pk), handle=account.handle, display_name=account.display_name
        )

    def verify_account(self) -> AccountInfo:
        me = self._spend(RateBucket.READ)
        return AccountInfo(external_id=str(me.pk), handle=me.handle, display_name=me.display_name)

    def rate_limit_state(self) -> RateLimitState:
        """The write budget: the one publishing and replying run out of first."""
        return limits.state(self._account(), RateBucket.WRITE)

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        me = self._spend(RateBucket.WRITE)
        media = check_media(post.media)
        in_reply_to = network.get_post(post.reply_to) if post.reply_to else None
        quote_of = network.get_post(post.quote_of) if post.quote_of else None
        created = network.post(
            me,
            post.text,
            in_reply_to=in_reply_to,
            quote_of=quote_of,
            media=media,
            idempotency_key=post.idempotency_key,
        )
        if me.response_delay_ms:
            time.sleep(me.response_delay_ms / 1000)
        return published(created)

    def find_own_post(
        self, idempotency_key: str, post: OutgoingPost | None = None, since: datetime | None = None
    ) -> PublishedPost | None:
        me = self._spend(RateBucket.READ)
        if me.keeps_idempotency_keys:
            found = network.find_post_by_key(me, idempotency_key)
        elif post is not None and since is not None:
            found = network.find_post_by_content(me, post.text, since, post.reply_to)
        else:
            found = None
        return published(found) if found is not None else None

    def send_direct_message(
        self, recipient_id: str, text: str, idempotency_key: str | None = None
    ) -> PublishedPost:
        me = self._spend(RateBucket.WRITE)
        recipient = network.resolve_account(recipient_id)
        message = network.send_dm(me, recipient, text, idempotency_key=idempotency_key)
        return PublishedPost(remote_id=message_remote_id(message), url="", created_at=message.created_at)

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        me = self._spend(RateBucket.READ)
        after: int | None = None
        if cursor is not None:
            # "0" is the cursor of an account that has received nothing yet.
            after = 0 if cursor.strip() == "0" else parse_id(cursor)
            if after is None:
                raise ConnectorError(_("This is not a sandbox cursor: %(cursor)s") % {"cursor": cursor[:40]})
        found = network.inbound_for(me, after, limit)
        return InboundPage(
            items=[item_from_event(event) for event in found.events],
            cursor=str(found.cursor) if found.cursor is not None else None,
        )

    # -- moderation

    def hide(self, remote_id: str) -> None:
        me = self._spend(RateBucket.WRITE)
        self._refuse_messages(remote_id, _("hiding direct messages"))
        network.hide(me, network.get_post(remote_id))

    def unhide(self, remote_id: str) -> None:
        me = self._spend(RateBucket.WRITE)
        self._refuse_messages(remote_id, _("unhiding direct messages"))
        network.unhide(me, network.get_post(remote_id))

    def delete(self, remote_id: str) -> None:
        me = self._spend(RateBucket.WRITE)
        if remote_id.startswith("dm-"):
            network.delete_message(me, network.get_message(remote_id))
        else:
            network.delete(me, network.get_post(remote_id))

    def block(self, author_id: str) -> None:
        me = self._spend(RateBucket.WRITE)
        network.block(me, network.resolve_account(author_id))

    def mute(self, author_id: str) -> None:
        me = self._spend(RateBucket.WRITE)
        network.mute(me, network.resolve_account(author_id))

    def _refuse_messages(self, remote_id: str, what: str) -> None:
        if remote_id.startswith("dm-"):
            raise self._unsupported(what)

    # -- metrics

    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        self._spend(RateBucket.READ)
        return network.post_metrics(pk for pk in map(parse_id, remote_ids) if pk is not None)

    def account_metrics(self) -> AccountMetrics:
        return network.account_metrics(self._spend(RateBucket.READ))
