"""Mastodon public and hashtag streams as listening sources, against the spec-validated fake Mastodon.

Every request the reader sends (stream, timelines) is checked against the official OpenAPI document,
and every timeline answer the fake sends is checked against its response schemas.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from tertulia.connectors.base import ContentRejected, RemoteNotFound, TemporaryFailure
from tertulia.connectors.mastodon.parsing import html_to_text, id_key
from tertulia.connectors.mastodon.spec import SPEC_PATCHES, SPEC_PATH
from tertulia.connectors.mastodon.tests.fake import FakeMastodon
from tertulia.connectors.testing.spec_server import (
    RecordedRequest,
    SchemaFixtures,
    SpecResponse,
    SpecServer,
    load_spec,
    sse,
)
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, User
from tertulia.listening.actions.queries import create_query
from tertulia.listening.models import ListeningSource, Mention, QueryMatch, SourceKind
from tertulia.listening.query.folding import MAX_TEXT
from tertulia.listening.sources import mastodon as reader_module
from tertulia.listening.sources import runner as runner_module
from tertulia.listening.sources.mastodon import MastodonStream, status_item
from tertulia.listening.sources.runner import LeaseLost, StreamThread

HOLDER = "worker-1"
TIMELINES = (
    "/api/v1/streaming/public",
    "/api/v1/streaming/public/local",
    "/api/v1/streaming/hashtag",
    "/api/v1/streaming/hashtag/local",
    "/api/v1/timelines/public",
    "/api/v1/timelines/tag/{hashtag}",
)


def public_reads_need_no_token(spec: dict[str, Any]) -> None:
    """The document puts `OAuth2: read:statuses` on the public timelines and streams, but Mastodon
    serves them to anonymous clients unless the admin turned public previews off (then it answers
    401 or 422). Security `{}` makes the token optional, as Mastodon has it."""
    for path in TIMELINES:
        operation = spec["paths"][path]["get"]
        operation["security"] = [{}, *operation.get("security", [])]


def _ts(seconds: int) -> str:
    moment = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat().replace("+00:00", "Z")


class FakeListening:
    """Public posts on the fake instance: the two timelines, the two streams (one script per
    connection: the events to send, then close, or stay open and silent until `hold` is set)."""

    def __init__(self, server: SpecServer, fixtures: SchemaFixtures) -> None:
        self.server = server
        self.fx = fixtures
        self.mastodon = FakeMastodon(server, fixtures)  # its builders, ids and rate-limit headers
        self.posted: list[dict[str, Any]] = []
        self.authors: dict[str, dict[str, Any]] = {}
        self.scripts: list[tuple[list[tuple[str, Any]], threading.Event | None]] = []
        self.sent = threading.Semaphore(0)  # released after every scripted event is written
        server.on("getStreamingPublic", self.stream)
        server.on("getStreamingHashtag", self.stream)
        server.on("getTimelinePublic", self.timeline)
        server.on("getTimelinesTagByHashtag", self.timeline)

    def post(
        self,
        content: str,
        *,
        acct: str = "ana@vino.example",
        tags: tuple[str, ...] = (),
        language: str | None = "es",
        followers: int = 10,
        **fields: Any,
    ) -> dict[str, Any]:
        author = self.authors.get(acct)
        if author is None:
            author = self.mastodon.account(str(9000 + len(self.authors)), acct, followers=followers)
            self.authors[acct] = author
        status_id = self.mastodon.next_id()
        status = self.fx.build(
            "Status",
            **{
                "id": status_id,
                "account": author,
                "content": content,
                "created_at": _ts(int(status_id)),
                "uri": f"https://vino.example/users/{author['username']}/statuses/{status_id}",
                "url": f"https://vino.example/@{author['username']}/{status_id}",
                "language": language,
                "visibility": "public",
                "tags": [self.tag(tag) for tag in tags],
                **fields,
            },
        )
        self.posted.append(status)
        return status

    def tag(self, name: str) -> dict[str, Any]:
        tag = {
            "name": name,
            "url": f"https://vino.example/tags/{name}",
        }  # not `build`: its first argument is `name`
        self.fx.validate("StatusTag", tag)
        return tag

    def connection(self, *events: tuple[str, Any], hold: threading.Event | None = None) -> None:
        self.scripts.append((list(events), hold))

    def stream(self, request: RecordedRequest) -> SpecResponse:
        events, hold = self.scripts.pop(0) if self.scripts else ([], None)

        def body() -> Iterator[bytes]:
            yield b":)\n\n"
            for frame in sse(events):
                yield frame
                self.sent.release()
            if hold is not None:
                hold.wait(60)  # open and silent: only the reader cutting the connection ends its read

        return SpecResponse(content_type="text/event-stream", stream=body())

    def timeline(self, request: RecordedRequest) -> SpecResponse:
        query = dict(request.query)
        limit = min(int(query.get("limit", "20")), 40)
        rows = sorted(self.posted, key=lambda status: id_key(status["id"]))
        tag = request.path_params.get("hashtag")
        if tag:
            rows = [s for s in rows if any(t["name"].lower() == tag.lower() for t in s["tags"])]
        if "max_id" in query:
            rows = [s for s in rows if id_key(s["id"]) < id_key(query["max_id"])]
        if "since_id" in query:
            rows = [s for s in rows if id_key(s["id"]) > id_key(query["since_id"])]
        if "min_id" in query:
            rows = [s for s in rows if id_key(s["id"]) > id_key(query["min_id"])][:limit]
        else:
            rows = rows[-limit:]
        return self.mastodon.ok(list(reversed(rows)))  # newest first, as Mastodon sends them


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec(SPEC_PATH, (*SPEC_PATCHES, public_reads_need_no_token))


@pytest.fixture(scope="module")
def fixtures(spec) -> SchemaFixtures:
    return SchemaFixtures(spec)


@pytest.fixture
def server(spec) -> Iterator[SpecServer]:
    with SpecServer(spec, bracket_arrays=True) as running:
        yield running
        running.assert_all_valid()  # nothing the reader sent, nothing the fake answered, outside the spec


@pytest.fixture
def fake(server, fixtures) -> FakeListening:
    return FakeListening(server, fixtures)


@pytest.fixture(autouse=True)
def _private_addresses_allowed(settings) -> None:
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = True  # the fake listens on 127.0.0.1


def make_source(
    org: Organization, server: SpecServer, hashtag: str = "", cursor: str = ""
) -> ListeningSource:
    return ListeningSource.objects.create(
        organization=org,
        kind=SourceKind.MASTODON_HASHTAG if hashtag else SourceKind.MASTODON_PUBLIC,
        name=f"#{hashtag}" if hashtag else "Público",
        url=server.url,
        hashtag=hashtag,
        cursor=cursor,
        holder=HOLDER,
        lease_until=timezone.now() + timedelta(minutes=5),
    )


def stored_ids() -> list[str]:
    return sorted(Mention.objects.values_list("remote_id", flat=True))


def test_the_stream_delivers_statuses_as_mentions(
    org: Organization, brand: Brand, analyst: User, server, fake: FakeListening
):
    wine = create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino")
    earlier = fake.post("<p>Un <b>vino</b> de ayer</p>", acct="luis")  # on the timeline already
    live = [
        fake.post("<p>Me encanta este vino 🍷</p>", followers=321),
        fake.post("<p>Nada que ver</p>", language=None),
    ]
    fake.connection(*[("update", status) for status in live])
    source = make_source(org, server)

    received = MastodonStream(source, HOLDER).read()

    assert received == 2
    assert Mention.objects.filter(source=source).count() == 3  # a source of its own keeps everything
    mention = Mention.objects.get(remote_id=live[0]["uri"])
    assert (mention.network, mention.text, mention.url) == (
        "mastodon",
        "Me encanta este vino 🍷",
        live[0]["url"],
    )
    assert (mention.author_handle, mention.author_followers) == ("ana@vino.example", 321)
    assert (mention.channel_name, mention.language) == ("Público", "es")
    assert mention.published_at == datetime.fromisoformat(live[0]["created_at"])
    local = Mention.objects.get(remote_id=earlier["uri"])
    assert local.author_handle == "luis@127.0.0.1"  # a local account gets the server's name
    assert set(QueryMatch.objects.filter(query=wine).values_list("mention__remote_id", flat=True)) == {
        earlier["uri"],
        live[0]["uri"],
    }
    source.refresh_from_db()
    assert source.cursor == live[1]["id"] and source.last_read_at is not None and source.last_error == ""
    # The stream is opened first, then the first read takes the latest page of the timeline.
    stream, page = server.requests[:2]
    assert stream.operation == "getStreamingPublic" and page.operation == "getTimelinePublic"
    assert dict(page.query) == {"limit": "40"}
    assert "authorization" not in stream.headers and "authorization" not in page.headers


def test_reconnect_catches_up_without_loss_or_duplicates(org: Organization, server, fake: FakeListening):
    first = [fake.post(f"<p>vino {n}</p>") for n in range(2)]
    fake.connection(("update", first[1]))  # caught up already: a duplicate, skipped
    source = make_source(org, server, cursor=first[0]["id"])  # read up to the first already
    MastodonStream(source, HOLDER).read()
    assert source.cursor == first[1]["id"]

    # The worker is away; 48 posts are written (more than a page), then it reconnects.
    gap = [fake.post(f"<p>vino mientras tanto {n}</p>") for n in range(48)]
    after = fake.post("<p>vino en directo</p>")
    fake.connection(("update", gap[-1]), ("update", gap[-2]), ("update", after))  # two already caught up
    source.refresh_from_db()
    MastodonStream(source, HOLDER).read()

    expected = sorted(status["uri"] for status in [first[1], *gap, after])
    assert stored_ids() == expected  # the first post was before the cursor: not read again
    assert Mention.objects.count() == len(expected)  # each once
    pages = server.requests_for("getTimelinePublic")
    assert [dict(r.query).get("min_id") for r in pages] == [
        first[0]["id"],  # the first connection, from the cursor it was given
        first[1]["id"],  # the reconnection: forward from where it stopped ...
        gap[39]["id"],  # ... a page of 40 at a time
    ]
    source.refresh_from_db()
    assert source.cursor == after["id"] and source.last_error == ""


def test_a_hashtag_source_reads_its_tag(org: Organization, server, fake: FakeListening):
    tagged = fake.post("<p>Hoy <a href='https://vino.example/tags/vino'>#vino</a></p>", tags=("vino",))
    fake.post("<p>Sin etiqueta</p>")
    live = fake.post("<p>Más #Vino</p>", tags=("Vino",))
    fake.connection(("update", live))
    source = make_source(org, server, hashtag="vino")

    MastodonStream(source, HOLDER).read()

    assert stored_ids() == sorted([tagged["uri"], live["uri"]])
    assert Mention.objects.get(remote_id=tagged["uri"]).text == "Hoy #vino"
    [stream] = server.requests_for("getStreamingHashtag")
    assert stream.query == (("tag", "vino"),)
    [page] = server.requests_for("getTimelinesTagByHashtag")
    assert page.path == "/api/v1/timelines/tag/vino"


HOSTILE = {
    "script": "<p>hola</p><script>alert('x')</script><img src=x onerror=alert(1)>",
    "entities": "<p>&lt;b&gt;no es negrita&lt;/b&gt; &amp; &quot;comillas&quot;</p>",
    "rtl": "<p>\u202eevil.exe \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627</p>",
    "zero-width": "<p>vi\u200bno\u200d\ufeff</p>",
    "emoji": "<p>🍷👩🏽\u200d🍳🇪🇸</p>",
    "nul": "<p>a\x00b</p>",
    "huge": "<p>" + "vino " * 30_000 + "</p>",
}


def test_hostile_content_is_stored_as_text(org: Organization, server, fake: FakeListening):
    statuses = {name: fake.post(content) for name, content in HOSTILE.items()}
    evil = fake.post("<p>link</p>", url="javascript:alert(1)")
    fake.connection(*[("update", status) for status in [*statuses.values(), evil]])
    source = make_source(org, server, cursor="1")
    fake.posted.clear()  # nothing to catch up: everything comes by the stream

    MastodonStream(source, HOLDER).read()

    for name, status in statuses.items():
        stored = Mention.objects.get(remote_id=status["uri"]).text
        expected = html_to_text(HOSTILE[name])[:MAX_TEXT].replace("\x00", "\ufffd")
        assert stored == expected, name
    assert Mention.objects.get(remote_id=statuses["script"]["uri"]).text.startswith("hola")
    assert "<" not in Mention.objects.get(remote_id=statuses["script"]["uri"]).text
    assert Mention.objects.get(remote_id=statuses["entities"]["uri"]).text.startswith("<b>no es")
    assert "\u202e" in Mention.objects.get(remote_id=statuses["rtl"]["uri"]).text  # verbatim
    assert len(Mention.objects.get(remote_id=statuses["huge"]["uri"]).text) == MAX_TEXT
    assert Mention.objects.get(remote_id=evil["uri"]).url == evil["uri"]  # never the javascript: link


def test_malformed_events_are_skipped(org: Organization, server, fake: FakeListening):
    good = fake.post("<p>bueno</p>")
    broken = dict(fake.post("<p>roto</p>"))
    broken["created_at"] = "ayer por la tarde"
    fake.connection(
        ("update", "{not json"),
        ("update", "[1, 2, 3]"),
        ("update", {"id": "77"}),  # no account, no content
        ("update", broken),
        ("delete", good["id"]),  # not a status
        ("status.update", good),  # an edit: the mention stays as first read
        ("filters_changed", ""),
        ("update", good),
    )
    source = make_source(org, server, cursor=str(int(good["id"]) - 1))
    fake.posted.clear()  # only the stream
    reader = MastodonStream(source, HOLDER)

    assert reader.read() == 8
    assert stored_ids() == [good["uri"]]
    assert reader.skipped == 4
    source.refresh_from_db()
    assert source.cursor == good["id"]


def test_a_boost_counts_as_the_post_boosted(fixtures):
    fake_origin = "https://vino.example"
    author = fixtures.build("Account", id="1", acct="ana", username="ana", url="https://vino.example/@ana")
    original = fixtures.build(
        "Status", id="5", account=author, content="<p>vino</p>", uri="https://vino.example/s/5"
    )
    booster = fixtures.build(
        "Account", id="2", acct="pepe", username="pepe", url="https://vino.example/@pepe"
    )
    boost = fixtures.build("Status", id="6", account=booster, content="", uri="https://x/6", reblog=original)
    found = status_item(boost, "Público", fake_origin)
    assert found is not None
    item, status_id = found
    assert (item.remote_id, item.text, item.author_handle) == (
        "https://vino.example/s/5",
        "vino",
        "ana@vino.example",
    )
    assert status_id == "6"  # the cursor follows the timeline's own ids


@pytest.mark.parametrize("status", [401, 422])
def test_a_server_that_wants_sign_in_is_a_clear_error(org: Organization, server, fake: FakeListening, status):
    body = (
        fake.fx.build("Error", error="no") if status == 401 else fake.fx.build("ValidationError", error="no")
    )
    server.on("getStreamingPublic", SpecResponse(status=status, body=body))
    source = make_source(org, server)
    thread = StreamThread(source.pk, HOLDER)
    failures, wait = thread._read(source, 0)
    source.refresh_from_db()
    assert "signed-in" in source.last_error and f"HTTP {status}" in source.last_error
    assert failures == 1 and wait >= 1800  # it will not change its mind in minutes
    assert not Mention.objects.exists()


def test_a_timeline_that_wants_sign_in_is_a_clear_error(org: Organization, server, fake: FakeListening):
    error = fake.fx.build("ValidationError", error="This method requires an authenticated user")
    server.on("getTimelinePublic", SpecResponse(status=422, body=error))
    fake.connection(("update", fake.post("<p>x</p>")))
    source = make_source(org, server, cursor="1")
    with pytest.raises(ContentRejected, match="signed-in"):
        MastodonStream(source, HOLDER).read()
    source.refresh_from_db()
    assert source.cursor == "1"  # nothing read, nothing moved


def test_no_streaming_api_is_not_found(org: Organization, server, fake: FakeListening):
    server.on("getStreamingPublic", SpecResponse(status=404, body=fake.fx.build("Error", error="Not found")))
    with pytest.raises(RemoteNotFound, match="streaming API"):
        MastodonStream(make_source(org, server), HOLDER).read()


def test_private_addresses_are_refused_before_any_request(org: Organization, server, settings):
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ContentRejected, match="private or reserved"):
        MastodonStream(make_source(org, server), HOLDER).read()
    assert server.requests == []


def test_an_unreachable_server_is_a_temporary_failure(org: Organization, server):
    source = make_source(org, server)
    source.url = "http://127.0.0.1:9"  # discard: nothing listens
    with pytest.raises(TemporaryFailure):
        MastodonStream(source, HOLDER).read()


def test_a_lost_lease_stores_nothing(org: Organization, server, fake: FakeListening):
    fake.connection(("update", fake.post("<p>vino</p>")))
    source = make_source(org, server, cursor="1")
    ListeningSource.objects.filter(pk=source.pk).update(holder="another-worker")
    with pytest.raises(LeaseLost):
        MastodonStream(source, HOLDER).read()
    assert not Mention.objects.exists()
    source.refresh_from_db()
    assert source.cursor == "1"


def test_a_failed_batch_moves_no_cursor(org: Organization, server, fake: FakeListening, monkeypatch):
    statuses = [fake.post(f"<p>vino {n}</p>") for n in range(3)]
    fake.connection(*[("update", status) for status in statuses])
    source = make_source(org, server, cursor=statuses[0]["id"])
    fake.posted[:] = statuses[:1]  # the catch-up finds nothing new; the stream brings the rest

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr("tertulia.listening.sources.runner.ingest", broken)
    with pytest.raises(RuntimeError):
        MastodonStream(source, HOLDER).read()
    source.refresh_from_db()
    assert source.cursor == statuses[0]["id"] and not Mention.objects.exists()

    monkeypatch.undo()
    fake.posted[:] = statuses  # the next connection catches up from the unmoved cursor
    MastodonStream(source, HOLDER).read()
    assert stored_ids() == sorted(status["uri"] for status in statuses[1:])


def test_a_gap_too_long_to_catch_up_is_reported(org: Organization, server, fake: FakeListening, monkeypatch):
    monkeypatch.setattr(reader_module, "CATCH_UP_PAGES", 1)
    first = fake.post("<p>antes</p>")
    [fake.post(f"<p>hueco {n}</p>") for n in range(45)]
    source = make_source(org, server, cursor=first["id"])
    MastodonStream(source, HOLDER).read()
    source.refresh_from_db()
    assert Mention.objects.count() == 40
    assert "too long to catch up" in source.last_error


@pytest.mark.django_db(transaction=True)
def test_stopping_is_prompt_and_keeps_the_batch(org: Organization, server, fake: FakeListening):
    statuses = [fake.post(f"<p>vino {n}</p>") for n in range(3)]
    hold = threading.Event()
    fake.connection(*[("update", status) for status in statuses], hold=hold)
    source = make_source(org, server, cursor=statuses[-1]["id"])
    fake.posted.clear()
    stopping = threading.Event()
    reader = MastodonStream(source, HOLDER, stopping=stopping)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(reader.read())
        except BaseException as error:  # surfaced below
            outcome.append(error)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        for _ in statuses:
            assert fake.sent.acquire(timeout=30)  # the server wrote all three; the stream stays open
        deadline = time.monotonic() + 30
        while reader.received < len(statuses) and time.monotonic() < deadline:
            time.sleep(0.01)
        reader.abort()  # what `StreamThread.stop` does
        thread.join(timeout=30)
        assert not thread.is_alive()
    finally:
        hold.set()
    assert outcome == [3]
    assert stored_ids() == sorted(status["uri"] for status in statuses)
    source.refresh_from_db()
    assert source.cursor == statuses[-1]["id"]


def test_the_spec_patch_is_still_needed(spec):
    """Upstream requires a token for the public streams and timelines; when this fails, drop
    `public_reads_need_no_token`."""
    with SpecServer(load_spec(SPEC_PATH, SPEC_PATCHES)) as strict:
        assert httpx.get(strict.url + "/api/v1/streaming/public").status_code == 401
        assert httpx.get(strict.url + "/api/v1/timelines/public").status_code == 401
        assert "bearer" in (strict.invalid[0].error or "")


# ---------------------------------------------------------------- a hostile server and the worker's memory

FLOOD_BYTES = 48 * 1024 * 1024  # what a hostile server offers; a bounded reader takes a small part


class Flood:
    """A stream that starts with one good event, then sends `piece` over and over (up to FLOOD_BYTES,
    so that a test can never hang); counts what the reader let it write."""

    def __init__(self, good: dict[str, Any], head: bytes, piece: bytes) -> None:
        self.good, self.head, self.piece = good, head, piece
        self.written = 0

    def __call__(self, request: RecordedRequest) -> SpecResponse:
        def body() -> Iterator[bytes]:
            yield b":)\n\n"
            yield from sse([("update", self.good)])
            yield self.head
            while self.written < FLOOD_BYTES:
                self.written += len(self.piece)
                yield self.piece

        return SpecResponse(content_type="text/event-stream", stream=body())


@pytest.mark.parametrize(
    ("head", "piece"),
    [
        (b"event: update\ndata: ", b"x" * 65536),  # one line that never ends
        (b"event: update\n", b"data: " + b"x" * 1018 + b"\n"),  # an event of data lines that never ends
        (b"event: update\n", b"data\r\n" * 8192),  # ... of empty ones, with CRLF
    ],
    ids=["endless-line", "endless-event", "endless-empty-data"],
)
def test_an_endless_line_or_event_drops_the_connection(
    org: Organization, server, fake: FakeListening, head: bytes, piece: bytes
):
    good = fake.post("<p>vino bueno</p>")
    flood = Flood(good, head, piece)
    server.on("getStreamingPublic", flood)
    source = make_source(org, server, cursor=str(int(good["id"]) - 1))
    fake.posted.clear()  # only the stream

    failures, wait = StreamThread(source.pk, HOLDER)._read(source, 0)

    source.refresh_from_db()
    assert "larger than 1 MB" in source.last_error and "dropped the connection" in source.last_error
    assert failures == 1 and wait == runner_module.FIRST_BACKOFF_SECONDS  # reconnects with backoff
    assert stored_ids() == [good["uri"]]  # the event before was whole; nothing of the endless one
    assert source.cursor == good["id"]
    assert flood.written < FLOOD_BYTES // 2  # it stopped reading soon after the cap


def test_events_up_to_the_caps_are_read(org: Organization, server, fake: FakeListening, monkeypatch):
    monkeypatch.setattr(reader_module, "MAX_LINE_BYTES", 16384)
    monkeypatch.setattr(reader_module, "MAX_EVENT_BYTES", 16384)
    statuses = [fake.post(f"<p>vino {n} " + "🍷" * 300 + "</p>") for n in range(3)]
    fake.connection(*[("update", status) for status in statuses])
    source = make_source(org, server, cursor="1")
    fake.posted.clear()
    assert MastodonStream(source, HOLDER).read() == 3
    assert stored_ids() == sorted(status["uri"] for status in statuses)


def test_an_oversized_timeline_page_is_refused(org: Organization, server, fake: FakeListening):
    fake.post("<p>" + "vino " * (1_200_000) + "</p>")  # 6 MB: the answer says so in Content-Length
    fake.connection(("update", fake.post("<p>en directo</p>")))
    source = make_source(org, server)

    failures, _wait = StreamThread(source.pk, HOLDER)._read(source, 0)

    source.refresh_from_db()
    assert "timeline page larger than 5 MB" in source.last_error and failures == 1
    assert not Mention.objects.exists() and source.cursor == ""
    [page] = server.requests_for("getTimelinePublic")
    assert page.response_status == 200


def test_a_compressed_bomb_for_a_timeline_is_refused(org: Organization, server, fake: FakeListening):
    bomb = gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]")  # 64 MB in some 64 KB, no length
    assert len(bomb) < 256 * 1024
    server.on(
        "getTimelinePublic",
        SpecResponse(content_type="application/json", headers={"Content-Encoding": "gzip"}, stream=[bomb]),
    )
    fake.connection(("update", fake.post("<p>en directo</p>")))
    source = make_source(org, server, cursor="1")

    with pytest.raises(reader_module.TooLarge, match="timeline page larger"):
        MastodonStream(source, HOLDER).read()
    assert not Mention.objects.exists()


def test_a_compressed_timeline_page_is_read(org: Organization, server, fake: FakeListening):
    statuses = [fake.post(f"<p>vino {n}</p>") for n in range(2)]
    page = gzip.compress(json.dumps(list(reversed(statuses))).encode())
    server.on(
        "getTimelinePublic",
        SpecResponse(content_type="application/json", headers={"Content-Encoding": "gzip"}, stream=[page]),
    )
    source = make_source(org, server)
    MastodonStream(source, HOLDER).read()
    assert stored_ids() == sorted(status["uri"] for status in statuses)
    [request] = server.requests_for("getTimelinePublic")
    assert request.headers["accept-encoding"] == "gzip"


def test_an_error_answer_is_read_only_in_part(org: Organization, server, fake: FakeListening):
    huge = b'{"error": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    server.on(
        "getStreamingPublic",
        SpecResponse(status=503, content_type="application/json", stream=iter([huge])),
    )
    source = make_source(org, server)
    with pytest.raises(TemporaryFailure):
        MastodonStream(source, HOLDER).read()


def test_an_alert_that_fails_does_not_fail_the_stream(
    org: Organization, server, fake: FakeListening, monkeypatch, caplog
):
    statuses = [fake.post(f"<p>vino {n}</p>") for n in range(2)]
    fake.connection(*[("update", status) for status in statuses])
    source = make_source(org, server, cursor="1")
    fake.posted.clear()

    def broken(result: object) -> None:
        raise RuntimeError("the mail server is down")

    monkeypatch.setattr(runner_module, "after_ingest", broken)
    reader = MastodonStream(source, HOLDER)
    assert reader.read() == 2  # no exception: the batch was stored
    assert reader.pending == [] and reader.cursor == statuses[-1]["id"]
    source.refresh_from_db()
    assert source.cursor == statuses[-1]["id"] and source.last_error == ""
    assert stored_ids() == sorted(status["uri"] for status in statuses)
    assert "alerts after a stored batch failed" in caplog.text
