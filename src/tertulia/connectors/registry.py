"""One map from network name to connector class (Chatwoot's channel → sender map).

Import paths rather than imports, so a connector's dependencies load only when
the network is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from tertulia.connectors.base import ChannelAccount, Connector

if TYPE_CHECKING:
    from tertulia.core.models import Channel

CONNECTORS: dict[str, str] = {
    "sandbox": "tertulia.connectors.sandbox.connector.SandboxConnector",
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


def connector_for(channel: Channel) -> Connector:
    cls = connector_class(channel.network)
    return cls(
        ChannelAccount(handle=channel.handle, external_id=channel.external_id, settings=channel.settings)
    )
