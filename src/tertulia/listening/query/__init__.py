"""The listening query language: parse, fold, evaluate (docs/listening.md#query-language)."""

from tertulia.listening.query.document import Post, Prepared, prepare
from tertulia.listening.query.errors import QueryError
from tertulia.listening.query.parser import ParsedQuery, parse

__all__ = ["ParsedQuery", "Post", "Prepared", "QueryError", "parse", "prepare"]
