"""The issue's promise, end to end: connect a Bluesky account from Settings and see its mentions in the inbox.

Runs through the real web views (sign-in session, CSRF-exempt test client posting the
same form a person fills in) against the Bluesky reference servers.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tertulia.connectors.bluesky.tests.conftest import Devnet
from tertulia.core.models import Channel, User
from tertulia.core.tests.factories import make_brand, make_org, make_user
from tertulia.inbox.ingest import poller
from tertulia.vault.models import Credential
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_connect_bluesky_from_settings_and_see_its_mentions(devnet: Devnet) -> None:
    owner: User = make_user()
    brand = make_brand(make_org(owner=owner), "Marca en Bluesky")
    brand_account = devnet.create_account("marca")
    customer = devnet.create_account("clienta")
    client = signed_in(owner)
    app_password = devnet.app_password(brand_account)

    response = client.post(
        reverse("web:channel-connect"),
        {
            "network": "bluesky",
            "handle": brand_account.handle,
            "password": app_password,
            "server": devnet.pds,
        },
        follow=True,
    )
    assert response.status_code == 200
    channel = Channel.objects.get(network="bluesky", brand=brand)
    assert channel.external_id == brand_account.did
    assert Credential.objects.filter(channel=channel).exists()
    assert app_password not in response.content.decode()

    customer.post(f"Hola @{brand_account.handle}, ¿hacéis envíos a Canarias? 🏝️")
    devnet.process_all()
    # What a worker's ticker does: read the channel into the inbox through the pipeline.
    poller.ensure_cursors()
    assert [poller.poll(cursor_id) for cursor_id in poller.claim_due()] == [1]

    activity = client.get(reverse("web:inbox-activity")).content.decode()
    assert "hacéis envíos a Canarias" in activity
    assert customer.handle in activity
