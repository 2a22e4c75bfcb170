"""Instagram professional accounts over the Graph API (Instagram API with Facebook Login).

Publishing is two steps (Content Publishing guide): create a media container
(`POST /{ig-user-id}/media` with `image_url` and `caption` → `{"id"}`), wait until its `status_code`
is FINISHED (`GET /{container-id}?fields=status_code,status`), then publish it
(`POST /{ig-user-id}/media_publish` with `creation_id` → `{"id"}`). Instagram fetches the image from a
public URL itself: Tertulia stages each image as an unpublished photo of the linked Facebook Page and
hands Instagram that photo's URL, removing it once the post is out, so no public media host is needed.

An account may publish 50 posts per rolling 24 hours: `content_publishing_limit` says how many were
used, and the `publish` budget in `ratelimit` refuses the 51st before any request.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AccountInfo,
    AccountMetrics,
    AuthenticationFailed,
    Capability,
    ChannelAccount,
    ConnectedAccount,
    ConnectorError,
    ContentRejected,
    InboundItem,
    InboundKind,
    MediaItem,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
    RateLimited,
    TemporaryFailure,
)
from tertulia.connectors.meta import oauth, parsing
from tertulia.connectors.meta.common import CAPABILITIES, MetaConnector, offer_all

NETWORK = "instagram"
PUBLISH = "publish"
PUBLISH_BUDGET = ratelimit.Budget(limit=50, window_seconds=86_400)
ratelimit.register(NETWORK, {PUBLISH: PUBLISH_BUDGET})
# When Instagram itself says the quota is used: its window is rolling, the oldest post frees a slot.
QUOTA_RETRY_AFTER = 3600.0

MAX_CAPTION_LENGTH = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20  # Meta refuses more @mentions in a caption when it creates the container
MAX_CAROUSEL = 10
_HASHTAG = re.compile(r"(?<!\w)#\w+")
# "@name" not inside an address ("ana@example.com") or after another mention's "@".
_MENTION = re.compile(r"(?<![\w@./])@[A-Za-z0-9_.]+")
REPLY_FIELDS = "id,text,timestamp,username,from,parent_id,hidden"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"


class InstagramConnector(MetaConnector):
    network = NETWORK
    display_name = "Instagram"
    max_text_length = MAX_CAPTION_LENGTH
    scopes = (*oauth.INSTAGRAM_SCOPES, "pages_manage_posts")  # staging images on the linked Page
    messaging_platform = "instagram"
    max_message_length = 1000  # Instagram Messaging text limit
    capabilities: ClassVar[frozenset[Capability]] = CAPABILITIES
    webhook_kinds: ClassVar[frozenset[str]] = frozenset({"comments", "mentions", "messaging.message"})
    metric_fields = "id,like_count,comments_count"
    views_metric = "views"  # the media insight that replaced `impressions`
    hide_field = "hide"

    def __init__(self, account: ChannelAccount, **kwargs: Any) -> None:
        super().__init__(account, **kwargs)
        self.ig_user_id = str(account.external_id or account.credentials.get("ig_user_id") or "")
        self.poll_interval = float(account.settings.get("container_poll_interval", 2.0))
        self.poll_attempts = int(account.settings.get("container_poll_attempts", 30))

    def _me(self) -> str:
        if not self.ig_user_id:
            raise AuthenticationFailed(
                _("This Instagram channel does not know its account id; connect it again.")
            )
        return self.ig_user_id

    def rate_bucket(self) -> str:
        return PUBLISH  # the limit a community manager runs into on Instagram

    # -- account

    def verify_account(self) -> AccountInfo:
        user = self._get(self._me(), {"fields": "id,username,name"})
        return AccountInfo(
            external_id=str(user["id"]),
            handle=str(user.get("username") or ""),
            display_name=str(user.get("name") or user.get("username") or ""),
        )

    def account_metrics(self) -> AccountMetrics:
        user = self._get(self._me(), {"fields": "followers_count,follows_count,media_count"})
        return AccountMetrics(
            followers=int(user.get("followers_count") or 0),
            following=int(user.get("follows_count") or 0),
            posts=int(user.get("media_count") or 0),
        )

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        if post.reply_to:
            return self._reply(post)
        if not post.media:
            raise self._unsupported(_lazy("posts without an image"))
        self._check(post)
        ratelimit.spend(NETWORK, self.graph.limiter_key, PUBLISH)
        self._check_quota()
        staged: list[str] = []
        try:
            urls = []
            for item in post.media:
                photo_id, url = self._stage(item)
                staged.append(photo_id)
                urls.append(url)
            container = self._container(urls, post.text)
            self._wait_until_ready(container)
            published = self._post(f"{self._me()}/media_publish", {"creation_id": container})
        finally:
            self._unstage(staged)
        media_id = str(published["id"])
        media = self._get(media_id, {"fields": "id,permalink,timestamp"})
        return PublishedPost(
            remote_id=media_id,
            url=str(media.get("permalink") or ""),
            created_at=parsing.parse_time(media.get("timestamp")),
        )

    def _check(self, post: OutgoingPost) -> None:
        if len(post.text) > self.max_text_length:
            raise ContentRejected(
                _("Instagram captions are limited to %(limit)d characters.") % {"limit": self.max_text_length}
            )
        if len(_HASHTAG.findall(post.text)) > MAX_HASHTAGS:
            raise ContentRejected(_("Instagram allows at most %(count)d hashtags.") % {"count": MAX_HASHTAGS})
        if len(_MENTION.findall(post.text)) > MAX_MENTIONS:
            # Checked here, before the image upload, rather than refused by Meta after it.
            raise ContentRejected(_("Instagram allows at most %(count)d mentions.") % {"count": MAX_MENTIONS})
        if post.quote_of:
            raise self._unsupported(_lazy("quoting posts"))
        if len(post.media) > MAX_CAROUSEL:
            raise ContentRejected(
                _("An Instagram carousel takes at most %(count)d images.") % {"count": MAX_CAROUSEL}
            )
        if any(item.mime_type != "image/jpeg" for item in post.media):
            raise ContentRejected(_("Instagram publishes JPEG images only; convert the image first."))

    def _check_quota(self) -> None:
        """Instagram's own count of posts in the last 24 hours, which includes posts made elsewhere."""
        found = self._get(f"{self._me()}/content_publishing_limit", {"fields": "config,quota_usage"})
        for row in found.get("data") or []:
            if not isinstance(row, dict):
                continue
            config = parsing.obj(row.get("config"))
            total = int(config.get("quota_total") or PUBLISH_BUDGET.limit)
            used = int(row.get("quota_usage") or 0)
            if used >= total:
                ratelimit.hold_off(NETWORK, self.graph.limiter_key, PUBLISH, QUOTA_RETRY_AFTER)
                raise RateLimited(
                    _("Instagram allows %(count)d posts per 24 hours and they are used; try again later.")
                    % {"count": total},
                    retry_after=QUOTA_RETRY_AFTER,
                )

    def _stage(self, item: MediaItem) -> tuple[str, str]:
        """Upload the image as an unpublished photo of the linked Page.

        Returns its id and a URL Instagram can fetch.
        """
        photo = self._post(
            f"{self._require_page()}/photos",
            {"published": "false"},
            files={"source": ("photo.jpg", item.data, item.mime_type)},
        )
        photo_id = str(photo["id"])
        images = self._get(photo_id, {"fields": "images"}).get("images") or []
        sources = [i for i in images if isinstance(i, dict) and i.get("source")]
        if not sources:
            raise TemporaryFailure(_("Facebook did not give a URL for the staged image."))
        largest = max(sources, key=lambda i: int(i.get("width") or 0))
        return photo_id, str(largest["source"])

    def _unstage(self, photo_ids: list[str]) -> None:
        for photo_id in photo_ids:
            # An unpublished photo left behind is invisible; not worth failing a post for.
            with contextlib.suppress(ConnectorError):
                self.graph.request("DELETE", photo_id)

    def _container(self, urls: list[str], caption: str) -> str:
        me = self._me()
        if len(urls) == 1:
            return str(self._post(f"{me}/media", {"image_url": urls[0], "caption": caption})["id"])
        children = [
            str(self._post(f"{me}/media", {"image_url": url, "is_carousel_item": "true"})["id"])
            for url in urls
        ]
        return str(
            self._post(
                f"{me}/media", {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
            )["id"]
        )

    def _wait_until_ready(self, container: str) -> None:
        for attempt in range(self.poll_attempts):
            found = self._get(container, {"fields": "status_code,status"})
            code = str(found.get("status_code") or "")
            if code in ("FINISHED", "PUBLISHED"):
                return
            if code == "ERROR":
                raise ContentRejected(
                    _("Instagram could not process the media: %(status)s")
                    % {"status": found.get("status") or code}
                )
            if code == "EXPIRED":  # not published within 24 hours; a new attempt makes a new container
                raise TemporaryFailure(_("The Instagram media container expired; try again."))
            if attempt + 1 < self.poll_attempts:
                time.sleep(self.poll_interval)
        raise TemporaryFailure(_("Instagram is still processing the media; try again later."))

    def _reply(self, post: OutgoingPost) -> PublishedPost:
        """A reply to a comment (`POST /{ig-comment-id}/replies`); text only."""
        if post.media:
            raise self._unsupported(_lazy("images in comment replies"))
        if not post.text.strip():
            raise ContentRejected(_("A reply needs text."))
        if len(post.text) > self.max_text_length:
            raise ContentRejected(
                _("Instagram comments are limited to %(limit)d characters.") % {"limit": self.max_text_length}
            )
        created = self._post(f"{post.reply_to}/replies", {"message": post.text})
        return self._published_comment(str(created["id"]))

    def _published_comment(self, remote_id: str) -> PublishedPost:
        found = self._get(remote_id, {"fields": "id,timestamp"})
        return PublishedPost(
            remote_id=remote_id, url="", created_at=parsing.parse_time(found.get("timestamp"))
        )

    # -- reading

    def _comments(self, since: int) -> Iterator[tuple[int, InboundItem]]:
        """Comments and replies on our recent media. IG comments have no `since`; the cursor filters."""
        own_ids = self._own_ids()
        own_name = self.account.handle.lstrip("@").lower()
        media = self._get(
            f"{self._me()}/media", {"fields": "id,timestamp,comments_count", "limit": self.scan_posts}
        )
        for item in media.get("data") or []:
            if not isinstance(item, dict) or not item.get("id") or not item.get("comments_count"):
                continue
            media_id = str(item["id"])
            for comment in self._paged(f"{media_id}/comments", {"fields": COMMENT_FIELDS, "limit": 50}):
                replies = (
                    (comment.get("replies") or {}).get("data")
                    if isinstance(comment.get("replies"), dict)
                    else []
                )
                for row in [comment, *(r for r in replies or [] if isinstance(r, dict))]:
                    sender = parsing.obj(row.get("from"))
                    username = str(row.get("username") or sender.get("username") or "")
                    if str(sender.get("id", "")) in own_ids or (own_name and username.lower() == own_name):
                        continue
                    ts = parsing.timestamp(row.get("timestamp"))
                    if ts < since:
                        continue
                    yield (
                        ts,
                        InboundItem(
                            remote_id=str(row["id"]),
                            kind=InboundKind.COMMENT,
                            author=parsing.author(sender, fallback_name=username),
                            text=str(row.get("text") or ""),
                            created_at=parsing.parse_time(row.get("timestamp")),
                            in_reply_to=str(row.get("parent_id") or media_id),
                            conversation_key=media_id,
                            raw=row,
                        ),
                    )

    # -- moderation

    def delete(self, remote_id: str) -> None:
        """Deletes a comment. The Graph API cannot delete Instagram media; Instagram refuses that."""
        super().delete(remote_id)

    # -- metrics

    def _metrics(self, remote_id: str, found: dict[str, Any], views: int | None) -> PostMetrics:
        return PostMetrics(
            remote_id=str(found.get("id") or remote_id),
            likes=int(found.get("like_count") or 0),
            reposts=0,  # Instagram has no reposts in the API
            replies=int(found.get("comments_count") or 0),
            impressions=views,
        )

    # -- sign-in

    @classmethod
    def choose_account(cls, pages: list[oauth.ManagedPage], base_url: str) -> ConnectedAccount:
        """The Instagram account linked to the first Page that has one, with the accounts linked to the
        other Pages (in Meta's order) as alternatives; Pages without an Instagram account are skipped."""
        return offer_all(
            [cls._instagram_account(page, page.instagram, base_url) for page in pages if page.instagram],
            cls.display_name,
        )

    @classmethod
    def _instagram_account(
        cls, page: oauth.ManagedPage, instagram: Mapping[str, Any], base_url: str
    ) -> ConnectedAccount:
        ig_id = str(instagram["id"])
        username = str(instagram.get("username") or "")
        credentials = cls._credentials(page, base_url)
        credentials["ig_user_id"] = ig_id
        return ConnectedAccount(
            info=AccountInfo(
                external_id=ig_id,
                handle=username,
                display_name=str(instagram.get("name") or username),
            ),
            credentials=credentials,
            expires_at=None,
        )
