"""The sandbox network's server side: plain functions over its own tables.

The connector is its API client; the simulator is its crowd. Every write is
atomic. Errors are the connector interface's typed errors, so the connector
passes them through unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AccountMetrics,
    ConnectorError,
    ContentRejected,
    PostMetrics,
    RemoteNotFound,
)
from tertulia.connectors.sandbox import inbound
from tertulia.connectors.sandbox.handles import mentioned_handles, normalize_handle
from tertulia.connectors.sandbox.models import (
    InboundEventKind,
    PostKind,
    SandboxAccount,
    SandboxBlock,
    SandboxFollow,
    SandboxLike,
    SandboxMedia,
    SandboxMention,
    SandboxMessage,
    SandboxMute,
    SandboxPost,
    SandboxRepost,
)
from tertulia.connectors.sandbox.validation import (
    MAX_MESSAGE_LENGTH,
    MAX_POST_LENGTH,
    MediaSpec,
    check_text,
)
from tertulia.core.ids import parse_id

inbound_for = inbound.inbound_for


class NotAllowed(ConnectorError):
    """The account may not do this to that object (e.g. delete someone else's post)."""


# ---------------------------------------------------------------- accounts


def get_account(handle: str) -> SandboxAccount:
    try:
        return SandboxAccount.objects.get(handle=normalize_handle(handle))
    except SandboxAccount.DoesNotExist:
        raise RemoteNotFound(
            _("There is no sandbox account @%(handle)s.") % {"handle": handle[:60]}
        ) from None


def resolve_account(ref: str) -> SandboxAccount:
    """An account by remote id ("42") or by handle ("@ana")."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        pk = parse_id(ref)
        account = SandboxAccount.objects.filter(pk=pk).first() if pk is not None else None
        if account is None:
            raise RemoteNotFound(_("There is no sandbox account with id %(id)s.") % {"id": ref[:30]})
        return account
    return get_account(ref)


def create_account(
    handle: str,
    display_name: str = "",
    *,
    bio: str = "",
    language: str = "",
    is_brand: bool = False,
) -> SandboxAccount:
    """The account with this handle, created if missing (existing ones are left as they are)."""
    handle = normalize_handle(handle)
    check_text(display_name, 100)
    account, _created = SandboxAccount.objects.get_or_create(
        handle=handle,
        defaults={
            "display_name": display_name or handle,
            "bio": bio,
            "language": language,
            "is_brand": is_brand,
        },
    )
    return account


@transaction.atomic
def follow(follower: SandboxAccount, followee: SandboxAccount) -> bool:
    if follower.pk == followee.pk:
        raise ContentRejected(_("An account cannot follow itself."))
    if SandboxBlock.objects.filter(blocker=followee, blocked=follower).exists():
        raise NotAllowed(_("@%(handle)s has blocked this account.") % {"handle": followee.handle})
    _link, created = SandboxFollow.objects.get_or_create(follower=follower, followee=followee)
    if created:
        SandboxAccount.objects.filter(pk=followee.pk).update(followers_count=F("followers_count") + 1)
    return created


@transaction.atomic
def unfollow(follower: SandboxAccount, followee: SandboxAccount) -> bool:
    deleted, _detail = SandboxFollow.objects.filter(follower=follower, followee=followee).delete()
    if deleted:
        SandboxAccount.objects.filter(pk=followee.pk).update(followers_count=F("followers_count") - 1)
    return bool(deleted)


def recount_followers(account_ids: Iterable[int] | None = None) -> None:
    """Set followers_count from the follow rows (after bulk loads that bypass `follow`)."""
    counts = SandboxFollow.objects.values("followee_id").annotate(n=Count("id"))
    accounts = SandboxAccount.objects.all()
    if account_ids is not None:
        ids = list(account_ids)
        counts = counts.filter(followee_id__in=ids)
        accounts = accounts.filter(pk__in=ids)
    found = {row["followee_id"]: row["n"] for row in counts}
    changed = [a for a in accounts.only("pk", "followers_count") if a.followers_count != found.get(a.pk, 0)]
    for account in changed:
        account.followers_count = found.get(account.pk, 0)
    SandboxAccount.objects.bulk_update(changed, ["followers_count"], batch_size=500)


# ---------------------------------------------------------------- posts


def get_post(ref: str | int) -> SandboxPost:
    """A live (not deleted) post by remote id."""
    post = None
    pk = parse_id(ref)
    if pk is not None:
        post = SandboxPost.objects.select_related("author").filter(pk=pk, deleted_at__isnull=True).first()
    if post is None:
        raise RemoteNotFound(_("Sandbox post %(id)s does not exist or was deleted.") % {"id": str(ref)[:40]})
    return post


def post(
    author: SandboxAccount,
    text: str,
    *,
    in_reply_to: SandboxPost | None = None,
    quote_of: SandboxPost | None = None,
    media: Sequence[MediaSpec] = (),
    language: str = "",
    idempotency_key: str | None = None,
    meta: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> SandboxPost:
    """Publish a post, reply or quote. With an idempotency key the author already used, return that post."""
    check_text(text, MAX_POST_LENGTH)
    if not text.strip() and not media:
        raise ContentRejected(_("A post needs text or at least one image."))
    if in_reply_to is not None and quote_of is not None:
        raise ContentRejected(_("A sandbox post either replies or quotes, not both."))
    for target in (in_reply_to, quote_of):
        if target is not None and target.deleted_at is not None:
            raise RemoteNotFound(_("Sandbox post %(id)s was deleted.") % {"id": target.pk})
    idempotency_key = idempotency_key or None  # "" means no key, as None does
    if not author.keeps_idempotency_keys:
        idempotency_key = None
    if idempotency_key is not None:
        check_text(idempotency_key, 255)
        existing = find_post_by_key(author, idempotency_key)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return _create_post(
                author, text, in_reply_to, quote_of, media, language, idempotency_key, meta, now
            )
    except IntegrityError:
        # Another process published with the same key between our check and insert.
        existing = find_post_by_key(author, idempotency_key) if idempotency_key is not None else None
        if existing is None:
            raise
        return existing


def _create_post(
    author: SandboxAccount,
    text: str,
    in_reply_to: SandboxPost | None,
    quote_of: SandboxPost | None,
    media: Sequence[MediaSpec],
    language: str,
    idempotency_key: str | None,
    meta: Mapping[str, Any] | None,
    now: datetime | None,
) -> SandboxPost:
    kind = PostKind.REPLY if in_reply_to else PostKind.QUOTE if quote_of else PostKind.POST
    root = (in_reply_to.root or in_reply_to) if in_reply_to is not None else None
    created = SandboxPost.objects.create(
        author=author,
        kind=kind,
        in_reply_to=in_reply_to,
        quote_of=quote_of,
        root=root,
        text=text,
        language=language[:8],
        idempotency_key=idempotency_key or "",
        meta=dict(meta or {}),
        created_at=now or timezone.now(),
    )
    SandboxMedia.objects.bulk_create(
        SandboxMedia(
            post=created,
            position=i,
            mime_type=m.mime_type,
            size_bytes=m.size_bytes,
            sha256=m.sha256,
            alt_text=m.alt_text,
        )
        for i, m in enumerate(media)
    )
    handles = mentioned_handles(text)
    mentioned = (
        list(SandboxAccount.objects.filter(handle__in=handles).values_list("pk", flat=True))
        if handles
        else []
    )
    SandboxMention.objects.bulk_create(SandboxMention(post=created, account_id=pk) for pk in mentioned)
    inbound.emit(
        inbound.recipients_for_post(created, mentioned),
        author_id=author.pk,
        created_at=created.created_at,
        post=created,
    )
    return created


def reply(author: SandboxAccount, parent: SandboxPost, text: str, **options: Any) -> SandboxPost:
    return post(author, text, in_reply_to=parent, **options)


def quote(author: SandboxAccount, quoted: SandboxPost, text: str, **options: Any) -> SandboxPost:
    return post(author, text, quote_of=quoted, **options)


def find_post_by_key(author: SandboxAccount, idempotency_key: str) -> SandboxPost | None:
    """The post published with this key, even if deleted since: a key stays used, as a delivery happened."""
    if not idempotency_key:
        return None
    return SandboxPost.objects.filter(author=author, idempotency_key=idempotency_key).first()


def find_post_by_content(
    author: SandboxAccount, text: str, since: datetime, in_reply_to: str | None = None
) -> SandboxPost | None:
    """The author's newest post with exactly this text since `since` (how one searches a network
    that keeps no idempotency key: by what was posted, in the author's own timeline)."""
    found = SandboxPost.objects.filter(author=author, text=text, created_at__gte=since)
    if in_reply_to:
        found = found.filter(in_reply_to_id=parse_id(in_reply_to) or 0)
    return found.order_by("-id").first()


def recent_posts(author: SandboxAccount, limit: int = 10) -> QuerySet[SandboxPost]:
    """The author's newest live top-level posts (what a crowd replies to)."""
    return SandboxPost.objects.filter(author=author, kind=PostKind.POST, deleted_at__isnull=True).order_by(
        "-id"
    )[:limit]


# ---------------------------------------------------------------- direct messages


def get_message(ref: str) -> SandboxMessage:
    message = None
    number = ref.strip().removeprefix("dm-")
    pk = parse_id(number)
    if pk is not None:
        message = SandboxMessage.objects.filter(pk=pk, deleted_at__isnull=True).first()
    if message is None:
        raise RemoteNotFound(_("Sandbox message %(id)s does not exist or was deleted.") % {"id": ref[:40]})
    return message


def send_dm(
    sender: SandboxAccount,
    recipient: SandboxAccount,
    text: str,
    *,
    idempotency_key: str | None = None,
    meta: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> SandboxMessage:
    check_text(text, MAX_MESSAGE_LENGTH)
    if not text.strip():
        raise ContentRejected(_("A direct message needs text."))
    if sender.pk == recipient.pk:
        raise ContentRejected(_("An account cannot send a direct message to itself."))
    if SandboxBlock.objects.filter(blocker=recipient, blocked=sender).exists():
        raise NotAllowed(
            _("@%(handle)s does not accept messages from this account.") % {"handle": recipient.handle}
        )
    idempotency_key = idempotency_key or None
    if idempotency_key is not None:
        check_text(idempotency_key, 255)
        existing = SandboxMessage.objects.filter(sender=sender, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            message = SandboxMessage.objects.create(
                sender=sender,
                recipient=recipient,
                text=text,
                idempotency_key=idempotency_key or "",
                meta=dict(meta or {}),
                created_at=now or timezone.now(),
            )
            inbound.emit(
                {recipient.pk: InboundEventKind.DIRECT_MESSAGE.value},
                author_id=sender.pk,
                created_at=message.created_at,
                message=message,
            )
            return message
    except IntegrityError:
        found = SandboxMessage.objects.filter(sender=sender, idempotency_key=idempotency_key).first()
        if idempotency_key is None or found is None:
            raise
        return found


def dm_conversation_key(a_id: int, b_id: int) -> str:
    low, high = sorted((a_id, b_id))
    return f"dm:{low}:{high}"


# ---------------------------------------------------------------- engagement


def like(account: SandboxAccount, target: SandboxPost) -> bool:
    _like, created = SandboxLike.objects.get_or_create(account=account, post=target)
    return created


def repost(account: SandboxAccount, target: SandboxPost) -> bool:
    _repost, created = SandboxRepost.objects.get_or_create(account=account, post=target)
    return created


# ---------------------------------------------------------------- moderation


def _owns_conversation(actor: SandboxAccount, target: SandboxPost) -> bool:
    """The author, or the owner of the post it answers or of its thread (a page moderating its comments)."""
    if target.author_id == actor.pk:
        return True
    if target.in_reply_to is not None and target.in_reply_to.author_id == actor.pk:
        return True
    return target.root is not None and target.root.author_id == actor.pk


def _may_hide(actor: SandboxAccount, target: SandboxPost) -> bool:
    if _owns_conversation(actor, target):
        return True
    if target.quote_of is not None and target.quote_of.author_id == actor.pk:
        return True
    return SandboxMention.objects.filter(post=target, account=actor).exists()


@transaction.atomic
def set_hidden(actor: SandboxAccount, target: SandboxPost, hidden: bool) -> None:
    """Hide (or show again) a post addressed to `actor`: it stays on the network, flagged."""
    if not _may_hide(actor, target):
        raise NotAllowed(_("@%(handle)s can only hide posts addressed to it.") % {"handle": actor.handle})
    SandboxPost.objects.filter(pk=target.pk).update(is_hidden=hidden)
    target.is_hidden = hidden


def hide(actor: SandboxAccount, target: SandboxPost) -> None:
    set_hidden(actor, target, True)


def unhide(actor: SandboxAccount, target: SandboxPost) -> None:
    set_hidden(actor, target, False)


@transaction.atomic
def delete(actor: SandboxAccount, target: SandboxPost, now: datetime | None = None) -> None:
    """Soft-delete: the row stays (idempotency keys remain used), every read skips it."""
    if not _owns_conversation(actor, target):
        raise NotAllowed(
            _("@%(handle)s can only delete its own posts and replies to them.") % {"handle": actor.handle}
        )
    target.deleted_at = now or timezone.now()
    SandboxPost.objects.filter(pk=target.pk).update(deleted_at=target.deleted_at)
    target.events.all().delete()


@transaction.atomic
def delete_message(actor: SandboxAccount, message: SandboxMessage, now: datetime | None = None) -> None:
    if message.sender_id != actor.pk:
        raise NotAllowed(_("Only the sender can delete a direct message."))
    message.deleted_at = now or timezone.now()
    SandboxMessage.objects.filter(pk=message.pk).update(deleted_at=message.deleted_at)
    message.events.all().delete()


@transaction.atomic
def block(actor: SandboxAccount, target: SandboxAccount) -> bool:
    """From now on nothing `target` writes reaches `actor`; follows both ways are removed."""
    if actor.pk == target.pk:
        raise ContentRejected(_("An account cannot block itself."))
    _row, created = SandboxBlock.objects.get_or_create(blocker=actor, blocked=target)
    unfollow(target, actor)
    unfollow(actor, target)
    return created


@transaction.atomic
def unblock(actor: SandboxAccount, target: SandboxAccount) -> bool:
    deleted, _detail = SandboxBlock.objects.filter(blocker=actor, blocked=target).delete()
    return bool(deleted)


@transaction.atomic
def mute(actor: SandboxAccount, target: SandboxAccount) -> bool:
    """From now on nothing `target` writes reaches `actor`'s inbound; they may still follow each other."""
    if actor.pk == target.pk:
        raise ContentRejected(_("An account cannot mute itself."))
    _row, created = SandboxMute.objects.get_or_create(muter=actor, muted=target)
    return created


@transaction.atomic
def unmute(actor: SandboxAccount, target: SandboxAccount) -> bool:
    deleted, _detail = SandboxMute.objects.filter(muter=actor, muted=target).delete()
    return bool(deleted)


# ---------------------------------------------------------------- metrics


def _counts(queryset: QuerySet[Any], field: str) -> Counter[int]:
    return Counter({row[field]: row["n"] for row in queryset.values(field).annotate(n=Count("id"))})


def post_metrics(post_ids: Iterable[int]) -> list[PostMetrics]:
    """Counts for the live posts among `post_ids`, in order; deleted and unknown ids are left out."""
    ids = list(dict.fromkeys(post_ids))
    live = set(SandboxPost.objects.filter(pk__in=ids, deleted_at__isnull=True).values_list("pk", flat=True))
    likes = _counts(SandboxLike.objects.filter(post_id__in=live), "post_id")
    reposts = _counts(SandboxRepost.objects.filter(post_id__in=live), "post_id")
    children = SandboxPost.objects.filter(deleted_at__isnull=True)
    replies = _counts(children.filter(in_reply_to_id__in=live), "in_reply_to_id")
    quotes = _counts(children.filter(quote_of_id__in=live), "quote_of_id")
    return [
        PostMetrics(
            remote_id=str(pk), likes=likes[pk], reposts=reposts[pk], replies=replies[pk], quotes=quotes[pk]
        )
        for pk in ids
        if pk in live
    ]


def account_metrics(account: SandboxAccount) -> AccountMetrics:
    account.refresh_from_db(fields=["followers_count"])
    return AccountMetrics(
        followers=account.followers_count,
        following=SandboxFollow.objects.filter(follower=account).count(),
        posts=SandboxPost.objects.filter(author=account, deleted_at__isnull=True).count(),
    )
