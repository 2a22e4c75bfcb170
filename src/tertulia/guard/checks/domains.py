"""Links to domains the brand never linked to.

Links are found as the composer finds them (tertulia.publishing.rules.entities: http and https
URLs), after NFKC and without invisible characters (a fullwidth "https" or a zero-width space
inside a link does not hide it), plus bare domains with a common top-level domain ("evil.xyz/claim"),
which several networks turn into links. A domain is compared lower-cased, without "www." or a port,
in its ASCII (punycode) form, so a look-alike in another script is a different domain. A subdomain
of a known or trusted domain is known.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from tertulia.guard.checks.findings import NEW_DOMAIN, Finding
from tertulia.nlp.normalize import INVISIBLE
from tertulia.publishing.rules.entities import find_links

MAX_TEXT = 20_000
MAX_DOMAINS = 50

# Bare domains: only with a top-level domain people and scammers commonly use, so "hola.Que"
# (a missing space) is not a link.
_TLDS = (
    "com|net|org|info|biz|io|co|me|ly|app|dev|xyz|top|site|online|live|link|click|shop|store|club|vip|"
    "pro|win|bet|cc|tk|ml|ga|cf|gq|ru|cn|es|mx|ar|cl|pe|uk|de|fr|it|pt|eu|us|ca|br|in|gl|gg|to|tv|ws"
)
_BARE = re.compile(
    r"(?<![\w@./-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + _TLDS
    + r"))(?![\w-])(?=[/:?#]|\s|$|[.,;!)])",
    re.IGNORECASE,
)


def _prepared(text: str) -> str:
    if len(text) > MAX_TEXT:
        # Cut at a space, so the cap never cuts a link into a made-up domain.
        cut = text.rfind(" ", 0, MAX_TEXT)
        text = text[: cut if cut > 0 else MAX_TEXT]
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def normalize_domain(host: str) -> str:
    """ "WWW.Example.COM:443" → "example.com"; IDN → punycode; "" if it is not a host."""
    host = host.strip().strip(".").lower()
    if "@" in host:  # user:password@host
        host = host.rsplit("@", 1)[1]
    if host.startswith("["):  # an IPv6 literal: kept whole
        return host.split("]", 1)[0] + "]" if "]" in host else ""
    host = host.split(":", 1)[0].strip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host or len(host) > 253:
        return ""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return host[:253]
    return host


def domains_in(texts: Iterable[str]) -> list[str]:
    """The distinct link domains in `texts`, in the order they first appear (at most 50)."""
    found: dict[str, None] = {}
    for text in texts:
        prepared = _prepared(text)
        for link in find_links(prepared):
            try:
                host = urlsplit(link.text).netloc
            except ValueError:
                continue
            domain = normalize_domain(host)
            if domain:
                found.setdefault(domain, None)
        for match in _BARE.finditer(prepared):
            domain = normalize_domain(match.group(1))
            if domain:
                found.setdefault(domain, None)
        if len(found) >= MAX_DOMAINS:
            break
    return list(found)[:MAX_DOMAINS]


def parents(domain: str) -> list[str]:
    """The domain and every parent with a dot: "a.b.example.com" → itself, b.example.com, example.com."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


def is_known(domain: str, known: set[str]) -> bool:
    return any(candidate in known for candidate in parents(domain))


def domain_finding(domains: Iterable[str], known: set[str]) -> Finding | None:
    new = [domain for domain in domains if not is_known(domain, known)]
    if not new:
        return None
    return Finding("new_domain", NEW_DOMAIN, {"domains": new[:5]})
