"""A WordPress site's address is typed by a person: the outbound guard decides what it may reach."""

from __future__ import annotations

import pytest

from tertulia.connectors.base import ContentRejected
from tertulia.connectors.wordpress.connector import WordPressConnector
from tertulia.connectors.wordpress.tests.fake import APP_PASSWORD, USERNAME


def test_a_site_on_a_private_address_is_refused_unless_allowed(site, settings):
    settings.TERTULIA_OUTBOUND_ALLOW = ""
    with pytest.raises(ContentRejected, match="private or reserved"):
        WordPressConnector.connect_with_password(USERNAME, APP_PASSWORD, site.url)
    port = site.url.rsplit(":", 1)[1]
    settings.TERTULIA_OUTBOUND_ALLOW = f"*:{port}"  # the port alone opens public addresses only
    for address in (site.url, f"http://localhost:{port}"):
        with pytest.raises(ContentRejected, match="private or reserved"):
            WordPressConnector.connect_with_password(USERNAME, APP_PASSWORD, address)
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{port}"
    assert WordPressConnector.connect_with_password(USERNAME, APP_PASSWORD, site.url).info.external_id
