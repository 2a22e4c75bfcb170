"""Facebook Pages over the Graph API: page posts, comments, Messenger DMs, metrics.

Shapes follow the Graph API reference for Page Feed (`POST /{page-id}/feed` → `{"id"}`), Page Photos
(`POST /{page-id}/photos` with `source`, `alt_text_custom`, `published` → `{"id", "post_id"}`),
Page published_posts, Object Comments (`GET /{object-id}/comments`, `POST /{object-id}/comments`),
Comment (`POST /{comment-id}` with `is_hidden`), Object Reactions/Insights, the Messenger Send API and
the Page Conversations API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.connectors.base import (
    AccountInfo,
    AccountMetrics,
    Capability,
    ConnectedAccount,
    ContentRejected,
    InboundItem,
    InboundKind,
    MediaItem,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
)
from tertulia.connectors.meta import oauth, parsing
from tertulia.connectors.meta.common import CAPABILITIES, MetaConnector, offer_all

WEB_URL = "https://www.facebook.com"
MAX_POST_LENGTH = 63206  # Facebook's limit for a post's message
MAX_PHOTOS = 10
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,is_hidden"
COUNT_FIELDS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"


class FacebookPageConnector(MetaConnector):
    network = "facebook"
    display_name = "Facebook"
    max_text_length = MAX_POST_LENGTH
    scopes = oauth.FACEBOOK_SCOPES
    messaging_platform = "messenger"
    max_message_length = 2000  # Messenger Send API text limit
    capabilities: ClassVar[frozenset[Capability]] = CAPABILITIES | {
        Capability.PUBLISH_TEXT,
        Capability.ALT_TEXT,
    }
    # Comments on our posts and messages to the Page; reactions, edits and reads are kept, not ingested.
    webhook_kinds: ClassVar[frozenset[str]] = frozenset({"feed.comment", "messaging.message"})
    metric_fields = COUNT_FIELDS
    views_metric = "post_impressions"

    def _page(self) -> str:
        return self.page_id or self.account.external_id or self._require_page()

    # -- account

    def verify_account(self) -> AccountInfo:
        page = self._get(self._page(), {"fields": "id,name,username"})
        return AccountInfo(
            external_id=str(page["id"]),
            handle=str(page.get("username") or page.get("name") or page["id"]),
            display_name=str(page.get("name") or ""),
        )

    def account_metrics(self) -> AccountMetrics:
        page = self._get(self._page(), {"fields": "followers_count,fan_count"})
        followers = page.get("followers_count", page.get("fan_count", 0))
        # Neither "following" nor a post count is a field of a Page.
        return AccountMetrics(followers=int(followers or 0), following=0, posts=0)

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        if len(post.text) > self.max_text_length:
            raise ContentRejected(
                _("Facebook posts are limited to %(limit)d characters.") % {"limit": self.max_text_length}
            )
        if not post.text.strip() and not post.media:
            raise ContentRejected(_("A Facebook post needs text or photos."))
        if post.quote_of:
            raise self._unsupported(_lazy("quoting posts"))
        if any(not item.mime_type.startswith("image/") for item in post.media):
            raise self._unsupported(_lazy("video posts"))
        if len(post.media) > MAX_PHOTOS:
            raise ContentRejected(
                _("A Facebook post takes at most %(count)d photos here.") % {"count": MAX_PHOTOS}
            )
        if post.reply_to:
            return self._comment(post)
        if len(post.media) == 1:
            photo = self._upload_photo(post.media[0], published=True, message=post.text)
            return self._published(str(photo.get("post_id") or photo["id"]))
        data: dict[str, str | int] = {"message": post.text}
        if post.media:
            for index, item in enumerate(post.media):
                staged = self._upload_photo(item, published=False)
                data[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(staged["id"])})
        elif link := parsing.first_url(post.text):
            data["link"] = link  # Facebook builds the link preview from it
        created = self._post(f"{self._page()}/feed", data)
        return self._published(str(created["id"]))

    def _comment(self, post: OutgoingPost) -> PublishedPost:
        """A reply: a comment on the post, or a reply to the comment, named by `reply_to`."""
        if post.media:
            raise self._unsupported(_lazy("photos in comment replies"))
        created = self._post(f"{post.reply_to}/comments", {"message": post.text})
        remote_id = str(created["id"])
        return PublishedPost(remote_id=remote_id, url=f"{WEB_URL}/{remote_id}", created_at=datetime.now(UTC))

    def _upload_photo(self, item: MediaItem, *, published: bool, message: str = "") -> dict[str, Any]:
        extension = item.mime_type.rpartition("/")[2] or "jpg"
        data: dict[str, str | int] = {"published": "true" if published else "false"}
        if message:
            data["message"] = message
        if item.alt_text:
            data["alt_text_custom"] = item.alt_text
        return self._post(
            f"{self._page()}/photos",
            data,
            files={"source": (f"photo.{extension}", item.data, item.mime_type)},
        )

    def _published(self, remote_id: str) -> PublishedPost:
        # Graph answers a new post with its id only; its time is now, near enough for the ledger.
        return PublishedPost(remote_id=remote_id, url=f"{WEB_URL}/{remote_id}", created_at=datetime.now(UTC))

    # -- reading

    def _comments(self, since: int) -> Iterator[tuple[int, InboundItem]]:
        """Comments (and replies, `filter=stream`) on the Page's recent posts that changed since `since`.

        A post's `updated_time` moves when someone comments, so unchanged posts cost nothing more.
        `since` is sent one second early: whether Graph treats it as inclusive is not documented, and
        the cursor filters out what was read already.
        """
        own = self._own_ids()
        posts = self._get(
            f"{self._page()}/published_posts", {"fields": "id,updated_time", "limit": self.scan_posts}
        )
        for post in posts.get("data") or []:
            if not isinstance(post, dict) or not post.get("id"):
                continue
            if since and parsing.timestamp(post.get("updated_time")) < since:
                continue
            post_id = str(post["id"])
            params: dict[str, str | int] = {
                "fields": COMMENT_FIELDS,
                "filter": "stream",
                "order": "chronological",
                "limit": 100,
            }
            if since:
                params["since"] = since - 1
            for comment in self._paged(f"{post_id}/comments", params):
                sender = parsing.obj(comment.get("from"))
                if str(sender.get("id", "")) in own:
                    continue
                parent = parsing.obj(comment.get("parent"))
                yield (
                    parsing.timestamp(comment.get("created_time")),
                    InboundItem(
                        remote_id=str(comment["id"]),
                        kind=InboundKind.COMMENT,
                        author=parsing.author(sender),
                        text=str(comment.get("message") or ""),
                        created_at=parsing.parse_time(comment.get("created_time")),
                        url=str(comment.get("permalink_url") or ""),
                        in_reply_to=str(parent.get("id") or post_id),
                        conversation_key=post_id,
                        raw=comment,
                    ),
                )

    # -- metrics

    def _metrics(self, remote_id: str, found: dict[str, Any], views: int | None) -> PostMetrics:
        # Reactions, comments and shares; views are Page Insights' impressions (`read_insights`).
        return PostMetrics(
            remote_id=str(found.get("id") or remote_id),
            likes=_total(found.get("reactions")),
            reposts=int((found.get("shares") or {}).get("count") or 0),
            replies=_total(found.get("comments")),
            impressions=views,
        )

    # -- sign-in

    @classmethod
    def choose_account(cls, pages: list[oauth.ManagedPage], base_url: str) -> ConnectedAccount:
        """The first Page the person manages, with the others (in Meta's order) as alternatives.

        One connection is one Page; each alternative carries that Page's own token, for the person to
        choose among them.
        """
        return offer_all([cls._page_account(page, base_url) for page in pages], cls.display_name)

    @classmethod
    def _page_account(cls, page: oauth.ManagedPage, base_url: str) -> ConnectedAccount:
        return ConnectedAccount(
            info=AccountInfo(
                external_id=page.page_id, handle=page.username or page.name, display_name=page.name
            ),
            credentials=cls._credentials(page, base_url),
            expires_at=None,  # a Page token from a long-lived user token does not expire
        )


def _total(edge: Any) -> int:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return int(summary.get("total_count") or 0) if isinstance(summary, dict) else 0
