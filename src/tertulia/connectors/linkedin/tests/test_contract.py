from __future__ import annotations

import pytest

from tertulia.connectors.base import Capability, Connector, NotSupported
from tertulia.connectors.linkedin.tests.fake import FakeLinkedIn
from tertulia.connectors.tests.contract import ConnectorContract


class LinkedInHarness:
    def __init__(self, linkedin: FakeLinkedIn) -> None:
        self.linkedin = linkedin
        self.post = linkedin.add_post("Our post that people comment on")

    def deliver_inbound(self, count: int) -> None:
        for n in range(count):
            self.linkedin.add_comment(self.post["id"], f"Comment {n}")

    def other_author_id(self) -> str:
        return "urn:li:person:8675309"

    def foreign_post_id(self) -> str:
        return str(self.linkedin.add_post("Someone else's", author="urn:li:organization:999")["id"])


@pytest.fixture
def harness(linkedin) -> LinkedInHarness:
    return LinkedInHarness(linkedin)


class TestLinkedInContract(ConnectorContract):
    """Over real HTTP against the checking fake. LinkedIn reads COMMENTS, not mentions: the
    contract's READ_MENTIONS checks are run against READ_COMMENTS (reported upstream)."""

    def _needs(self, connector: Connector, capability: Capability) -> None:
        if capability is Capability.READ_MENTIONS:
            capability = Capability.READ_COMMENTS
        super()._needs(connector, capability)

    def test_undeclared_capabilities_refuse(self, connector):
        assert connector.supports(Capability.READ_COMMENTS)
        for capability, call in {
            Capability.DIRECT_MESSAGES: lambda: connector.send_direct_message("1", "x"),
            Capability.HIDE: lambda: connector.hide("1"),
            Capability.BLOCK: lambda: connector.block("1"),
            Capability.MUTE: lambda: connector.mute("1"),
        }.items():
            assert not connector.supports(capability)
            with pytest.raises(NotSupported):
                call()
