"""What a surge is about, stored in Surge.explanation (JSON): what rose and by how much against what was
expected, the terms over-represented in the window, the most influential authors, a few example posts.

Texts, handles and names are stored verbatim (they may be hostile: every page renders them escaped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tertulia.crisis.detection.surge import Finding
from tertulia.crisis.detection.terms import top_terms
from tertulia.crisis.models import Watch, WatchKind
from tertulia.inbox.models import Direction, Message, Sentiment
from tertulia.listening.models import Mention

# The baseline window for terms: the day before the surge window.
BASELINE_HOURS = 24
MAX_POSTS = 2_000
EXAMPLES = 5
AUTHORS = 5
MAX_EXAMPLE_CHARS = 1_000


@dataclass(frozen=True)
class Post:
    source: str  # "message" or "mention"
    id: int
    text: str
    author_handle: str
    author_name: str
    followers: int | None
    url: str
    at: datetime
    sentiment: str


def _posts(watch: Watch, start: datetime, end: datetime) -> list[Post]:
    if watch.kind == WatchKind.QUERY:
        mentions = (
            Mention.objects.filter(
                matches__query_id=watch.query_id, published_at__gte=start, published_at__lt=end
            )
            .order_by("-published_at", "-id")
            .values_list(
                "id",
                "text",
                "author_handle",
                "author_name",
                "author_followers",
                "url",
                "published_at",
                "sentiment",
            )[:MAX_POSTS]
        )
        return [Post("mention", *row) for row in mentions]
    messages = (
        Message.objects.filter(
            brand_id=watch.brand_id,
            direction=Direction.INBOUND,
            received_at__gte=start - timedelta(minutes=5),
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .order_by("-sent_at", "-id")
        .values_list(
            "id", "text", "author_handle", "author_name", "author_followers", "url", "sent_at", "sentiment"
        )[:MAX_POSTS]
    )
    return [Post("message", *row) for row in messages]


def explain(watch: Watch, finding: Finding, start: datetime, end: datetime) -> dict[str, Any]:
    """The explanation of a surge found in [start, end)."""
    posts = _posts(watch, start, end)
    before = _posts(watch, start - timedelta(hours=BASELINE_HOURS), start)
    if finding.metric == "negative":
        # What the angry ones say, against what everyone said before.
        focus = [post for post in posts if post.sentiment == Sentiment.NEGATIVE] or posts
    else:
        focus = posts
    terms = top_terms([post.text for post in focus], [post.text for post in before])
    return {
        "metric": finding.metric,
        "window_minutes": finding.window,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "observed": round(finding.observed, 4),
        "expected": round(finding.expected, 4),
        "ratio": round(finding.ratio, 2) if finding.expected > 0 else None,
        "p_value": finding.p_value,
        # A people surge's total is people: the messages are those read (at most MAX_POSTS).
        "messages": len(posts) if finding.metric == "people" else finding.total,
        "negative": sum(1 for post in posts if post.sentiment == Sentiment.NEGATIVE),
        "top_terms": [term.as_json() for term in terms],
        "authors": _authors(focus),
        "examples": [_example(post) for post in _examples(focus)],
    }


def _authors(posts: list[Post]) -> list[dict[str, Any]]:
    by_handle: dict[str, dict[str, Any]] = {}
    for post in posts:
        if not post.author_handle:
            continue
        entry = by_handle.setdefault(
            post.author_handle,
            {"handle": post.author_handle, "name": post.author_name, "followers": None, "posts": 0},
        )
        entry["posts"] += 1
        if post.followers is not None and (entry["followers"] is None or post.followers > entry["followers"]):
            entry["followers"] = post.followers
    # The widest reach first (unknown reach last), then the most posts.
    return sorted(
        by_handle.values(),
        key=lambda a: (a["followers"] is None, -(a["followers"] or 0), -a["posts"], a["handle"]),
    )[:AUTHORS]


def _examples(posts: list[Post]) -> list[Post]:
    """A few posts that show the surge: the widest reach first, one per author, non-empty text."""
    seen: set[str] = set()
    chosen = []
    for post in sorted(posts, key=lambda p: (-(p.followers or 0), -p.at.timestamp(), -p.id)):
        if not post.text.strip() or post.author_handle in seen:
            continue
        seen.add(post.author_handle)
        chosen.append(post)
        if len(chosen) == EXAMPLES:
            break
    return chosen


def _example(post: Post) -> dict[str, Any]:
    return {
        "source": post.source,
        "id": post.id,
        "text": post.text[:MAX_EXAMPLE_CHARS],
        "author": post.author_handle,
        "author_name": post.author_name,
        "followers": post.followers,
        "url": post.url,
        "at": post.at.isoformat(),
        "sentiment": post.sentiment,
    }
