"""One map from network name to connector class (Chatwoot's channel → sender map).

Import paths rather than imports, so a connector's dependencies load only when
the network is used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

from tertulia.connectors.base import ChannelAccount, Connector

if TYPE_CHECKING:
    from tertulia.core.actions.context import Actor
    from tertulia.core.models import Channel

CONNECTORS: dict[str, str] = {
    "sandbox": "tertulia.connectors.sandbox.connector.SandboxConnector",
    "bluesky": "tertulia.connectors.bluesky.connector.BlueskyConnector",
    "mastodon": "tertulia.connectors.mastodon.connector.MastodonConnector",
    "x": "tertulia.connectors.x.connector.XConnector",
    "facebook": "tertulia.connectors.meta.connector.FacebookPageConnector",
    "instagram": "tertulia.connectors.meta.connector.InstagramConnector",
    "linkedin": "tertulia.connectors.linkedin.connector.LinkedInConnector",
    "feeds": "tertulia.connectors.feeds.connector.FeedConnector",
    "wordpress": "tertulia.connectors.wordpress.connector.WordPressConnector",
}


class UnknownNetwork(LookupError):
    pass


def networks() -> list[str]:
    return sorted(CONNECTORS)


def connector_class(network: str) -> type[Connector]:
    try:
        path = CONNECTORS[network]
    except KeyError:
        raise UnknownNetwork(network) from None
    cls: type[Connector] = import_string(path)
    return cls


@contextmanager
def open_connector(
    channel: Channel,
    purpose: str = "",
    actor: Actor | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Iterator[Connector]:
    """A connector acting as the channel's account, its secrets decrypted only inside the block.

    `purpose` (publish, reply, moderate, poll...), `actor` (the person it acts for, if any) and
    `detail` (what for: a post, a message) go to the audit trail's `credential.use` entry
    (tertulia.vault.usage)."""
    from tertulia.vault.actions import unlocked

    cls = connector_class(channel.network)
    with unlocked(channel, purpose, actor, detail) as secrets:
        yield cls(
            ChannelAccount(
                handle=channel.handle,
                external_id=channel.external_id,
                credentials=secrets,
                settings=channel.settings,
            )
        )


def connector_for(channel: Channel) -> Connector:
    """A connector for a channel that needs no secrets (the sandbox); others use `open_connector`."""
    cls = connector_class(channel.network)
    return cls(
        ChannelAccount(handle=channel.handle, external_id=channel.external_id, settings=channel.settings)
    )
