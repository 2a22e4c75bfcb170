"""Revoking a channel's token on its instance (a compromised account), against the spec server."""

from __future__ import annotations

import pytest

from tertulia.connectors.base import ChannelAccount, NotSupported
from tertulia.connectors.mastodon.connector import MastodonConnector
from tertulia.connectors.mastodon.tests.fake import TOKEN
from tertulia.core.actions.context import Actor
from tertulia.vault.actions import register_app


def test_the_token_is_revoked_with_tertulias_registration(connector, server, mastodon):
    app = mastodon.register("https://tertulia.example/callback")
    register_app(
        Actor.system("test"),
        "mastodon",
        app["client_id"],
        {"client_secret": app["client_secret"]},
        server.url,
    )
    connector.revoke_access()
    [request] = server.requests_for("postOauthRevoke")
    assert request.json() == {
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "token": TOKEN,
    }
    assert mastodon.revoked == [TOKEN]


def test_without_a_registration_there_is_no_way_to_revoke(connector, server):
    with pytest.raises(NotSupported):
        connector.revoke_access()
    assert server.requests_for("postOauthRevoke") == []


def test_a_channel_without_a_token_has_nothing_to_revoke(db, server):
    MastodonConnector(
        ChannelAccount(handle="brand@mastodon.example", credentials={}, settings={"base_url": server.url})
    ).revoke_access()
    assert server.requests_for("postOauthRevoke") == []
