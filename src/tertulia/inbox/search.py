"""Full-text search over message text and author handles, in the database's own index.

SQLite: an FTS5 table kept in step by triggers (accents folded, so "informacion" finds
"información"). PostgreSQL: a GIN index over a `simple` tsvector stored with each message, its
accents folded by translate() and the query's the same way here (no
stemming: a brand's messages come in many languages and a stemmer for one would mangle the
others). Every word typed must appear, as a word or the start of one; the words are reduced to
letters and digits before they reach the database, so a query can never be SQL or search syntax.
"""

from __future__ import annotations

import re

from django.db import connection

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8

# The same letters migration 0004 folds in the stored PostgreSQL document (a test keeps them equal).
FOLD_FROM = "áàâäãåāăąéèêëēėęěíìîïīįóòôöõøōőúùûüūůűųýÿñńňçćčšśžźżłđďťř"
FOLD_TO = "aaaaaaaaaeeeeeeeeiiiiiioooooooouuuuuuuuyynnncccsszzzlddtr"
FOLD = str.maketrans(FOLD_FROM, FOLD_TO)

# The stored tsvector of each message (migration 0004: a generated column, GIN-indexed), so a
# search for a common word tests the newest rows without computing a document for each; and the
# walk starts at the brand's own newest message (a bound that changes nothing in the result), so
# other brands' more recent messages are never tested.
PG_QUERY = (
    "SELECT {column} FROM inbox_message WHERE brand_id = %s "
    "AND id <= (SELECT max(id) FROM inbox_message WHERE brand_id = %s) "
    "AND search_document @@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT %s"
)
SQLITE_QUERY = (
    "SELECT m.{column} FROM inbox_message_fts f JOIN inbox_message m ON m.id = f.rowid "
    "WHERE inbox_message_fts MATCH %s AND m.brand_id = %s ORDER BY f.rowid DESC LIMIT %s"
)
COLUMNS = ("id", "conversation_id")  # what a search may return; never anything a person typed


def terms(query: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS (longer queries are not more precise)."""
    return [word.casefold() for word in WORD.findall(query)][:MAX_TERMS]


def _newest_matching(column: str, brand_id: int, query: str, limit: int) -> list[int]:
    """`column` of the brand's newest `limit` messages matching every word of `query`, newest first."""
    assert column in COLUMNS
    words = terms(query)
    if not words:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tsquery = " & ".join(f"{word.translate(FOLD)}:*" for word in words)
            cursor.execute(PG_QUERY.format(column=column), [brand_id, brand_id, tsquery, limit])
        else:
            match = " AND ".join(f'"{word}"*' for word in words)  # words are \w+: no quotes inside
            cursor.execute(SQLITE_QUERY.format(column=column), [match, brand_id, limit])
        return [row[0] for row in cursor.fetchall()]


def matching_message_ids(brand_id: int, query: str, limit: int = 200) -> list[int]:
    """Ids of the brand's messages matching every word of `query` (as a prefix), newest first."""
    return _newest_matching("id", brand_id, query, limit)


def matching_conversation_ids(brand_id: int, query: str, limit: int = 200) -> set[int]:
    """The conversations of the brand's `limit` newest messages matching `query` (one query,
    where asking for the messages and then their conversations took two)."""
    return set(_newest_matching("conversation_id", brand_id, query, limit))
