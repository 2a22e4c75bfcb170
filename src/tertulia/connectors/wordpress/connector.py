"""WordPress comments behind the connector interface.

A channel is one user on one site: `credentials` hold `username`,
`application_password` and `base_url`; the site may also be named in
`settings["base_url"]` (or `settings["service"]`, which the connect form fills).
Comments on the site's posts come in as COMMENT items; the connector replies,
holds (HIDE), approves (unhide, `approve`), marks as spam (`spam`) and trashes
(DELETE) them. It does not publish blog posts. See docs/connectors/wordpress.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.connectors.base import (
    AccountInfo,
    AuthenticationFailed,
    Capability,
    ChannelAccount,
    ConnectedAccount,
    Connector,
    ContentRejected,
    InboundItem,
    InboundKind,
    InboundPage,
    OutgoingPost,
    PublishedPost,
    RemoteAuthor,
    RemoteNotFound,
)
from tertulia.connectors.feeds.text import html_to_text
from tertulia.connectors.wordpress.client import WordPressHTTP, site_url

NETWORK = "wordpress"
PER_PAGE = 100  # WordPress's maximum
MAX_PAGES_PER_READ = 10
# `after` is compared with the site's local comment time by some WordPress versions and with
# GMT by others, and sites are up to 14 hours from GMT: ask for a day more than needed and
# drop what was already seen, so no time zone can lose a comment.
OVERLAP = timedelta(days=1)
MAX_COMMENT_LENGTH = 65_525  # the comment_content column (TEXT) less WordPress's margin
# What the site's moderation screen keeps about a commenter but the inbox does not need.
PRIVATE_FIELDS = frozenset({"author_email", "author_ip", "author_user_agent"})


def parse_gmt(value: str) -> datetime:
    """WordPress's `date_gmt` ("2025-06-01T10:00:00", no offset, UTC) as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _comment_id(remote_id: str) -> int:
    """Comment ids are positive integers; anything else names no comment (and never reaches a URL)."""
    if not remote_id.isdigit() or int(remote_id) <= 0:
        raise RemoteNotFound(_("%(id)s is not a WordPress comment id.") % {"id": remote_id[:40]})
    return int(remote_id)


class _Cursor:
    """`mark`: newest comment time read; `seen`: ids read within OVERLAP of it; `floor`: the first
    read's oldest comment time (what came before it was history, not inbox)."""

    def __init__(self, mark: datetime | None, floor: datetime | None, seen: dict[int, float]) -> None:
        self.mark = mark
        self.floor = floor
        self.seen = seen

    @classmethod
    def decode(cls, value: str | None) -> _Cursor | None:
        if not value:
            return None
        try:
            data = json.loads(value)
            return cls(
                datetime.fromisoformat(data["mark"]) if data.get("mark") else None,
                datetime.fromisoformat(data["floor"]) if data.get("floor") else None,
                {int(k): float(v) for k, v in data.get("seen", [])},
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def encode(self) -> str:
        if self.mark is not None:
            horizon = (self.mark - OVERLAP).timestamp()
            self.seen = {k: v for k, v in self.seen.items() if v >= horizon}
        return json.dumps(
            {
                "mark": self.mark.isoformat() if self.mark else "",
                "floor": self.floor.isoformat() if self.floor else "",
                "seen": sorted([k, v] for k, v in self.seen.items()),
            },
            separators=(",", ":"),
        )

    def add(self, comment: dict[str, Any]) -> None:
        moment = parse_gmt(str(comment["date_gmt"]))
        self.seen[int(comment["id"])] = moment.timestamp()
        if self.mark is None or moment > self.mark:
            self.mark = moment


class WordPressConnector(Connector):
    network = NETWORK
    display_name = "WordPress"
    # The channel is the WordPress user whose application password it holds (its handle says which):
    # docs/governance.md recommends a user of its own for Tertulia rather than a person's.
    credentials_belong_to_person: ClassVar[bool] = False
    max_text_length = MAX_COMMENT_LENGTH
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ_COMMENTS, Capability.REPLY, Capability.HIDE, Capability.DELETE}
    )

    def __init__(self, account: ChannelAccount, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(account)
        base_url = str(
            account.settings.get("base_url")
            or account.credentials.get("base_url")
            or account.settings.get("service")
            or ""
        )
        if not base_url:
            raise AuthenticationFailed(_("This WordPress channel does not say which site it is on."))
        self.http = WordPressHTTP(
            base_url,
            str(account.credentials.get("username") or ""),
            str(account.credentials.get("application_password") or ""),
            transport=transport,
        )
        self.base_url = self.http.base_url

    # -- account

    def verify_account(self) -> AccountInfo:
        return _account_info(self.http.json("GET", "/users/me"), self.base_url)

    @classmethod
    def connect_with_password(cls, handle: str, password: str, base_url: str = "") -> ConnectedAccount:
        """`handle` is the WordPress user name, `password` an Application Password made for Tertulia.

        WordPress has nothing to exchange it for: the application password is the
        credential, and it goes into the vault (revocable in the user's profile).
        """
        site = site_url(base_url)
        credentials = {"username": handle.strip(), "application_password": password.strip(), "base_url": site}
        connector = cls(ChannelAccount(handle=handle, credentials=credentials, settings={"base_url": site}))
        try:
            info = connector.verify_account()
        finally:
            connector.http.close()
        return ConnectedAccount(info=info, credentials=credentials)

    # -- replying

    def publish(self, post: OutgoingPost) -> PublishedPost:
        """Only replies to comments (`reply_to` = the comment's id): writing blog posts is not ours to do."""
        if not post.reply_to:
            raise self._unsupported(_lazy("publishing blog posts"))
        if post.media or post.quote_of:
            raise self._unsupported(_lazy("media or quotes in comment replies"))
        if not post.text.strip():
            raise ContentRejected(_("A reply needs text."))
        if len(post.text) > self.max_text_length:
            raise ContentRejected(
                _("WordPress comments are limited to %(limit)d characters.") % {"limit": self.max_text_length}
            )
        parent = self.http.json("GET", f"/comments/{_comment_id(post.reply_to)}")
        created = self.http.json(
            "POST",
            "/comments",
            json={"post": int(parent["post"]), "parent": int(parent["id"]), "content": post.text},
        )
        return PublishedPost(
            remote_id=str(created["id"]),
            url=str(created.get("link") or ""),
            created_at=parse_gmt(str(created["date_gmt"])),
        )

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        """Comments (approved and awaiting moderation, not spam or trash) since `cursor`, oldest first.

        The first read returns the newest `limit` comments; after that, every comment
        newer than those, page by page (`orderby=date_gmt`, `after`, `X-WP-TotalPages`).
        """
        limit = max(1, min(limit, PER_PAGE))
        state = _Cursor.decode(cursor)
        if state is None:
            newest = self._comments({"order": "desc", "per_page": limit, "page": 1})[0]
            newest.reverse()
            first = _Cursor(None, None, {})
            for comment in newest:
                first.add(comment)
            if newest:
                first.floor = parse_gmt(str(newest[0]["date_gmt"]))
            return InboundPage(items=[self._item(c) for c in newest], cursor=first.encode())
        fresh: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"order": "asc", "per_page": PER_PAGE}
        if state.mark is not None:
            params["after"] = (state.mark - OVERLAP).astimezone(UTC).replace(tzinfo=None).isoformat()
        for page in range(1, MAX_PAGES_PER_READ + 1):
            comments, total_pages = self._comments({**params, "page": page})
            for comment in comments:
                moment = parse_gmt(str(comment["date_gmt"]))
                if int(comment["id"]) in state.seen or (state.floor and moment < state.floor):
                    continue
                fresh.append(comment)
            if len(fresh) >= limit or page >= total_pages:
                break
        fresh = fresh[:limit]
        for comment in fresh:
            state.add(comment)
        return InboundPage(items=[self._item(c) for c in fresh], cursor=state.encode())

    def _comments(self, params: dict[str, str | int]) -> tuple[list[dict[str, Any]], int]:
        response = self.http.request(
            "GET",
            "/comments",
            # `all` is approved plus held (WP_Comment_Query); held comments are the ones to moderate.
            params={"status": "all", "type": "comment", "orderby": "date_gmt", **params},
        )
        comments = response.json()
        if not isinstance(comments, list):
            raise ContentRejected(_("WordPress answered the comment list with something else."))
        try:
            total_pages = int(response.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            total_pages = 1
        return comments, total_pages

    def _item(self, comment: dict[str, Any]) -> InboundItem:
        author_id = int(comment.get("author") or 0)
        name = html_to_text(str(comment.get("author_name") or ""))
        author_url = str(comment.get("author_url") or "")
        if urlsplit(author_url).scheme not in ("http", "https"):
            author_url = ""
        parent = int(comment.get("parent") or 0)
        return InboundItem(
            remote_id=str(comment["id"]),
            kind=InboundKind.COMMENT,
            author=RemoteAuthor(
                # Registered users by id; guests by the name they typed (WordPress gives nothing firmer).
                remote_id=str(author_id) if author_id else f"guest:{name}",
                handle=name or str(author_id),
                display_name=name,
                profile_url=author_url,
            ),
            text=html_to_text(str((comment.get("content") or {}).get("rendered") or "")),
            created_at=parse_gmt(str(comment["date_gmt"])),
            url=str(comment.get("link") or ""),
            in_reply_to=str(parent) if parent else None,
            conversation_key=f"post:{comment.get('post')}",
            raw={k: v for k, v in comment.items() if k not in PRIVATE_FIELDS and not k.startswith("_")},
        )

    # -- moderation

    def hide(self, remote_id: str) -> None:
        """Back to "awaiting moderation" (hold): off the site, kept for a person to decide."""
        self._set_status(remote_id, "hold")

    def unhide(self, remote_id: str) -> None:
        self.approve(remote_id)

    def approve(self, remote_id: str) -> None:
        self._set_status(remote_id, "approved")

    def spam(self, remote_id: str) -> None:
        """Marked as spam: off the site, and Akismet (if installed) learns from it."""
        self._set_status(remote_id, "spam")

    def delete(self, remote_id: str) -> None:
        """To the trash (recoverable for 30 days by default), not deleted for good."""
        self.http.request("DELETE", f"/comments/{_comment_id(remote_id)}")

    def _set_status(self, remote_id: str, status: str) -> None:
        self.http.request("POST", f"/comments/{_comment_id(remote_id)}", json={"status": status})

    def comments_by_id(self, remote_ids: Sequence[str]) -> list[InboundItem]:
        """Specific comments (to refresh their state), those that still exist."""
        ids = [str(_comment_id(i)) for i in remote_ids]
        if not ids:
            return []
        comments, _pages = self._comments({"include": ",".join(ids), "per_page": PER_PAGE, "page": 1})
        return [self._item(c) for c in comments]


def _account_info(user: dict[str, Any], base_url: str) -> AccountInfo:
    host = urlsplit(base_url).netloc + urlsplit(base_url).path
    slug = str(user.get("slug") or user.get("id"))
    return AccountInfo(
        # One site's user ids start at 1 like every other's: the site makes them unique.
        external_id=f"{base_url}#{user['id']}",
        handle=f"{slug}@{host}",
        display_name=str(user.get("name") or slug),
    )
