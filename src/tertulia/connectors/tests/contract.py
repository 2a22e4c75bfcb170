"""The connector contract: behaviour every connector must show, whatever its network.

A connector's tests subclass `ConnectorContract` (name it `Test...`) and provide
two fixtures: `connector`, an instance acting as a connected account, and
`harness`, a `ContractHarness` that makes the network do things the connector
cannot (deliver inbound messages, produce another author). Tests only run for
the capabilities the connector declares; for the others they check that it
refuses with NotSupported, so a declaration and an implementation cannot drift.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

import pytest

from tertulia.connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    ContentRejected,
    InboundItem,
    InboundKind,
    NotSupported,
    OutgoingPost,
)


class ContractHarness(Protocol):
    def deliver_inbound(self, count: int) -> None:
        """Make `count` new messages (of any kind) reach the connector's account."""

    def other_author_id(self) -> str:
        """The remote id of another account that may be blocked or muted."""

    def foreign_post_id(self) -> str:
        """The remote id of a post by another account, addressed to the connector's account."""


def _key() -> str:
    return f"contract-{uuid.uuid4().hex}"


def _drain(connector: Connector, cursor: str | None, limit: int = 7) -> tuple[list[InboundItem], str]:
    items: list[InboundItem] = []
    for _ in range(1000):
        page = connector.fetch_inbound(cursor, limit=limit)
        assert page.cursor is not None
        if not page.items:
            return items, page.cursor
        items.extend(page.items)
        cursor = page.cursor
    raise AssertionError("fetch_inbound never ran dry")


READING = (
    Capability.READ_MENTIONS,
    Capability.READ_REPLIES,
    Capability.READ_QUOTES,
    Capability.READ_COMMENTS,
    Capability.READ_DIRECT_MESSAGES,
)


class ConnectorContract:
    """Subclass me with `connector` and `harness` fixtures."""

    def _needs(self, connector: Connector, capability: Capability) -> None:
        if not connector.supports(capability):
            pytest.skip(f"{connector.network} does not declare {capability}")

    def _needs_reading(self, connector: Connector) -> None:
        """Reading is one interface (fetch_inbound) whatever a network calls what it reads."""
        if not any(connector.supports(c) for c in READING):
            pytest.skip(f"{connector.network} reads nothing inbound")

    # -- declaration

    def test_declares_identity(self, connector):
        assert connector.network and connector.display_name
        assert all(isinstance(c, Capability) for c in connector.capabilities)
        if connector.supports(Capability.PUBLISH_TEXT):
            assert connector.max_text_length > 0

    def test_undeclared_capabilities_refuse(self, connector):
        calls: dict[Capability, Callable[[], object]] = {
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
        if not any(connector.supports(c) for c in READING):
            with pytest.raises(NotSupported):
                connector.fetch_inbound(None)

    # -- publishing

    def test_publish_returns_a_findable_post(self, connector):
        self._needs(connector, Capability.PUBLISH_TEXT)
        published = connector.publish(OutgoingPost(text="Contract test post 🎉"))
        assert published.remote_id
        assert published.created_at.tzinfo is not None

    def test_publish_rejects_text_over_the_limit(self, connector):
        self._needs(connector, Capability.PUBLISH_TEXT)
        with pytest.raises(ContentRejected):
            connector.publish(OutgoingPost(text="a" * (connector.max_text_length + 1)))
        connector.publish(OutgoingPost(text="a" * connector.max_text_length))

    def test_idempotent_publish_and_find_own_post(self, connector):
        self._needs(connector, Capability.IDEMPOTENT_PUBLISH)
        key = _key()
        first = connector.publish(OutgoingPost(text="Once only", idempotency_key=key))
        again = connector.publish(OutgoingPost(text="Once only", idempotency_key=key))
        assert again.remote_id == first.remote_id
        if connector.supports(Capability.FIND_OWN_POST):
            found = connector.find_own_post(key)
            assert found is not None and found.remote_id == first.remote_id
            assert connector.find_own_post(_key()) is None

    def test_reply_and_thread(self, connector):
        self._needs(connector, Capability.THREADS)
        head = connector.publish(OutgoingPost(text="1/2"))
        tail = connector.publish(OutgoingPost(text="2/2", reply_to=head.remote_id))
        assert tail.remote_id != head.remote_id

    def test_quote(self, connector, harness):
        self._needs(connector, Capability.QUOTE)
        quoted = connector.publish(OutgoingPost(text="Quoting this", quote_of=harness.foreign_post_id()))
        assert quoted.remote_id

    # -- reading

    def test_first_read_returns_recent_items_and_a_cursor(self, connector, harness):
        self._needs_reading(connector)
        harness.deliver_inbound(5)
        page = connector.fetch_inbound(None, limit=3)
        assert len(page.items) == 3
        assert page.cursor is not None
        assert all(isinstance(i.kind, InboundKind) for i in page.items)
        assert all(i.remote_id and i.author.remote_id and i.created_at.tzinfo for i in page.items)

    def test_cursor_pages_lose_nothing_and_repeat_nothing(self, connector, harness):
        self._needs_reading(connector)
        start = connector.fetch_inbound(None, limit=1).cursor
        harness.deliver_inbound(23)
        items, cursor = _drain(connector, start)
        ids = [i.remote_id for i in items]
        assert len(ids) == len(set(ids)) >= 23
        harness.deliver_inbound(4)
        more, _cursor = _drain(connector, cursor)
        assert len(more) >= 4
        assert not {i.remote_id for i in more} & set(ids)

    def test_conversation_keys(self, connector, harness):
        self._needs_reading(connector)
        harness.deliver_inbound(3)
        assert all(i.conversation_key for i in connector.fetch_inbound(None, limit=3).items)

    # -- moderation

    def test_block_and_mute_accept_another_author(self, connector, harness):
        for capability, call in ((Capability.BLOCK, connector.block), (Capability.MUTE, connector.mute)):
            if connector.supports(capability):
                call(harness.other_author_id())
                call(harness.other_author_id())  # twice is fine

    def test_hide_and_delete(self, connector, harness):
        self._needs(connector, Capability.DELETE)
        own = connector.publish(OutgoingPost(text="Will be deleted"))
        connector.delete(own.remote_id)
        if connector.supports(Capability.HIDE):
            connector.hide(harness.foreign_post_id())

    # -- metrics and limits

    def test_metrics(self, connector):
        self._needs(connector, Capability.ACCOUNT_METRICS)
        metrics = connector.account_metrics()
        assert metrics.followers >= 0 and metrics.following >= 0 and metrics.posts >= 0
        if connector.supports(Capability.POST_METRICS) and connector.supports(Capability.PUBLISH_TEXT):
            published = connector.publish(OutgoingPost(text="Measure me"))
            [row] = connector.post_metrics([published.remote_id])
            assert row.remote_id == published.remote_id
            assert row.likes >= 0 and row.reposts >= 0 and row.replies >= 0

    def test_rate_limit_state(self, connector):
        self._needs(connector, Capability.RATE_LIMIT_STATE)
        state = connector.rate_limit_state()
        assert state is not None
        assert 0 <= state.remaining <= state.limit
        assert state.resets_at.tzinfo is not None

    def test_errors_are_typed(self, connector):
        self._needs(connector, Capability.DELETE)
        with pytest.raises(ConnectorError):
            connector.delete("no-such-post-anywhere")
