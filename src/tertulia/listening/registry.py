"""The compiled matchers for the active queries: built once, rebuilt when a query changes.

A matcher per organization (for its own sources: feeds, Mastodon streams, its channels) and one for
all organizations together (for the installation's Bluesky firehose). Each is rebuilt only when the
active queries' fingerprint (how many, the last change) moves: compiling 10,000 queries takes a
second or two, checking the fingerprint one small query.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet

from tertulia.listening.matcher import Matcher
from tertulia.listening.models import ListeningQuery
from tertulia.listening.query import ParsedQuery, QueryError, parse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Compiled:
    matcher: Matcher
    owners: dict[str, int]  # query id (as text) → its organization
    fingerprint: tuple[object, ...]


_cache: dict[int | None, Compiled] = {}
_lock = threading.Lock()


def _active(organization_id: int | None) -> QuerySet[ListeningQuery]:
    queries = ListeningQuery.objects.filter(is_active=True, brand__is_archived=False)
    return queries if organization_id is None else queries.filter(organization_id=organization_id)


def _fingerprint(organization_id: int | None) -> tuple[object, ...]:
    # Adding, deleting or switching off a query (or archiving its brand) changes the count or the last
    # id; editing one moves the last change.
    stats = _active(organization_id).aggregate(count=Count("id"), changed=Max("updated_at"), last=Max("id"))
    return (stats["count"], stats["changed"], stats["last"])


def compiled(organization_id: int | None = None) -> Compiled:
    """The matcher for `organization_id`'s active queries (None: every organization's)."""
    fingerprint = _fingerprint(organization_id)
    with _lock:
        current = _cache.get(organization_id)
        if current is not None and current.fingerprint == fingerprint:
            return current
        parsed: dict[str, ParsedQuery] = {}
        owners: dict[str, int] = {}
        for query_id, organization, text in _active(organization_id).values_list(
            "id", "organization_id", "text"
        ):
            try:
                parsed[str(query_id)] = parse(text)
            except QueryError:
                # Saved queries were valid when saved; one that no longer parses (a stricter grammar) is
                # skipped, not allowed to stop every other query.
                logger.warning("listening query %s no longer parses; skipped", query_id)
                continue
            owners[str(query_id)] = organization
        current = Compiled(Matcher(parsed), owners, fingerprint)
        _cache[organization_id] = current
        return current


def forget() -> None:
    """Drop every compiled matcher (tests; an operator's reload)."""
    with _lock:
        _cache.clear()
