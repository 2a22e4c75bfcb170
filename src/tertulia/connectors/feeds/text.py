"""HTML to plain text, for content that arrives as HTML (feed entries, WordPress comments).

The result is stored and shown as text, never as markup: tags are dropped, the
contents of script, style and similar elements are dropped whole, entities are
decoded, and block elements become line breaks. Nothing here executes or keeps
anything active; templates escape the text again when they show it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is not text a person wrote.
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math"})
_BLOCK = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "tr", "table", "section", "article", "hr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "figure", "figcaption", "dd", "dt"}
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    """The readable text of an HTML fragment (plain text passes through, entities decoded)."""
    if not content:
        return ""
    parser = _TextExtractor()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
