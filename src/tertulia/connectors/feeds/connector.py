"""RSS and Atom feeds as a listening source.

A feed channel's "account" is the feed itself: its URL is `settings["url"]`, or
the channel's external id or handle (connecting a feed by its address stores the
URL there). There is nothing to sign in to and nothing to publish: the connector
only reads, each entry an `InboundItem` of kind MENTION for listening queries to
match. See docs/connectors/feeds.md.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]  # no stubs or py.typed
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AccountInfo,
    Capability,
    ChannelAccount,
    Connector,
    ContentRejected,
    InboundItem,
    InboundKind,
    InboundPage,
    RateLimited,
    RemoteAuthor,
    TemporaryFailure,
)
from tertulia.connectors.feeds import fetch
from tertulia.connectors.feeds.cursor import FeedCursor, entry_key
from tertulia.connectors.feeds.text import html_to_text

NETWORK = "feeds"
# One fetch of a feed per minute at most, whatever the number of workers or channels polling it:
# our politeness to the feed's server (feeds publish no limits of their own).
FETCH = "fetch"
BUDGETS: dict[str, ratelimit.Budget] = {FETCH: ratelimit.Budget(limit=1, window_seconds=60)}
ratelimit.register(NETWORK, BUDGETS)
MAX_TEXT_CHARS = 20_000  # a whole blog post is more than listening needs


def _timestamp(entry: Any) -> datetime | None:
    """feedparser normalizes dates to UTC `struct_time`s."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _web_url(value: object) -> str:
    """Links are kept only when they are http(s): a `javascript:` link must never become a URL we show."""
    url = str(value or "").strip()
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def _identity(entry: Any) -> str:
    """The entry's id, else its link, else its words; "" for an entry with nothing to tell it by."""
    found = str(entry.get("id") or entry.get("link") or "")
    if found:
        return found
    words = f"{entry.get('title') or ''}\n{entry.get('summary') or ''}"
    return words if words.strip() else ""


# RSS 2.0 <author> is "email (Name)"; feedparser 6.0.14 splits it wrongly, so it is read here.
_RSS_AUTHOR = re.compile(r"^\s*([^\s()<>]+@[^\s()<>]+)\s*\((.*)\)\s*$")


def _author(entry: Any) -> tuple[str, str, str]:
    """(name, email, profile URL) of an entry's author, as far as the feed says."""
    detail = entry.get("author_detail") or {}
    raw = str(entry.get("author") or "")
    match = _RSS_AUTHOR.match(raw)
    if match:
        return html_to_text(match.group(2)), match.group(1), _web_url(detail.get("href"))
    if "@" in raw and " " not in raw.strip():
        return "", raw.strip(), _web_url(detail.get("href"))
    name = html_to_text(str(detail.get("name") or raw))
    return name, str(detail.get("email") or ""), _web_url(detail.get("href"))


def _body_html(entry: Any) -> str:
    """The fullest text the entry carries: Atom content, else the summary (RSS description)."""
    for content in entry.get("content") or ():
        value = str(content.get("value") or "")
        if value.strip():
            return value
    return str(entry.get("summary") or "")


def _language(code: object) -> str | None:
    primary = str(code or "").strip().split("-")[0].split("_")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


class FeedConnector(Connector):
    network = NETWORK
    display_name = "RSS/Atom"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.READ_MENTIONS})

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        url = str(account.settings.get("url") or account.external_id or account.handle or "")
        self.url = fetch.check_url(url)
        self.max_bytes = int(account.settings.get("max_bytes", fetch.MAX_FEED_BYTES))
        # The budget is the feed's, shared by every channel that polls the same address.
        self.rate_key = (
            self.url if len(self.url) <= 255 else "sha256:" + hashlib.sha256(self.url.encode()).hexdigest()
        )

    # -- connecting

    @classmethod
    def prepare_account(cls, handle: str, display_name: str = "") -> AccountInfo:
        """The handle typed in is the feed's address; it is checked here and fetched at the first poll."""
        url = fetch.check_url(handle)
        return AccountInfo(
            external_id=url, handle=url, display_name=display_name or urlsplit(url).hostname or url
        )

    def verify_account(self) -> AccountInfo:
        parsed = self._parse(self._fetch(FeedCursor()).body or b"")
        title = html_to_text(str(parsed.feed.get("title") or "")) or self.url
        return AccountInfo(external_id=self.url, handle=self.account.handle or self.url, display_name=title)

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        """New entries since `cursor`, oldest first, at most `limit`; see `cursor.py` for the rules.

        The first read (no cursor) treats every entry in the feed as new. A 304
        answer returns no items and the same cursor.
        """
        state = FeedCursor.decode(cursor)
        result = self._fetch(state)
        if result.body is None:  # 304 Not Modified
            return InboundPage(items=[], cursor=cursor or state.encode())
        parsed = self._parse(result.body, result)
        feed = parsed.feed
        present: dict[str, tuple[Any, datetime | None]] = {}
        for entry in parsed.entries:
            if not _identity(entry):
                continue  # nothing to tell it by (what a broken feed leaves of an item)
            key = entry_key(_identity(entry))
            present.setdefault(key, (entry, _timestamp(entry)))
        fresh = [
            (key, entry, moment)
            for key, (entry, moment) in present.items()
            if key not in state.seen and not (state.floor and moment and moment < state.floor)
        ]
        # Feeds list newest first: reverse, then a stable sort by date where every entry has one.
        fresh.reverse()
        if all(moment is not None for _key, _entry, moment in fresh):
            fresh.sort(key=lambda row: row[2] or datetime.min.replace(tzinfo=UTC))
        page = fresh[: max(1, limit)]
        complete = len(page) == len(fresh)
        fetched_at = datetime.now(UTC)
        items = [self._item(entry, moment or fetched_at, feed, result.url) for _key, entry, moment in page]

        seen = (state.seen | {key for key, _entry, _moment in page}) & present.keys()
        floor = state.floor
        if complete:
            # Everything in the feed is now seen: whatever turns up later dated before
            # the oldest of it had fallen out of the feed and came back.
            dates = [moment for _entry, moment in present.values() if moment is not None]
            if dates and (floor is None or min(dates) > floor):
                floor = min(dates)
        following = FeedCursor(
            seen=seen,
            floor=floor,
            etag=result.etag if complete else "",
            modified=result.last_modified if complete else "",
        )
        return InboundPage(items=items, cursor=following.encode())

    # -- internals

    def _fetch(self, state: FeedCursor) -> fetch.FetchResult:
        """One fetch, if the feed's budget allows it (RateLimited otherwise, and nothing is sent); a 429
        holds every worker off the feed for its Retry-After."""
        ratelimit.spend(NETWORK, self.rate_key, FETCH)
        try:
            return fetch.fetch(
                self.url,
                etag=state.etag,
                last_modified=state.modified,
                max_bytes=self.max_bytes,
            )
        except RateLimited as limited:
            ratelimit.hold_off(NETWORK, self.rate_key, FETCH, limited.retry_after)
            raise

    def _parse(self, body: bytes, result: fetch.FetchResult | None = None) -> Any:
        """feedparser over the bytes we fetched (a BytesIO: given bare bytes it may try to open a file).

        feedparser's own HTML sanitizer is off: `html_to_text` turns every field
        into plain text anyway, and drops what script, style and iframe elements
        hold, which the sanitizer would keep as text.
        """
        headers = {"content-location": result.url if result else self.url}
        if result and result.content_type:
            headers["content-type"] = result.content_type
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
        usable = [entry for entry in parsed.entries if _identity(entry)]
        if parsed.get("bozo"):
            problem = str(parsed.get("bozo_exception") or "")[:200]
            if not parsed.get("version") and not usable:
                raise ContentRejected(
                    _("%(url)s is not an RSS or Atom feed (%(problem)s).")
                    % {"url": self.url, "problem": problem}
                )
            if not usable:
                # A feed cut short or broken by its server; it may be whole at the next poll.
                raise TemporaryFailure(
                    _("The feed at %(url)s is malformed and has no readable entries (%(problem)s).")
                    % {"url": self.url, "problem": problem}
                )
            # Otherwise feedparser's lenient parser recovered the entries: use them.
        elif not parsed.get("version"):
            raise ContentRejected(_("%(url)s is not an RSS or Atom feed.") % {"url": self.url})
        return parsed

    def _item(self, entry: Any, created_at: datetime, feed: Any, feed_url: str) -> InboundItem:
        title = html_to_text(str(entry.get("title") or ""))
        body = html_to_text(_body_html(entry))
        text = f"{title}\n\n{body}".strip() if body and body != title else title
        feed_title = html_to_text(str(feed.get("title") or ""))
        name, email, author_url = _author(entry)
        name = name or feed_title
        author_url = author_url or _web_url(feed.get("link"))
        author_id = email or author_url or name or feed_url
        remote_id = str(entry.get("id") or entry.get("link") or "") or entry_key(_identity(entry))
        return InboundItem(
            remote_id=remote_id,
            kind=InboundKind.MENTION,
            author=RemoteAuthor(
                remote_id=author_id,
                handle=name or feed_url,
                display_name=name,
                profile_url=author_url,
            ),
            text=text[:MAX_TEXT_CHARS],
            created_at=created_at,
            url=_web_url(entry.get("link")),
            conversation_key=remote_id,
            language=_language(entry.get("language") or feed.get("language")),
            raw={
                "feed_url": feed_url,
                "feed_title": feed_title,
                "id": str(entry.get("id") or ""),
                "link": _web_url(entry.get("link")),
                "title": title,
                "tags": [str(tag.get("term") or "") for tag in entry.get("tags") or ()],
            },
        )
