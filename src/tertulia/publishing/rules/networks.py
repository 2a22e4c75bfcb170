"""Each network's text and image rules, as the composer checks them while a person writes.

The numbers and counting functions come from the connectors, never copied: the composer must
refuse exactly what a connector would refuse at publish time, or a post approved today fails
at 3 a.m. Connectors load lazily (as in the registry): Bluesky's pulls in the atproto SDK, and
a page that checks only Mastodon text should not pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.connectors.base import Capability, Connector
from tertulia.connectors.registry import CONNECTORS, connector_class
from tertulia.publishing.rules import entities
from tertulia.publishing.rules.placements import Placement

# Mastodon's default `max_media_attachments`; an instance may allow more (as with its 500 characters).
MASTODON_MAX_IMAGES = 4
# Instagram refuses a caption with more than 20 @mentions (its Content Publishing limits).


class CountUnit(StrEnum):
    CHARACTERS = "characters"
    GRAPHEMES = "graphemes"
    WEIGHTED_CHARACTERS = "weighted_characters"

    @property
    def label(self) -> Promise:
        return _UNIT_LABELS[self]


_UNIT_LABELS: dict[CountUnit, Promise] = {
    CountUnit.CHARACTERS: _lazy("characters"),
    CountUnit.GRAPHEMES: _lazy("graphemes"),
    CountUnit.WEIGHTED_CHARACTERS: _lazy("weighted characters"),
}


@dataclass(frozen=True)
class NetworkRules:
    network: str  # the registry's key
    display_name: str
    max_length: int
    unit: CountUnit
    count: Callable[[str], int]  # the length of a text in `unit`, as the network counts it
    max_images: int  # 0: the network takes no images here
    alt_text: bool  # images can carry a description
    default_placement: Placement | None  # None where no image can be posted
    placements: tuple[Placement, ...]
    max_hashtags: int | None = None  # None: no limit
    max_mentions: int | None = None
    image_required: bool = False
    max_bytes: int | None = None  # a second limit, in UTF-8 bytes (Bluesky's lexicon)
    refused_characters: frozenset[str] = frozenset()  # the network refuses any text holding one
    find_hashtags: Callable[[str], list[entities.Entity]] = entities.find_hashtags


class NoRules(LookupError):
    """The network publishes nothing (feeds are read-only) or does not exist."""


def _from_connector(cls: type[Connector], *, max_images: int) -> NetworkRules:
    """Rules whose name, length limit and alt-text support are the connector's own; `replace` the rest."""
    images = max_images > 0
    return NetworkRules(
        network=cls.network,
        display_name=cls.display_name,
        max_length=cls.max_text_length,
        unit=CountUnit.CHARACTERS,
        count=len,  # code points, as the connectors' own `len()` checks count them
        max_images=max_images,
        alt_text=images and cls.supports(Capability.ALT_TEXT),
        default_placement=Placement.LANDSCAPE if images else None,
        placements=tuple(Placement) if images else (),
    )


def _sandbox() -> NetworkRules:
    from tertulia.connectors.sandbox.connector import SandboxConnector
    from tertulia.connectors.sandbox.validation import MAX_MEDIA_PER_POST

    return _from_connector(SandboxConnector, max_images=MAX_MEDIA_PER_POST)


def _bluesky() -> NetworkRules:
    from tertulia.connectors.bluesky import connector
    from tertulia.connectors.bluesky.text import grapheme_count

    return replace(
        _from_connector(connector.BlueskyConnector, max_images=connector.MAX_IMAGES),
        unit=CountUnit.GRAPHEMES,
        count=grapheme_count,
        max_bytes=connector.MAX_TEXT_BYTES,
    )


def _mastodon() -> NetworkRules:
    from tertulia.connectors.mastodon.connector import MastodonConnector
    from tertulia.connectors.mastodon.parsing import status_length

    # status_length counts every link as 23 and "@ana@mastodon.social" as "@ana", as Mastodon does.
    return replace(_from_connector(MastodonConnector, max_images=MASTODON_MAX_IMAGES), count=status_length)


def _x() -> NetworkRules:
    from tertulia.connectors.x import counting, media
    from tertulia.connectors.x.connector import XConnector

    return replace(
        _from_connector(XConnector, max_images=media.MAX_IMAGES),
        unit=CountUnit.WEIGHTED_CHARACTERS,
        count=counting.weighted_length,
        # Byte-order marks and direction overrides: X refuses the whole post (twitter-text).
        refused_characters=counting.INVALID_CHARACTERS,
    )


def _facebook() -> NetworkRules:
    from tertulia.connectors.meta.facebook import MAX_PHOTOS, FacebookPageConnector

    return _from_connector(FacebookPageConnector, max_images=MAX_PHOTOS)


def _instagram() -> NetworkRules:
    from tertulia.connectors.meta.instagram import (
        MAX_CAROUSEL,
        MAX_HASHTAGS,
        MAX_MENTIONS,
        InstagramConnector,
    )

    return replace(
        _from_connector(InstagramConnector, max_images=MAX_CAROUSEL),
        image_required=True,
        max_hashtags=MAX_HASHTAGS,
        max_mentions=MAX_MENTIONS,
        find_hashtags=entities.find_caption_hashtags,
        # The feed crops to 1:1 unless told otherwise; it shows 4:5 to 1.91:1, and 9:16 in stories.
        default_placement=Placement.SQUARE,
        placements=(Placement.SQUARE, Placement.PORTRAIT, Placement.LANDSCAPE, Placement.STORY),
    )


def _linkedin() -> NetworkRules:
    from tertulia.connectors.linkedin.connector import MAX_IMAGES, LinkedInConnector

    return _from_connector(LinkedInConnector, max_images=MAX_IMAGES)


def _wordpress() -> NetworkRules:
    from tertulia.connectors.wordpress.connector import WordPressConnector

    # Replies to comments only: text, no images.
    return _from_connector(WordPressConnector, max_images=0)


_BUILDERS: dict[str, Callable[[], NetworkRules]] = {
    "sandbox": _sandbox,
    "bluesky": _bluesky,
    "mastodon": _mastodon,
    "x": _x,
    "facebook": _facebook,
    "instagram": _instagram,
    "linkedin": _linkedin,
    "wordpress": _wordpress,
}


def publishing_networks() -> list[str]:
    """The networks the composer can write for, in the registry's order."""
    return list(_BUILDERS)


@functools.cache
def rules_for(network: str) -> NetworkRules:
    builder = _BUILDERS.get(network)
    if builder is None:
        if network in CONNECTORS:
            name = connector_class(network).display_name
            raise NoRules(
                _("%(network)s does not publish posts, so it has no text rules.") % {"network": name}
            )
        raise NoRules(_("There is no network called %(network)s.") % {"network": network})
    return builder()
