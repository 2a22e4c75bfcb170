"""One map from network name to connector class (Chatwoot's channel → sender map).

Import paths rather than imports, so a connector's dependencies load only when
the network is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from tertulia.connectors.base import ChannelAccount, Connector

if TYPE_CHECKING:
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
def open_connector(channel: Channel) -> Iterator[Connector]:
    """A connector acting as the channel's account, its secrets decrypted only inside the block."""
    from tertulia.vault.actions import unlocked

    cls = connector_class(channel.network)
    with unlocked(channel) as secrets:
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
