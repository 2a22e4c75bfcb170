"""Guidelines as HTML, safely: the text is escaped first; blank lines make paragraphs, lines starting
with "- " or "* " make lists, "1. " numbered lists, "## " a heading, and web addresses become links
(rel="nofollow noopener"). Nothing else of the text can become markup: there is no Markdown
dependency, and none is added for this (docs/contributor-portal.md)."""

from __future__ import annotations

import re

from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines

_BULLET = re.compile(r"^\s*[-*•]\s+")
_NUMBER = re.compile(r"^\s*\d{1,3}[.)]\s+")
_HEADING = re.compile(r"^#{1,3}\s+")


def _inline(text: str) -> str:
    # urlize escapes everything that is not an address it links (autoescape=True).
    linked = urlize(text, nofollow=True, autoescape=True)
    return linked.replace('rel="nofollow"', 'rel="nofollow noopener"')


def _block(lines: list[str]) -> str:
    if all(_BULLET.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_BULLET.sub('', line))}</li>" for line in lines)
        return f'<ul dir="auto">{items}</ul>'
    if all(_NUMBER.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_NUMBER.sub('', line))}</li>" for line in lines)
        return f'<ol dir="auto">{items}</ol>'
    if len(lines) == 1 and _HEADING.match(lines[0]):
        return f'<h3 dir="auto">{_inline(_HEADING.sub("", lines[0]))}</h3>'
    return '<p dir="auto">' + "<br>".join(_inline(line) for line in lines) + "</p>"


def render_guideline(text: str) -> SafeString:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in normalize_newlines(text).split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return mark_safe("".join(_block(lines) for lines in blocks))  # noqa: S308  # every piece escaped above
