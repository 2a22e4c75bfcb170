from __future__ import annotations

import pytest

from tertulia.connectors.mastodon.tests.fake import FakeMastodon
from tertulia.connectors.tests.contract import ConnectorContract


class MastodonHarness:
    """Customers act by changing the fake instance's state behind the spec server."""

    def __init__(self, mastodon: FakeMastodon) -> None:
        self.mastodon = mastodon

    def deliver_inbound(self, count: int) -> None:
        self.mastodon.deliver(count)

    def other_author_id(self) -> str:
        return str(self.mastodon.customer["id"])

    def foreign_post_id(self) -> str:
        return str(self.mastodon.status(self.mastodon.customer, "@brand look")["id"])


@pytest.fixture
def harness(mastodon) -> MastodonHarness:
    return MastodonHarness(mastodon)


@pytest.mark.django_db
class TestMastodonContract(ConnectorContract):
    """Over real HTTP, every request validated against the official spec (see conftest)."""
