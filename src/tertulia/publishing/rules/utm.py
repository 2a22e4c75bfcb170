"""Campaign tags (UTM parameters) on every link of a post, so analytics can tell where visits came from.

Only the links change, character for character nothing else: the text around them, the other
query parameters exactly as written (no re-encoding: "?q=a+b" stays "?q=a+b") and the fragment.

A link someone tagged by hand is respected: if it already has `utm_source`, it is left exactly
as it is, unless `override=True`. A link without `utm_source` gets ours; a `utm_medium`,
`utm_campaign` or `utm_content` already on it is kept (the person chose it), the missing ones are
added. With `override=True`, ours replace theirs (`utm_content` only when `content` is given).
Either way, tagging twice gives the same text as tagging once.
"""

from __future__ import annotations

from urllib.parse import quote, unquote_plus

from tertulia.publishing.rules.entities import find_links

SOURCE = "utm_source"
MEDIUM = "utm_medium"
CAMPAIGN = "utm_campaign"
CONTENT = "utm_content"


def _key(parameter: str) -> str:
    return unquote_plus(parameter.partition("=")[0])


def _encode(value: str) -> str:
    """Percent-encode everything but letters, digits and "-_.~"; a final "." too, or a reader's
    link detection would take it for the end of the sentence ("…&utm_campaign=v2." loses its dot)."""
    encoded = quote(value, safe="")
    return encoded[:-1] + "%2E" if encoded.endswith(".") else encoded


def _tag(url: str, wanted: dict[str, str], override: bool) -> str:
    before_fragment, hash_sign, fragment = url.partition("#")
    path, _question_mark, query = before_fragment.partition("?")
    # Split, never parse and re-encode: every parameter we keep stays byte for byte as written.
    parameters = query.split("&") if query else []
    present = {_key(parameter) for parameter in parameters if parameter}
    if SOURCE in present and not override:
        return url
    if override:
        parameters = [parameter for parameter in parameters if not parameter or _key(parameter) not in wanted]
        present -= set(wanted)
    added = "&".join(f"{key}={_encode(value)}" for key, value in wanted.items() if key not in present)
    if not added:
        return url
    kept = "&".join(parameters)
    joiner = "&" if kept and not kept.endswith("&") else ""
    return f"{path}?{kept}{joiner}{added}{hash_sign}{fragment}"


def add_utm(
    text: str,
    *,
    source: str,
    medium: str = "social",
    campaign: str,
    content: str = "",
    override: bool = False,
) -> str:
    """`text` with `utm_source`, `utm_medium`, `utm_campaign` (and `utm_content`) on every http(s) link."""
    if not source.strip() or not campaign.strip() or not medium.strip():
        raise ValueError("add_utm needs a source, a medium and a campaign")
    wanted = {SOURCE: source, MEDIUM: medium, CAMPAIGN: campaign}
    if content:
        wanted[CONTENT] = content
    pieces = []
    position = 0
    for link in find_links(text):
        pieces += [text[position : link.start], _tag(link.text, wanted, override)]
        position = link.end
    pieces.append(text[position:])
    return "".join(pieces)
