"""What is wrong with a query, where, and what was expected there.

Each error has a stable `code` (for the API and tests), the offset in the query where it was
found, and a message in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    "empty": _("The query is empty: write at least one word to look for."),
    "too_long": _("The query is longer than %(limit)s characters."),
    "too_many_terms": _(
        "The query has more than %(limit)s words and filters; split it into several queries."
    ),
    "too_deep": _("Parentheses and NOTs are nested more than %(limit)s deep."),
    "unexpected": _("Unexpected %(found)s: expected %(expected)s."),
    "unclosed_quote": _("This quotation mark is never closed."),
    "unclosed_paren": _("This parenthesis is never closed."),
    "unmatched_paren": _("This closing parenthesis has no opening one."),
    "empty_phrase": _("The quotation marks hold no word."),
    "empty_group": _("The parentheses hold nothing."),
    "dangling_operator": _("%(operator)s needs something on both sides."),
    "near_distance": _("NEAR needs a number of words from 0 to %(limit)s, as NEAR/5 or NEAR/5f."),
    "near_chain": _("At most %(limit)s NEARs may follow one another; group the rest with AND."),
    "too_many_nears": _("A query may use NEAR at most %(limit)s times."),
    "near_operand": _("NEAR joins words, phrases, hashtags and mentions (or ORs of them), not %(found)s."),
    "wildcard_too_short": _("A word with a wildcard needs at least %(minimum)s letters besides * and ?."),
    "wildcard_too_many": _("A word may have at most %(limit)s wildcards."),
    "word_too_long": _("A word is longer than %(limit)s characters."),
    "no_word": _("%(text)s has no letters or digits to look for."),
    "unknown_field": _("Unknown filter “%(field)s”; use one of %(fields)s."),
    "field_value": _("%(field)s: needs a value, as %(example)s."),
    "bad_language": _("lang: takes a language code such as es or en, not %(value)s."),
    "bad_network": _("network: takes one of %(networks)s, not %(value)s."),
    "bad_site": _("site: takes a domain such as example.com, not %(value)s."),
    "bad_followers": _("followers: takes a comparison and a number, as followers:>1000 or followers:<=5k."),
    "only_negative": _(
        "The query only says what to leave out: add words or filters it must find, as marca NOT empleo."
    ),
}


class QueryError(ValueError):
    def __init__(self, code: str, position: int, length: int = 1, **params: Any) -> None:
        self.code = code
        self.position = position
        self.length = max(length, 1)
        self.params = params
        super().__init__(f"{code} at {position}")

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % {
            key: str(value) for key, value in self.params.items() if key != "expected_list"
        }

    def pointer(self, query: str) -> str:
        """The query's line with a caret under the problem, for terminals and <pre> blocks."""
        line_start = query.rfind("\n", 0, self.position) + 1
        line_end = query.find("\n", self.position)
        line = query[line_start : line_end if line_end != -1 else len(query)]
        column = self.position - line_start
        width = max(min(self.length, len(line) - column), 1)
        return f"{line}\n{' ' * column}{'^' * width}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "position": self.position,
            "length": self.length,
            "expected": [str(item) for item in self.params.get("expected_list", [])],
        }
