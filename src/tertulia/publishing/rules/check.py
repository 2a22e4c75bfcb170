"""Check a post's text for one network while it is being written: what is wrong, what looks risky.

Errors are what the network (or its connector) would refuse; warnings are what it would take
but a careful community manager wants to know about. Nothing here changes the text: invisible
characters are reported, never stripped, because some are meant (a ZWJ inside an emoji, an RTL
mark in an Arabic sentence) and silently editing a client's approved copy is worse than asking.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tertulia.publishing.rules.entities import Entity, find_links, find_mentions
from tertulia.publishing.rules.networks import CountUnit, NetworkRules, rules_for

# Zero-width and direction controls: they can hide or reorder text (Trojan Source, spoofed links).
INVISIBLE_CONTROLS = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)


@dataclass(frozen=True)
class TextCheck:
    length: int  # in `unit`, as the network counts
    limit: int
    unit: CountUnit
    remaining: int  # negative when over the limit
    hashtags: tuple[Entity, ...]
    mentions: tuple[Entity, ...]
    links: tuple[Entity, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def _over_limit(rules: NetworkRules, over: int) -> str:
    # One whole sentence per unit, so each language can decline the noun with the number.
    values = {"count": over, "network": rules.display_name, "limit": rules.max_length}
    if rules.unit is CountUnit.GRAPHEMES:
        message = ngettext(
            "This text is %(count)d grapheme over %(network)s's limit of %(limit)d.",
            "This text is %(count)d graphemes over %(network)s's limit of %(limit)d.",
            over,
        )
    elif rules.unit is CountUnit.WEIGHTED_CHARACTERS:
        message = ngettext(
            "This text is %(count)d weighted character over %(network)s's limit of %(limit)d.",
            "This text is %(count)d weighted characters over %(network)s's limit of %(limit)d.",
            over,
        )
    else:
        message = ngettext(
            "This text is %(count)d character over %(network)s's limit of %(limit)d.",
            "This text is %(count)d characters over %(network)s's limit of %(limit)d.",
            over,
        )
    return message % values


def _unencodable(text: str) -> list[str]:
    """What no network accepts: text a database or a UTF-8 request body cannot hold."""
    errors = []
    if "\x00" in text:
        errors.append(_("The text contains a NUL character, which no network accepts."))
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        errors.append(_("The text contains unpaired surrogates (broken Unicode), which no network accepts."))
    return errors


def _limits(rules: NetworkRules, text: str, length: int, hashtags: int, mentions: int) -> list[str]:
    errors = []
    if length > rules.max_length:
        errors.append(_over_limit(rules, length - rules.max_length))
    if rules.max_bytes is not None:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > rules.max_bytes:
            errors.append(
                ngettext(
                    "This text takes %(count)d byte; %(network)s stores at most %(limit)d.",
                    "This text takes %(count)d bytes; %(network)s stores at most %(limit)d.",
                    size,
                )
                % {"count": size, "network": rules.display_name, "limit": rules.max_bytes}
            )
    if rules.max_hashtags is not None and hashtags > rules.max_hashtags:
        errors.append(
            ngettext(
                "%(network)s allows at most %(limit)d hashtag per post; this one has %(count)d.",
                "%(network)s allows at most %(limit)d hashtags per post; this one has %(count)d.",
                rules.max_hashtags,
            )
            % {"network": rules.display_name, "limit": rules.max_hashtags, "count": hashtags}
        )
    if rules.max_mentions is not None and mentions > rules.max_mentions:
        errors.append(
            ngettext(
                "%(network)s allows at most %(limit)d mention per post; this one has %(count)d.",
                "%(network)s allows at most %(limit)d mentions per post; this one has %(count)d.",
                rules.max_mentions,
            )
            % {"network": rules.display_name, "limit": rules.max_mentions, "count": mentions}
        )
    refused = sorted({char for char in text if char in rules.refused_characters})
    if refused:
        errors.append(
            ngettext(
                "%(network)s refuses text with this invisible character: %(characters)s. Remove it.",
                "%(network)s refuses text with these invisible characters: %(characters)s. Remove them.",
                len(refused),
            )
            % {"network": rules.display_name, "characters": ", ".join(f"U+{ord(c):04X}" for c in refused)}
        )
    return errors


def _images(rules: NetworkRules, text: str, image_count: int) -> list[str]:
    values = {"network": rules.display_name, "limit": rules.max_images, "count": image_count}
    if image_count > rules.max_images:
        if rules.max_images == 0:
            return [_("%(network)s posts cannot carry images here.") % values]
        return [
            ngettext(
                "%(network)s takes at most %(limit)d image per post; this one has %(count)d.",
                "%(network)s takes at most %(limit)d images per post; this one has %(count)d.",
                rules.max_images,
            )
            % values
        ]
    if image_count == 0 and rules.image_required:
        return [_("%(network)s posts need at least one image.") % values]
    if image_count == 0 and not text.strip():
        if rules.max_images == 0:
            return [_("The post is empty: write some text.")]
        return [_("The post is empty: write some text or add an image.")]
    return []


def _warnings(rules: NetworkRules, text: str, image_count: int, images_missing_alt: int) -> list[str]:
    warnings = []
    missing = min(images_missing_alt, image_count)
    if rules.alt_text and missing > 0:
        warnings.append(
            ngettext(
                "%(count)d image has no description (alt text); people using screen readers will miss it.",
                "%(count)d images have no description (alt text); "
                "people using screen readers will miss them.",
                missing,
            )
            % {"count": missing}
        )
    # Those the network refuses are already errors.
    invisible = sum(1 for char in text if char in INVISIBLE_CONTROLS and char not in rules.refused_characters)
    if invisible:
        warnings.append(
            ngettext(
                "The text contains %(count)d invisible zero-width or text-direction character; "
                "make sure it is meant to be there.",
                "The text contains %(count)d invisible zero-width or text-direction characters; "
                "make sure they are meant to be there.",
                invisible,
            )
            % {"count": invisible}
        )
    return warnings


def check_text(network: str, text: str, *, image_count: int = 0, images_missing_alt: int = 0) -> TextCheck:
    """How `text` (with `image_count` images, `images_missing_alt` of them undescribed) fares on `network`.

    Raises `NoRules` (a LookupError) for a network that cannot publish.
    """
    rules = rules_for(network)
    length = rules.count(text)
    hashtags = tuple(rules.find_hashtags(text))
    mentions = tuple(find_mentions(text))
    errors = [
        *_unencodable(text),
        *_limits(rules, text, length, len(hashtags), len(mentions)),
        *_images(rules, text, image_count),
    ]
    return TextCheck(
        length=length,
        limit=rules.max_length,
        unit=rules.unit,
        remaining=rules.max_length - length,
        hashtags=hashtags,
        mentions=mentions,
        links=tuple(find_links(text)),
        errors=tuple(errors),
        warnings=tuple(_warnings(rules, text, image_count, images_missing_alt)),
    )
