"""End to end against the Bluesky reference servers (PLC, PDS, AppView from @atproto/dev-env).

A brand account and customer accounts are created on the PDS; the brand is connected
through `connect_with_password` with an app password, customers mention it, reply to it
and quote it, Tertulia reads and answers, and every result is checked through the AppView
(what other Bluesky users would see), not through the connector that did it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
import uuid
import zlib

import pytest
from atproto_client import models

from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    InboundItem,
    InboundKind,
    MediaItem,
    OutgoingPost,
)
from tertulia.connectors.bluesky.connector import BlueskyConnector
from tertulia.connectors.bluesky.records import jwt_claims
from tertulia.connectors.bluesky.tests.conftest import Account, Devnet
from tertulia.connectors.bluesky.text import byte_slice
from tertulia.connectors.tests.contract import ConnectorContract

pytestmark = pytest.mark.django_db  # the write budget lives in the database

DEV_JWT_SECRET = b"jwt-secret"  # @atproto/dev-env's PDS signs sessions with this


def _connector(devnet: Devnet, account: Account) -> BlueskyConnector:
    connected = BlueskyConnector.connect_with_password(
        account.handle, devnet.app_password(account), devnet.pds
    )
    return BlueskyConnector(
        ChannelAccount(
            handle=connected.info.handle,
            external_id=connected.info.external_id,
            credentials=connected.credentials,
            settings={"service": connected.credentials["service"]},
        )
    )


def _drain(connector: BlueskyConnector, cursor: str | None) -> tuple[list[InboundItem], str]:
    items: list[InboundItem] = []
    for _ in range(100):
        page = connector.fetch_inbound(cursor, limit=2)
        assert page.cursor is not None
        if not page.items:
            return items, page.cursor
        items.extend(page.items)
        cursor = page.cursor
    raise AssertionError("fetch_inbound never ran dry")


def _view(account: Account, uri: str) -> models.AppBskyFeedDefs.PostView | None:
    posts = account.client.app.bsky.feed.get_posts(models.AppBskyFeedGetPosts.Params(uris=[uri])).posts
    return posts[0] if posts else None


def _png() -> bytes:
    """A valid 1x1 PNG, built here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00"))
        + chunk(b"IEND", b"")
    )


def _expired(token: str) -> str:
    """The same session token, re-signed with an expiry in the past."""
    header_b64, _payload, _sig = token.split(".")
    claims = jwt_claims(token)
    claims["exp"] = int(time.time()) - 60
    claims["iat"] = claims["exp"] - 3600

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    payload = encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(DEV_JWT_SECRET, f"{header_b64}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header_b64}.{payload}.{encode(signature)}"


@pytest.fixture(scope="module")
def people(devnet: Devnet) -> dict[str, Account]:
    accounts = {name: devnet.create_account(name[0]) for name in ("brand", "ana", "bea", "carl")}
    devnet.process_all()
    return accounts


@pytest.fixture
def brand(devnet: Devnet, people: dict[str, Account], db: None) -> BlueskyConnector:
    return _connector(devnet, people["brand"])


def test_connect_with_password_keeps_a_session_not_the_password(devnet, people):
    account = people["brand"]
    app_password = devnet.app_password(account)
    connected = BlueskyConnector.connect_with_password(f"@{account.handle}", app_password, devnet.pds)
    assert connected.info.external_id == account.did
    assert connected.info.handle == account.handle
    assert connected.info.display_name == f"B {account.handle}"
    assert set(connected.credentials) == {"access_jwt", "refresh_jwt", "did", "service"}
    assert app_password not in json.dumps(dict(connected.credentials))
    assert connected.expires_at is not None

    with pytest.raises(AuthenticationFailed):
        BlueskyConnector.connect_with_password(account.handle, "wrong-password", devnet.pds)
    with pytest.raises(AuthenticationFailed, match="app password"):
        BlueskyConnector.connect_with_password(account.handle, account.password, devnet.pds)


def test_reads_mentions_replies_and_quotes_once_each_and_answers_in_the_thread(devnet, people, brand):
    ana, bea, carl = people["ana"], people["bea"], people["carl"]
    start = brand.fetch_inbound(None).cursor
    assert start is not None

    announcement = brand.publish(OutgoingPost(text="¡Nueva tienda abierta! 🎉"))
    devnet.process_all()
    parent = _view(ana, announcement.remote_id)
    assert parent is not None
    parent_ref = models.create_strong_ref(parent)
    mention = ana.post(f"Hola @{people['brand'].handle}, ¿abrís el domingo?")
    reply = bea.post(
        "¡Qué bien! ¿Dónde está?",
        reply_to=models.AppBskyFeedPost.ReplyRef(root=parent_ref, parent=parent_ref),
    )
    quote = carl.post("Mirad esto", embed=models.AppBskyEmbedRecord.Main(record=parent_ref))
    ana.client.like(parent.uri, parent.cid)  # not read as inbound: only moves the cursor
    devnet.process_all()

    items, cursor = _drain(brand, start)
    by_uri = {item.remote_id: item for item in items}
    assert len(by_uri) == len(items) == 3
    assert by_uri[mention.uri].kind == InboundKind.MENTION
    assert by_uri[mention.uri].author.handle == ana.handle
    assert by_uri[mention.uri].conversation_key == mention.uri
    assert by_uri[reply.uri].kind == InboundKind.REPLY
    assert by_uri[reply.uri].in_reply_to == announcement.remote_id
    assert by_uri[reply.uri].conversation_key == announcement.remote_id
    assert by_uri[reply.uri].text == "¡Qué bien! ¿Dónde está?"
    assert by_uri[quote.uri].kind == InboundKind.QUOTE
    assert all(item.created_at.tzinfo is not None for item in items)

    # Nothing twice: the same cursor again finds nothing; nothing lost: one more arrives.
    assert brand.fetch_inbound(cursor).items == []
    reply_ref = models.create_strong_ref(reply)
    again = ana.post(
        "Yo también quiero saberlo",
        reply_to=models.AppBskyFeedPost.ReplyRef(root=parent_ref, parent=reply_ref),
    )
    devnet.process_all()
    more, _cursor = _drain(brand, cursor)
    assert [item.remote_id for item in more] == [again.uri]
    assert more[0].conversation_key == announcement.remote_id

    # The brand answers Bea in the right thread; the AppView shows parent and root.
    answer = brand.publish(OutgoingPost(text="En la calle Mayor, 5 😊", reply_to=by_uri[reply.uri].remote_id))
    devnet.process_all()
    thread = bea.client.get_post_thread(answer.remote_id).thread
    assert thread.post.author.did == people["brand"].did
    assert thread.parent.post.uri == reply.uri
    assert thread.post.record.reply.root.uri == announcement.remote_id


def test_facets_have_utf8_byte_offsets(devnet, people, brand):
    ana = people["ana"]
    text = f"Café ☕ con @{ana.handle} — más en https://example.com/menú #DesayunoEspañol 🇪🇸"
    published = brand.publish(OutgoingPost(text=text))
    devnet.process_all()
    view = _view(ana, published.remote_id)
    assert view is not None
    record = view.record
    assert record.text == text
    found = {}
    for facet in record.facets:
        [feature] = facet.features
        found[feature.py_type] = (byte_slice(text, facet.index.byte_start, facet.index.byte_end), feature)
    mention_text, mention = found["app.bsky.richtext.facet#mention"]
    assert mention_text == f"@{ana.handle}"
    assert mention.did == ana.did
    link_text, link = found["app.bsky.richtext.facet#link"]
    assert link_text == "https://example.com/menú"
    assert link.uri == "https://example.com/menú"
    tag_text, tag = found["app.bsky.richtext.facet#tag"]
    assert tag_text == "#DesayunoEspañol"
    assert tag.tag == "DesayunoEspañol"
    # The mentioned customer is notified: the AppView resolved the facet to her DID.
    notifications = ana.client.app.bsky.notification.list_notifications().notifications
    assert published.remote_id in {n.uri for n in notifications if n.reason == "mention"}


def test_image_with_alt_text_and_a_quote(devnet, people, brand):
    ana = people["ana"]
    original = ana.post("Nuestro pedido de hoy")
    devnet.process_all()
    published = brand.publish(
        OutgoingPost(
            text="¡Gracias por venir!",
            media=[MediaItem(mime_type="image/png", data=_png(), alt_text="Una taza de café sobre la barra")],
            quote_of=original.uri,
        )
    )
    devnet.process_all()
    view = _view(ana, published.remote_id)
    assert view is not None
    assert view.embed.media.images[0].alt == "Una taza de café sobre la barra"
    assert view.embed.record.record.uri == original.uri


def test_likes_reposts_and_account_metrics(devnet, people, brand):
    post = brand.publish(OutgoingPost(text="¿Café o té?"))
    devnet.process_all()
    view = _view(people["ana"], post.remote_id)
    assert view is not None
    people["ana"].client.like(view.uri, view.cid)
    people["bea"].client.like(view.uri, view.cid)
    people["carl"].client.repost(view.uri, view.cid)
    devnet.process_all()
    [row] = brand.post_metrics(
        [post.remote_id, "at://did:plc:nobody/app.bsky.feed.post/3jzfcijpj2z2a", "junk"]
    )
    assert (row.remote_id, row.likes, row.reposts, row.replies) == (post.remote_id, 2, 1, 0)
    metrics = brand.account_metrics()
    assert metrics.posts >= 1
    assert metrics.followers == 0


def test_delete_mute_and_block_as_the_appview_sees_them(devnet, people, brand):
    ana, carl = people["ana"], people["carl"]
    post = brand.publish(OutgoingPost(text="Oops, wrong account"))
    devnet.process_all()
    assert _view(ana, post.remote_id) is not None
    brand.delete(post.remote_id)
    devnet.process_all()
    assert _view(ana, post.remote_id) is None

    brand.mute(ana.handle)
    brand.mute(ana.did)  # twice is fine
    brand.block(carl.did)
    brand.block(f"@{carl.handle}")  # twice is one block
    devnet.process_all()
    brand_client = brand.client()
    ana_seen = brand_client.app.bsky.actor.get_profile(models.AppBskyActorGetProfile.Params(actor=ana.did))
    carl_seen = brand_client.app.bsky.actor.get_profile(models.AppBskyActorGetProfile.Params(actor=carl.did))
    assert ana_seen.viewer.muted is True
    assert carl_seen.viewer.blocking
    blocks = brand_client.com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=brand.did, collection="app.bsky.graph.block")
    ).records
    assert [record.value.subject for record in blocks].count(carl.did) == 1


def test_publishing_twice_with_one_key_makes_one_post(devnet, people, brand):
    key = f"delivery-{uuid.uuid4().hex}"
    first = brand.publish(OutgoingPost(text="Una sola vez", idempotency_key=key))
    again = brand.publish(OutgoingPost(text="Una sola vez", idempotency_key=key))
    assert again.remote_id == first.remote_id
    found = brand.find_own_post(key)
    assert found is not None and found.remote_id == first.remote_id
    assert brand.find_own_post(f"delivery-{uuid.uuid4().hex}") is None
    devnet.process_all()
    feed = people["ana"].client.get_author_feed(people["brand"].did, limit=100).feed
    assert [item.post.uri for item in feed if item.post.record.text == "Una sola vez"] == [first.remote_id]


def test_expired_session_fails_then_refresh_works(devnet, people, brand):
    credentials = dict(brand.account.credentials)
    expired = BlueskyConnector(
        ChannelAccount(
            handle=brand.account.handle,
            external_id=brand.did,
            credentials={**credentials, "access_jwt": _expired(credentials["access_jwt"])},
        )
    )
    with pytest.raises(AuthenticationFailed):
        expired.verify_account()
    with pytest.raises(AuthenticationFailed):
        expired.publish(OutgoingPost(text="never"))

    fresh = expired.refresh_credentials()
    assert fresh["refresh_jwt"] != credentials["refresh_jwt"]
    assert fresh["did"] == brand.did
    assert expired.verify_account().external_id == brand.did
    renewed = BlueskyConnector(ChannelAccount(handle=brand.account.handle, credentials=fresh))
    assert renewed.account_metrics().posts >= 0

    garbage = BlueskyConnector(
        ChannelAccount(
            handle="x.test", external_id=brand.did, credentials={**credentials, "access_jwt": "nope"}
        )
    )
    with pytest.raises(AuthenticationFailed):
        garbage.verify_account()


# -- the shared connector contract, against the real network


class _Harness:
    def __init__(self, devnet: Devnet, brand_account: Account, customers: list[Account]) -> None:
        self.devnet = devnet
        self.brand_account = brand_account
        self.customers = customers

    def deliver_inbound(self, count: int) -> None:
        for n in range(count):
            customer = self.customers[n % len(self.customers)]
            customer.post(f"@{self.brand_account.handle} mensaje {n} {uuid.uuid4().hex[:6]}")
        self.devnet.process_all()

    def other_author_id(self) -> str:
        return self.customers[0].did

    def foreign_post_id(self) -> str:
        created = self.customers[0].post(f"Para @{self.brand_account.handle}")
        self.devnet.process_all()
        return str(created.uri)


@pytest.fixture(scope="module")
def contract_accounts(devnet: Devnet) -> tuple[Account, list[Account]]:
    brand_account = devnet.create_account("k")
    customers = [devnet.create_account("q"), devnet.create_account("r")]
    devnet.process_all()
    return brand_account, customers


class TestBlueskyContract(ConnectorContract):
    @pytest.fixture
    def connector(self, devnet, contract_accounts, db):
        return _connector(devnet, contract_accounts[0])

    @pytest.fixture
    def harness(self, devnet, contract_accounts):
        return _Harness(devnet, *contract_accounts)
