from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    ConnectorError,
    ContentRejected,
    InboundKind,
    MediaItem,
    NotSupported,
    RateLimited,
    RemoteNotFound,
)
from tertulia.connectors.registry import connector_class
from tertulia.connectors.sandbox import limits, network
from tertulia.connectors.sandbox.connector import SandboxConnector
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxMedia, SandboxPost

from .conftest import PNG, publish

pytestmark = pytest.mark.django_db


def test_registry_maps_sandbox_to_this_connector():
    assert connector_class("sandbox") is SandboxConnector


def test_prepare_account_creates_a_brand_once():
    info = SandboxConnector.prepare_account("@Mi_Marca", "Mi Marca")
    assert (info.handle, info.display_name) == ("mi_marca", "Mi Marca")
    again = SandboxConnector.prepare_account("mi_marca")
    assert again.external_id == info.external_id
    assert SandboxAccount.objects.get(handle="mi_marca").is_brand


def test_prepare_account_rejects_bad_handles():
    with pytest.raises(ContentRejected, match="2 to 30 lowercase letters"):
        SandboxConnector.prepare_account("no spaces please")


def test_missing_or_replaced_account_needs_reconnecting(brand):
    with pytest.raises(AuthenticationFailed):
        SandboxConnector(ChannelAccount(handle="nadie_aqui")).verify_account()
    with pytest.raises(AuthenticationFailed):
        SandboxConnector(ChannelAccount(handle=brand.handle, external_id="999999")).verify_account()


def test_publish_text_is_stored_verbatim_and_too_long_is_rejected(connector):
    text = "<b>Hola</b> 👋\u200b " + "ñ" * 480
    post = SandboxPost.objects.get(pk=int(publish(connector, text)))
    assert post.text == text
    with pytest.raises(ContentRejected, match="501 characters"):
        publish(connector, "x" * 501)


def test_idempotent_publish_survives_deletion(connector):
    remote_id = publish(connector, "Una sola vez", idempotency_key="delivery-1")
    assert publish(connector, "Una sola vez", idempotency_key="delivery-1") == remote_id
    assert SandboxPost.objects.filter(idempotency_key="delivery-1").count() == 1
    connector.delete(remote_id)
    found = connector.find_own_post("delivery-1")
    assert found is not None and found.remote_id == remote_id
    assert connector.find_own_post("never-used") is None


def test_images_with_alt_text(connector):
    media = [MediaItem("image/png", PNG, alt_text="Una tarta de queso"), MediaItem("image/gif", b"GIF89a...")]
    remote_id = publish(connector, "", media=media)
    stored = list(SandboxMedia.objects.filter(post_id=int(remote_id)))
    assert [(m.mime_type, m.alt_text, m.size_bytes) for m in stored] == [
        ("image/png", "Una tarta de queso", len(PNG)),
        ("image/gif", "", 9),
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (MediaItem("application/pdf", b"%PDF-1.7"), "not application/pdf"),
        (MediaItem("video/mp4", b"\x00\x00\x00\x18ftypmp4"), "not video/mp4"),
        (MediaItem("image/png", PNG + b"\x00" * (5 * 1024 * 1024)), "at most 5 MB"),
        (MediaItem("image/png", b"<svg onload=alert(1)>"), "not a image/png image"),
    ],
)
def test_bad_media_is_rejected(connector, item, message):
    with pytest.raises(ContentRejected, match=message):
        publish(connector, "con adjunto", media=[item])
    assert not SandboxPost.objects.filter(text="con adjunto").exists()


def test_reply_quote_and_thread(connector, harness, brand, people):
    head = publish(connector, "Hilo 1/2")
    tail = publish(connector, "Hilo 2/2", reply_to=head)
    assert SandboxPost.objects.get(pk=int(tail)).root_id == int(head)
    theirs = network.post(people[0], "Algo que citar")
    quote = publish(connector, "Citamos", quote_of=str(theirs.pk))
    assert SandboxPost.objects.get(pk=int(quote)).quote_of_id == theirs.pk
    with pytest.raises(RemoteNotFound):
        publish(connector, "a nada", reply_to="987654")
    with pytest.raises(ContentRejected):
        publish(connector, "ambas", reply_to=head, quote_of=str(theirs.pk))


def test_inbound_items_carry_author_kind_and_conversation(connector, harness, people):
    harness.deliver_inbound(4)
    items = connector.fetch_inbound(None, limit=10).items
    assert [i.kind for i in items] == [
        InboundKind.MENTION,
        InboundKind.REPLY,
        InboundKind.QUOTE,
        InboundKind.DIRECT_MESSAGE,
    ]
    reply, dm = items[1], items[3]
    assert reply.in_reply_to and reply.conversation_key == reply.in_reply_to
    assert dm.remote_id.startswith("dm-")
    assert dm.conversation_key == network.dm_conversation_key(int(dm.author.remote_id), harness.brand.pk)
    assert {i.author.handle for i in items} <= {p.handle for p in people}
    assert all(i.url.startswith("https://") for i in items if i.kind != InboundKind.DIRECT_MESSAGE)


def test_cursor_across_many_pages_loses_and_repeats_nothing(connector, harness):
    first = connector.fetch_inbound(None, limit=5)
    assert first.items == [] and first.cursor == "0"
    harness.deliver_inbound(53)
    cursor, delivered = first.cursor, 53
    seen: list[str] = []
    while True:
        page = connector.fetch_inbound(cursor, limit=5)
        if not page.items:
            break
        seen.extend(i.remote_id for i in page.items)
        if delivered < 60:  # traffic keeps arriving while we read
            harness.deliver_inbound(1)
            delivered += 1
        cursor = page.cursor
    assert len(seen) == len(set(seen)) == delivered == 60
    assert connector.fetch_inbound(cursor, limit=5).items == []


def test_none_cursor_returns_the_newest(connector, harness):
    harness.deliver_inbound(12)
    page = connector.fetch_inbound(None, limit=4)
    everything = connector.fetch_inbound("0", limit=100).items
    assert [i.remote_id for i in page.items] == [i.remote_id for i in everything[-4:]]
    assert connector.fetch_inbound(page.cursor).items == []


def test_bad_cursor_is_a_typed_error(connector):
    with pytest.raises(ConnectorError, match="not a sandbox cursor"):
        connector.fetch_inbound("abc")


def dm_texts(account: SandboxAccount) -> list[str]:
    return [e.message.text for e in network.inbound_for(account, 0, 10).events if e.message is not None]


def test_direct_messages_both_ways(connector, brand, people):
    sent = connector.send_direct_message(str(people[0].pk), "Hola, ¿en qué te ayudo?", idempotency_key="dm-1")
    again = connector.send_direct_message(
        str(people[0].pk), "Hola, ¿en qué te ayudo?", idempotency_key="dm-1"
    )
    assert sent.remote_id == again.remote_id
    assert dm_texts(people[0])[0] == "Hola, ¿en qué te ayudo?"
    connector.send_direct_message("@persona_1", "por handle también")
    with pytest.raises(RemoteNotFound):
        connector.send_direct_message("424242", "a nadie")
    with pytest.raises(NotSupported):
        connector.hide(sent.remote_id)
    connector.delete(sent.remote_id)
    assert network.inbound_for(people[0], 0, 10).events == []
    assert dm_texts(people[1])[0] == "por handle también"


def test_block_through_the_connector_stops_inbound(connector, brand, people):
    troll = people[0]
    network.post(troll, f"@{brand.handle} primero")
    connector.block(str(troll.pk))
    network.post(troll, f"@{brand.handle} segundo")
    assert [i.text for i in connector.fetch_inbound(None).items] == [f"@{brand.handle} primero"]


def test_hide_and_delete_through_the_connector(connector, harness):
    reply_id = harness.foreign_post_id()
    connector.hide(reply_id)
    [item] = [i for i in connector.fetch_inbound(None).items if i.remote_id == reply_id]
    assert item.raw["is_hidden"] is True
    connector.delete(reply_id)  # a reply under the brand's own post: it may remove it
    assert reply_id not in {i.remote_id for i in connector.fetch_inbound(None).items}
    with pytest.raises(RemoteNotFound):
        connector.delete(reply_id)


def test_write_rate_limit_raises_with_retry_after(connector, brand):
    brand.write_limit, brand.write_window_seconds = 3, 300
    brand.save()
    for n in range(3):
        publish(connector, f"post {n}")
    assert connector.rate_limit_state().remaining == 0
    with pytest.raises(RateLimited) as raised:
        publish(connector, "uno de más")
    assert 0 < raised.value.retry_after <= 300
    assert raised.value.retryable
    assert SandboxPost.objects.filter(author=brand).count() == 3


def test_read_limit_is_separate_and_windows_reset(connector, brand):
    brand.read_limit, brand.read_window_seconds = 2, 60
    brand.save()
    connector.fetch_inbound(None)
    connector.account_metrics()
    with pytest.raises(RateLimited):
        connector.fetch_inbound(None)
    publish(connector, "writes still allowed")
    later = timezone.now() + timedelta(seconds=61)
    state = limits.consume(brand, "read", now=later)
    assert state.remaining == 1
    assert state.resets_at > later


def test_rate_limit_state_does_not_spend(connector):
    before = connector.rate_limit_state()
    after = connector.rate_limit_state()
    assert before.remaining == after.remaining == before.limit


def test_account_metrics(connector, brand, people):
    for person in people:
        network.follow(person, brand)
    publish(connector, "uno")
    metrics = connector.account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (len(people), 0, 1)


@pytest.mark.parametrize("odd", ["²", "٣", "9" * 25, "-1", "abc", ""])
def test_odd_remote_ids_and_cursors_are_connector_errors(connector, odd):
    from tertulia.connectors.base import ConnectorError

    for call in (connector.hide, connector.delete, connector.block):
        with pytest.raises(ConnectorError):
            call(odd)
    if odd:
        with pytest.raises(ConnectorError):
            connector.fetch_inbound(odd)
    assert connector.post_metrics([odd]) == []
