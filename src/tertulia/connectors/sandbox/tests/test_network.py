from __future__ import annotations

import pytest

from tertulia.connectors.base import ContentRejected, RemoteNotFound
from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.handles import mentioned_handles, normalize_handle
from tertulia.connectors.sandbox.models import (
    InboundEventKind,
    SandboxAccount,
    SandboxFollow,
    SandboxInboundEvent,
    SandboxMention,
)

pytestmark = pytest.mark.django_db


def inbound_kinds(account: SandboxAccount) -> list[str]:
    return [e.kind for e in network.inbound_for(account, 0, 500).events]


def test_handles_are_normalized_and_validated():
    assert normalize_handle("  @Ana_B ") == "ana_b"
    for bad in ("a", "@", "ana b", "ana-b", "x" * 31, "ñandú", "<script>"):
        with pytest.raises(ContentRejected, match="not a valid sandbox handle"):
            normalize_handle(bad)


def test_mentions_are_parsed_without_e_mail_addresses():
    text = "Hola @Ana_B y @luis, escribid a ana@example.com o @ana_b otra vez; @x es corto"
    assert mentioned_handles(text) == ["ana_b", "luis"]


def test_followers_count_follows_the_graph(people):
    star, *fans = people
    for fan in fans:
        assert network.follow(fan, star)
    assert not network.follow(fans[0], star)  # already following
    star.refresh_from_db()
    assert star.followers_count == len(fans) == SandboxFollow.objects.filter(followee=star).count()
    assert network.unfollow(fans[0], star)
    star.refresh_from_db()
    assert star.followers_count == len(fans) - 1
    with pytest.raises(ContentRejected):
        network.follow(star, star)


def test_mention_reply_quote_and_dm_reach_the_right_inbound(brand, people):
    ana, luis, *_ = people
    root = network.post(brand, "Nueva carta")
    network.post(ana, f"Me encanta @{brand.handle}")
    reply = network.reply(ana, root, "¡Qué bien!")
    network.reply(luis, reply, "Totalmente de acuerdo")  # the thread owner hears of it too
    network.quote(luis, root, "Mirad esto")
    network.send_dm(ana, brand, "¿Abrís el domingo?")
    assert inbound_kinds(brand) == [
        InboundEventKind.MENTION,
        InboundEventKind.REPLY,
        InboundEventKind.REPLY,
        InboundEventKind.QUOTE,
        InboundEventKind.DIRECT_MESSAGE,
    ]
    assert inbound_kinds(ana) == [InboundEventKind.REPLY]


def test_a_reply_that_also_mentions_arrives_once_as_a_reply(brand, people):
    root = network.post(brand, "Hola")
    network.reply(people[0], root, f"@{brand.handle} respondo y menciono")
    assert inbound_kinds(brand) == [InboundEventKind.REPLY]
    assert SandboxMention.objects.filter(account=brand).count() == 1


def test_block_stops_new_items_but_keeps_old_ones(brand, people):
    troll = people[0]
    network.post(troll, f"@{brand.handle} antes del bloqueo")
    network.follow(troll, brand)
    network.block(brand, troll)
    network.post(troll, f"@{brand.handle} después del bloqueo")
    network.reply(troll, network.post(brand, "Post"), "respuesta bloqueada")
    texts = [e.post.text for e in network.inbound_for(brand, 0, 50).events if e.post]
    assert texts == [f"@{brand.handle} antes del bloqueo"]
    assert not SandboxFollow.objects.filter(follower=troll, followee=brand).exists()
    with pytest.raises(network.NotAllowed):
        network.send_dm(troll, brand, "hola")
    network.unblock(brand, troll)
    network.post(troll, f"@{brand.handle} desbloqueado")
    assert len(inbound_kinds(brand)) == 2


def test_mute_silences_inbound_but_keeps_follows(brand, people):
    pesado = people[1]
    network.follow(pesado, brand)
    network.mute(brand, pesado)
    network.post(pesado, f"@{brand.handle} ¿me oyes?")
    network.send_dm(pesado, brand, "¿Y ahora?")
    assert inbound_kinds(brand) == []
    assert SandboxFollow.objects.filter(follower=pesado, followee=brand).exists()


def test_hide_flags_and_delete_removes(brand, people):
    root = network.post(brand, "Post")
    rude = network.reply(people[0], root, "Grosería")
    network.hide(brand, rude)
    rude.refresh_from_db()
    assert rude.is_hidden
    assert network.inbound_for(brand, 0, 10).events[0].post == rude  # hidden, still there, flagged
    network.unhide(brand, rude)
    rude.refresh_from_db()
    assert not rude.is_hidden
    network.delete(brand, rude)
    assert network.inbound_for(brand, 0, 10).events == []
    with pytest.raises(RemoteNotFound):
        network.get_post(rude.pk)


def test_only_the_author_or_the_thread_owner_moderates(brand, people):
    ana, luis, *_ = people
    own = network.post(ana, "Lo mío")
    with pytest.raises(network.NotAllowed):
        network.delete(brand, own)
    with pytest.raises(network.NotAllowed):
        network.hide(luis, own)
    mention = network.post(luis, f"@{brand.handle} mira")
    network.hide(brand, mention)  # addressed to the brand: it may hide it
    with pytest.raises(network.NotAllowed):
        network.delete(brand, mention)  # but it is not the brand's to delete


def test_cannot_answer_a_deleted_post(brand, people):
    root = network.post(brand, "Se borrará")
    network.delete(brand, root)
    with pytest.raises(RemoteNotFound):
        network.reply(people[0], root, "tarde")


def test_idempotent_post_and_dm(brand, people):
    first = network.post(brand, "Una vez", idempotency_key="k1")
    assert network.post(brand, "Una vez", idempotency_key="k1") == first
    assert network.post(people[0], "Otra cuenta, misma clave", idempotency_key="k1") != first
    dm = network.send_dm(brand, people[0], "Hola", idempotency_key="d1")
    assert network.send_dm(brand, people[0], "Hola", idempotency_key="d1") == dm
    assert SandboxInboundEvent.objects.filter(message=dm).count() == 1


def test_metrics_count_engagement(brand, people):
    root = network.post(brand, "Post")
    for person in people[:3]:
        network.like(person, root)
    network.like(people[0], root)  # once per account
    network.repost(people[1], root)
    network.reply(people[2], root, "r")
    gone = network.reply(people[3], root, "borrada")
    network.delete(people[3], gone)
    network.quote(people[4], root, "q")
    [metrics] = network.post_metrics([root.pk, 999_999])
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes) == (3, 1, 1, 1)
    assert network.account_metrics(brand).posts == 1


HOSTILE = [
    '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "zero\u200bwidth\u200d\ufeffjoiners",
    "\u202eRTL override \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "emoji 👩‍👩‍👧‍👦🏳️‍🌈🇪🇸 and combining e\u0301",
    "'; DROP TABLE sandbox_sandboxpost; --",
    "line\r\nbreaks\tand\x07bell",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_verbatim(brand, people, text):
    created = network.post(people[0], f"@{brand.handle} {text}")
    created.refresh_from_db()
    assert created.text == f"@{brand.handle} {text}"
    dm = network.send_dm(people[0], brand, text)
    dm.refresh_from_db()
    assert dm.text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 10_000, "10000 characters long"),
        ("nul \x00 byte", "NUL"),
        ("lone \ud800 surrogate", "surrogates"),
        ("   ", "needs text"),
    ],
)
def test_unstorable_text_is_rejected_clearly(brand, text, message):
    with pytest.raises(ContentRejected, match=message):
        network.post(brand, text)


def test_long_direct_messages_are_accepted_up_to_their_limit(brand, people):
    assert len(network.send_dm(people[0], brand, "x" * 10_000).text) == 10_000
    with pytest.raises(ContentRejected):
        network.send_dm(people[0], brand, "x" * 10_001)
