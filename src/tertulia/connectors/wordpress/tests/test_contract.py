from __future__ import annotations

import pytest

from tertulia.connectors.base import Capability, Connector, NotSupported, OutgoingPost
from tertulia.connectors.tests.contract import ConnectorContract
from tertulia.connectors.wordpress.tests.fake import FakeWordPress


class WordPressHarness:
    def __init__(self, site: FakeWordPress) -> None:
        self.site = site

    def deliver_inbound(self, count: int) -> None:
        for n in range(count):
            self.site.add_comment(f"Comentario {n}")

    def other_author_id(self) -> str:
        return "guest:Ana"

    def foreign_post_id(self) -> str:
        return str(self.site.add_comment("Un comentario ajeno")["id"])


@pytest.fixture
def harness(site) -> WordPressHarness:
    return WordPressHarness(site)


class TestWordPressContract(ConnectorContract):
    """Over real HTTP against the strict local fake (conftest).

    The shared contract reads inbound only for READ_MENTIONS and deletes a post it
    publishes; a comments-only connector reads COMMENTS and publishes no posts, so two
    checks are adapted here (reported upstream: the contract should accept any READ_*).
    """

    def _needs(self, connector: Connector, capability: Capability) -> None:
        if capability is Capability.READ_MENTIONS:
            capability = Capability.READ_COMMENTS
        super()._needs(connector, capability)

    def test_undeclared_capabilities_refuse(self, connector):
        assert connector.supports(Capability.READ_COMMENTS)
        for capability, call in {
            Capability.PUBLISH_TEXT: lambda: connector.publish(OutgoingPost(text="x")),
            Capability.DIRECT_MESSAGES: lambda: connector.send_direct_message("1", "x"),
            Capability.BLOCK: lambda: connector.block("1"),
            Capability.MUTE: lambda: connector.mute("1"),
            Capability.POST_METRICS: lambda: connector.post_metrics(["1"]),
            Capability.ACCOUNT_METRICS: lambda: connector.account_metrics(),
            Capability.FIND_OWN_POST: lambda: connector.find_own_post("k"),
        }.items():
            assert not connector.supports(capability)
            with pytest.raises(NotSupported):
                call()

    def test_hide_and_delete(self, connector, harness):
        own = connector.publish(OutgoingPost(text="Gracias", reply_to=harness.foreign_post_id()))
        connector.delete(own.remote_id)
        connector.hide(harness.foreign_post_id())
