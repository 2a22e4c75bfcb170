from __future__ import annotations

import pytest

from tertulia.connectors.base import Capability, Connector, MediaItem, NotSupported, OutgoingPost
from tertulia.connectors.meta.tests.fake_graph import FakeGraph
from tertulia.connectors.tests.contract import ConnectorContract


class FacebookHarness:
    """Customers comment on the Page's latest post on the fake Graph API."""

    def __init__(self, graph: FakeGraph) -> None:
        self.graph = graph

    def deliver_inbound(self, count: int) -> None:
        self.graph.deliver_comments(count)

    def other_author_id(self) -> str:
        return str(self.graph.customer["id"])

    def foreign_post_id(self) -> str:
        post = self.graph.posts[-1] if self.graph.posts else self.graph.page_post()
        return self.graph.comment(post, "Un comentario")


class InstagramHarness(FacebookHarness):
    def deliver_inbound(self, count: int) -> None:
        media = self.graph.media[0] if self.graph.media else self.graph.ig_media_item()
        for n in range(count):
            if n % 3 == 0:
                self.graph.tick()
            self.graph.ig_comment(media, f"Comentario {n}")

    def foreign_post_id(self) -> str:
        media = self.graph.media[0] if self.graph.media else self.graph.ig_media_item()
        return self.graph.ig_comment(media, "Un comentario")


class CommentsContract(ConnectorContract):
    """The shared contract reads inbound only under READ_MENTIONS; Meta's connectors read comments and
    DMs (READ_COMMENTS, READ_DIRECT_MESSAGES) through the same `fetch_inbound`, so the reading tests run
    under READ_COMMENTS here (as WordPress does; the contract should accept any READ_*)."""

    def _needs(self, connector: Connector, capability: Capability) -> None:
        if capability is Capability.READ_MENTIONS:
            capability = Capability.READ_COMMENTS
        super()._needs(connector, capability)

    def test_undeclared_capabilities_refuse(self, connector):
        assert connector.supports(Capability.READ_COMMENTS)
        calls = {
            Capability.PUBLISH_TEXT: lambda: connector.publish(OutgoingPost(text="x")),
            Capability.DIRECT_MESSAGES: lambda: connector.send_direct_message("1", "x"),
            Capability.HIDE: lambda: connector.hide("1"),
            Capability.DELETE: lambda: connector.delete("1"),
            Capability.BLOCK: lambda: connector.block("1"),
            Capability.MUTE: lambda: connector.mute("1"),
            Capability.POST_METRICS: lambda: connector.post_metrics(["1"]),
            Capability.ACCOUNT_METRICS: lambda: connector.account_metrics(),
            Capability.FIND_OWN_POST: lambda: connector.find_own_post("k"),
        }
        for capability, call in calls.items():
            if not connector.supports(capability):
                with pytest.raises(NotSupported):
                    call()


@pytest.mark.django_db
class TestFacebookContract(CommentsContract):
    @pytest.fixture
    def connector(self, facebook):
        return facebook

    @pytest.fixture
    def harness(self, graph):
        return FacebookHarness(graph)


@pytest.mark.django_db
class TestInstagramContract(CommentsContract):
    """Instagram publishes images only (no PUBLISH_TEXT); its publishing is tested in test_instagram.py."""

    @pytest.fixture
    def connector(self, instagram):
        return instagram

    @pytest.fixture
    def harness(self, graph):
        return InstagramHarness(graph)

    def test_hide_and_delete(self, connector, harness):
        # Instagram posts need an image and cannot be deleted through the API: a comment stands in.
        comment = harness.foreign_post_id()
        connector.hide(comment)
        connector.delete(comment)
        published = connector.publish(OutgoingPost(text="x", media=[MediaItem("image/jpeg", b"\xff\xd8")]))
        assert published.remote_id
