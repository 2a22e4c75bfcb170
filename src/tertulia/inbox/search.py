"""Full-text search over message text and author handles, in the database's own index.

SQLite: an FTS5 table kept in step by triggers (accents folded, so "informacion" finds
"información"). PostgreSQL: a GIN index over a `simple` tsvector (no stemming: a brand's
messages come in many languages and a stemmer for one would mangle the others). Every word
typed must appear, as a word or the start of one; the words are reduced to letters and digits
before they reach the database, so a query can never be SQL or search syntax.
"""

from __future__ import annotations

import re

from django.db import connection

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8

# Must stay the expression of the index made by migration 0002, or PostgreSQL will not use it.
PG_DOCUMENT = "to_tsvector('simple'::regconfig, coalesce(text, '') || ' ' || coalesce(author_handle, ''))"

PG_QUERY = (
    "SELECT id FROM inbox_message WHERE brand_id = %s "  # noqa: S608  (a constant; values are parameters)
    f"AND {PG_DOCUMENT} @@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT %s"
)


def terms(query: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS (longer queries are not more precise)."""
    return [word.casefold() for word in WORD.findall(query)][:MAX_TERMS]


def matching_message_ids(brand_id: int, query: str, limit: int = 200) -> list[int]:
    """Ids of the brand's messages matching every word of `query` (as a prefix), newest first."""
    words = terms(query)
    if not words:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tsquery = " & ".join(f"{word}:*" for word in words)
            cursor.execute(PG_QUERY, [brand_id, tsquery, limit])
        else:
            match = " AND ".join(f'"{word}"*' for word in words)  # words are \w+: no quotes inside
            cursor.execute(
                "SELECT m.id FROM inbox_message_fts f JOIN inbox_message m ON m.id = f.rowid "
                "WHERE inbox_message_fts MATCH %s AND m.brand_id = %s ORDER BY f.rowid DESC LIMIT %s",
                [match, brand_id, limit],
            )
        return [row[0] for row in cursor.fetchall()]
