"""What each channel of a post would make of it, while it is being written.

One verdict per target channel: the text as it will be sent (the variant's own or the post's,
with UTM tags), how the network counts it, and every error and warning. The composer shows these
as the person types, review refuses a post with errors, and scheduling freezes the payload only
when there are none: the three use this one function, so what the composer says is what
scheduling does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from tertulia.connectors.base import Capability
from tertulia.connectors.registry import UnknownNetwork, connector_class
from tertulia.core.models import Channel, ChannelStatus
from tertulia.publishing.models import MediaAsset, Post, PostMedia, Variant
from tertulia.publishing.rules.check import TextCheck, check_text
from tertulia.publishing.rules.networks import NetworkRules, NoRules, rules_for
from tertulia.publishing.rules.placements import Placement
from tertulia.publishing.rules.utm import add_utm


@dataclass(frozen=True)
class VariantDraft:
    """A target channel as the composer holds it: the channel, its own text (empty: the post's)."""

    channel: Channel
    text: str = ""
    placement: str = ""


@dataclass(frozen=True)
class ChannelVerdict:
    channel: Channel
    network_name: str
    text: str  # as it will be sent: the variant's own text or the post's, UTM tags added
    own_text: bool
    check: TextCheck | None  # None where the network cannot publish at all
    placement: Placement | None  # the shape images are cropped to on this channel
    placements: tuple[Placement, ...]  # the shapes this network takes
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def sent_text(post_text: str, variant_text: str, network: str, utm_campaign: str) -> str:
    text = variant_text or post_text
    if utm_campaign:
        text = add_utm(text, source=network, campaign=utm_campaign)
    return text


def _placement(rules: NetworkRules, chosen: str, errors: list[str]) -> Placement | None:
    if not chosen:
        return rules.default_placement
    try:
        placement = Placement(chosen)
    except ValueError:
        errors.append(_("Choose an image format from the list."))
        return rules.default_placement
    if placement not in rules.placements:
        errors.append(
            _("%(network)s does not show images as %(format)s.")
            % {"network": rules.display_name, "format": placement.label}
        )
        return rules.default_placement
    return placement


def verdict_for(
    variant: VariantDraft, post_text: str, utm_campaign: str, media: Sequence[MediaAsset]
) -> ChannelVerdict:
    channel = variant.channel
    network = channel.network
    text = sent_text(post_text, variant.text, network, utm_campaign)
    try:
        connector = connector_class(network)
    except UnknownNetwork:
        return ChannelVerdict(
            channel=channel,
            network_name=network,
            text=text,
            own_text=bool(variant.text),
            check=None,
            placement=None,
            placements=(),
            errors=(_("Tertulia has no connector for %(network)s any more.") % {"network": network},),
            warnings=(),
        )
    errors: list[str] = []
    warnings: list[str] = []
    if channel.status in (ChannelStatus.NEEDS_RECONNECT, ChannelStatus.DISCONNECTED):
        errors.append(
            _("@%(handle)s needs reconnecting: Tertulia can no longer publish on it.")
            % {"handle": channel.handle}
        )
    elif channel.status == ChannelStatus.PAUSED:
        warnings.append(
            _("@%(handle)s is paused: resume it before the post is due, or its delivery will fail.")
            % {"handle": channel.handle}
        )
    # Whether the network can publish anything from here (WordPress only answers comments); what it
    # needs besides (Instagram: an image) is the rules' to say.
    publishes = connector.supports(Capability.PUBLISH_TEXT) or connector.supports(Capability.PUBLISH_IMAGES)
    try:
        rules = rules_for(network)
    except NoRules:
        rules = None
    if not publishes or rules is None:
        errors.append(
            _("%(network)s cannot publish this kind of post from Tertulia.")
            % {"network": connector.display_name}
        )
        return ChannelVerdict(
            channel=channel,
            network_name=connector.display_name,
            text=text,
            own_text=bool(variant.text),
            check=None,
            placement=None,
            placements=(),
            errors=tuple(errors),
            warnings=(),
        )
    missing_alt = sum(1 for asset in media if not asset.alt_text.strip())
    check = check_text(network, text, image_count=len(media), images_missing_alt=missing_alt)
    errors.extend(check.errors)
    warnings.extend(check.warnings)
    placement = _placement(rules, variant.placement, errors) if media else None
    return ChannelVerdict(
        channel=channel,
        network_name=rules.display_name,
        text=text,
        own_text=bool(variant.text),
        check=check,
        placement=placement,
        placements=rules.placements,
        errors=tuple(dict.fromkeys(errors)),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def verdicts(
    post_text: str, utm_campaign: str, variants: Sequence[VariantDraft], media: Sequence[MediaAsset]
) -> list[ChannelVerdict]:
    return [verdict_for(variant, post_text, utm_campaign, media) for variant in variants]


def post_verdicts(post: Post) -> list[ChannelVerdict]:
    """The verdicts for a saved post, its variants and images as they are."""
    variants = [
        VariantDraft(variant.channel, variant.text, variant.placement)
        for variant in Variant.objects.filter(post=post).select_related("channel")
    ]
    media = [item.asset for item in PostMedia.objects.filter(post=post).select_related("asset")]
    return verdicts(post.text, post.utm_campaign, variants, media)


def blocking_errors(post: Post) -> list[str]:
    """Every reason the post cannot go out as it is, each naming its channel."""
    found = [
        f"@{verdict.channel.handle}: {error}" for verdict in post_verdicts(post) for error in verdict.errors
    ]
    if not Variant.objects.filter(post=post).exists():
        found.append(_("Choose at least one channel to publish on."))
    return found
