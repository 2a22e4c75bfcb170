"""The Bluesky firehose reader end to end, against the reference PDS from @atproto/dev-env.

Accounts post on the PDS through the SDK, as any Bluesky app would; the reader follows the PDS's own
com.atproto.sync.subscribeRepos and stores, for the organization's saved query, exactly the posts that
match it. Restarting the reader, from its stored cursor or from an older one (a worker killed before
it wrote the cursor), stores nothing twice.

Like the other Bluesky end-to-end tests, these skip (saying why) without Node, the installed
devnet (`npm ci` in connectors/bluesky/devnet) or a PostgreSQL DATABASE_URL; .ci/run has all three.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from tertulia.config import parse_firehose_url
from tertulia.connectors.bluesky.records import parse_at_uri, parse_datetime
from tertulia.connectors.bluesky.tests.conftest import (  # noqa: F401  (the fixtures)
    Account,
    Devnet,
    devnet,
    devnet_on_loopback,
)
from tertulia.core.actions.context import Actor
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.listening.actions.queries import create_query
from tertulia.listening.models import FirehoseState, ListeningQuery, Mention, QueryMatch
from tertulia.listening.sources.firehose import FirehoseReader

# The reader is a thread with its own database connection: it must see what the test committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(420)]

WAIT_SECONDS = 120.0  # a bound on each wait, not a speed requirement


@pytest.fixture(scope="module")
def people(devnet: Devnet) -> dict[str, Account]:  # noqa: F811  (the imported fixture)
    return {name: devnet.create_account(name[0]) for name in ("ana", "bea", "carl")}


@pytest.fixture
def service(devnet: Devnet) -> str:  # noqa: F811
    # The PDS serves com.atproto.sync.subscribeRepos itself, on its own address.
    return parse_firehose_url("TERTULIA_FIREHOSE_URL", devnet.pds)


@pytest.fixture
def readers(service: str) -> Iterator[list[FirehoseReader]]:
    started: list[FirehoseReader] = []
    yield started
    for reader in started:
        reader.stop()


def _start(readers: list[FirehoseReader], service: str, holder: str) -> FirehoseReader:
    reader = FirehoseReader(service, holder=holder)
    readers.append(reader)
    reader.start()
    return reader


def _wait_for_mention(uri: str) -> None:
    """Posts come in order: once the last one written is stored, every earlier one was handled."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if Mention.objects.filter(network="bluesky", remote_id=uri).exists():
            return
        time.sleep(0.2)
    state = FirehoseState.objects.first()
    raise AssertionError(f"{uri} was not read; the reader's state: {state and state.__dict__}")


def _matched(query: ListeningQuery) -> list[str]:
    return sorted(QueryMatch.objects.filter(query=query).values_list("mention__remote_id", flat=True))


def _created_at(account: Account, uri: str) -> datetime | None:
    """The post's createdAt, as the PDS keeps it."""
    parts = parse_at_uri(uri)
    assert parts is not None
    return parse_datetime(account.client.app.bsky.feed.post.get(parts.repo, parts.rkey).value.created_at)


def test_posts_created_on_the_pds_are_matched_here_once(devnet, people, service, readers):  # noqa: F811
    ana, bea, carl = people["ana"], people["bea"], people["carl"]
    organization = make_org("Firehose SA")
    brand = make_brand(organization, "Bodega Demo")
    token = uuid.uuid4().hex[:10]
    query = create_query(
        Actor.system("test"), brand, name="Marca", text='("bodega demo" OR "vino de logroño") NOT empleo'
    )
    # The last post of each round matches this one: when it is stored, the round was read.
    done = create_query(Actor.system("test"), brand, name="Fin", text=f"fin{token}", group="industry")
    other_org_query = create_query(
        Actor.system("test"), make_brand(make_org("Otra SA"), "Otra"), name="Otra", text="logroño"
    )
    # From the start of the PDS's stream (a reader that finds a stored cursor resumes from it).
    FirehoseState.objects.create(service=service, cursor=0)
    first = _start(readers, service, "worker-a")

    english_post = ana.post("Tried Bodega Demo today, lovely wine 🍷", langs=["en"])
    english = english_post.uri
    spanish = bea.post("¡Qué rico el VINO DE LOGROÑO! Ñam, volveré 🇪🇸", langs=["es"]).uri
    weather = carl.post("Hoy llueve en Madrid", langs=["es"]).uri
    job = carl.post("Oferta de empleo en Bodega Demo", langs=["es"]).uri
    almost = ana.post("Una bodega cualquiera, nada de demo", langs=["es"]).uri
    bea.client.like(english_post.uri, english_post.cid)  # a record the reader leaves alone
    carl.client.follow(ana.did)
    end = carl.post(f"fin{token}").uri
    _wait_for_mention(end)

    assert _matched(query) == sorted([english, spanish])
    assert not Mention.objects.filter(remote_id__in=[weather, job, almost]).exists()
    assert Mention.objects.filter(organization=organization).count() == 3  # the two, and the last post
    # Another organization's query gets its own copy of what it matches, and only that.
    assert _matched(other_org_query) == [spanish]
    assert Mention.objects.filter(remote_id=spanish).count() == 2

    stored = Mention.objects.get(organization=organization, remote_id=spanish)
    assert stored.text == "¡Qué rico el VINO DE LOGROÑO! Ñam, volveré 🇪🇸"  # verbatim
    assert stored.language == "es"
    assert stored.network == "bluesky"
    rkey = spanish.rsplit("/", 1)[1]
    assert stored.url == f"https://bsky.app/profile/{bea.did}/post/{rkey}"
    # The PDS announced the account's handle (#identity) before its posts: no lookup needed.
    assert stored.author_handle == bea.handle
    assert stored.published_at == _created_at(bea, spanish)
    assert Mention.objects.get(organization=organization, remote_id=english).language == "en"

    # The cursor was stored after each batch; a stop hands the stream over at once.
    first.stop()
    assert not first.is_alive()
    state = FirehoseState.objects.get(service=service)
    assert state.cursor is not None
    assert state.cursor > 0
    assert state.holder == ""
    assert state.last_error == ""
    cursor = state.cursor

    # Restarted from the stored cursor: new posts are read, nothing is stored twice.
    second = _start(readers, service, "worker-b")
    later = ana.post("Bodega Demo otra vez, ¡qué bien!").uri
    end = carl.post(f"fin{token} dos").uri
    _wait_for_mention(end)
    second.stop()
    assert _matched(query) == sorted([english, spanish, later])
    assert len(_matched(done)) == 2
    assert (FirehoseState.objects.get(service=service).cursor or 0) > cursor

    # A worker killed after storing a batch but before writing the cursor: the next one reads it all
    # again from the older cursor, and the mention key keeps every post once.
    FirehoseState.objects.filter(service=service).update(cursor=0)
    before = (Mention.objects.count(), QueryMatch.objects.count())
    _start(readers, service, "worker-c")
    end = carl.post(f"fin{token} tres").uri
    _wait_for_mention(end)
    assert _matched(query) == sorted([english, spanish, later])
    assert (Mention.objects.count(), QueryMatch.objects.count()) == (before[0] + 1, before[1] + 1)
    for uri in (english, spanish, later):
        assert QueryMatch.objects.filter(query=query, mention__remote_id=uri).count() == 1
