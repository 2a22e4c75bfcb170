"""The Bluesky firehose reader, on frames built here (no network): what it reads, skips, stores, and how
one worker at a time holds the stream and its cursor. End to end against the reference PDS:
test_firehose_e2e.py."""

from __future__ import annotations

import hashlib
import queue
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import libipld
import pytest
from atproto_subscription.frames import Frame, MessageFrame
from django.utils import timezone

from tertulia.config import ConfigError, parse_firehose_url
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.listening.actions.queries import create_query
from tertulia.listening.ingest import Ingested, ingest
from tertulia.listening.models import FirehoseState, Mention, QueryMatch
from tertulia.listening.sources import firehose
from tertulia.listening.sources.firehose import (
    MAX_POST_CHARS,
    Decoder,
    Event,
    FirehoseReader,
    LeaseLost,
    published_at,
)

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
OTHER_DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
SERVICE = "wss://relay.example"
RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TID = "3l3qo2vutsw2b"


# --- frames, built the way a PDS or relay sends them ---------------------------------------------------


def _cid(data: bytes) -> bytes:
    return b"\x01\x71\x12\x20" + hashlib.sha256(data).digest()  # CIDv1, dag-cbor, sha2-256


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | 0x80 if number else byte)
        if not number:
            return bytes(out)


def _car(blocks: list[dict[str, Any]]) -> tuple[bytes, list[bytes]]:
    encoded = [libipld.encode_dag_cbor(block) for block in blocks]
    cids = [_cid(data) for data in encoded]
    header = libipld.encode_dag_cbor({"version": 1, "roots": [cids[0]]})
    out = _varint(len(header)) + header
    for cid, data in zip(cids, encoded, strict=True):
        out += _varint(len(cid) + len(data)) + cid + data
    return out, cids


def _frame(kind: str, body: object) -> MessageFrame:
    raw = libipld.encode_dag_cbor({"op": 1, "t": kind}) + libipld.encode_dag_cbor(body)
    frame = Frame.from_bytes(raw)
    assert isinstance(frame, MessageFrame)
    return frame


def post(text: object = "hola", **extra: object) -> dict[str, Any]:
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-11-20T11:59:00.000Z", **extra}


def commit(
    seq: int,
    ops: list[tuple[str, str, dict[str, Any] | None]],
    *,
    repo: str = DID,
    blocks: bytes | None = None,
) -> MessageFrame:
    """A #commit frame; each op is (action, path, record or None)."""
    records = [record for _action, _path, record in ops if record is not None]
    data, cids = _car([{"did": repo, "version": 3, "rev": TID, "data": None}, *records])
    record_cids = iter(cids[1:])
    body = {
        "seq": seq,
        "rebase": False,
        "tooBig": False,
        "repo": repo,
        "commit": cids[0],
        "rev": TID,
        "since": None,
        "blocks": data if blocks is None else blocks,
        "ops": [
            {"action": action, "path": path, "cid": next(record_cids) if record is not None else None}
            for action, path, record in ops
        ],
        "blobs": [],
        "time": "2026-11-20T12:00:00.000Z",
    }
    return _frame("#commit", body)


def identity(seq: int, handle: str | None, did: str = DID) -> MessageFrame:
    body: dict[str, object] = {"seq": seq, "did": did, "time": "2026-11-20T12:00:00.000Z"}
    if handle is not None:
        body["handle"] = handle
    return _frame("#identity", body)


def created(seq: int, text: str, rkey: str = TID, repo: str = DID, **extra: object) -> MessageFrame:
    return commit(seq, [("create", f"app.bsky.feed.post/{rkey}", post(text, **extra))], repo=repo)


# --- decoding ------------------------------------------------------------------------------------------


def test_a_new_post_becomes_an_item():
    event = Decoder().decode(created(7, "¡Qué rico! 🍷", langs=["es-ES", "en"]), RECEIVED)
    assert event.seq == 7
    [item] = event.items
    assert item.network == "bluesky"
    assert item.remote_id == f"at://{DID}/app.bsky.feed.post/{TID}"
    assert item.url == f"https://bsky.app/profile/{DID}/post/{TID}"
    assert item.text == "¡Qué rico! 🍷"
    assert item.language == "es-ES"
    assert item.author_handle == DID
    assert item.published_at == datetime(2026, 11, 20, 11, 59, tzinfo=UTC)


def test_only_created_posts_are_read():
    decoder = Decoder()
    like = {"$type": "app.bsky.feed.like", "subject": {"uri": "at://x/y/z", "cid": "b"}, "createdAt": "x"}
    frame = commit(
        9,
        [
            ("create", "app.bsky.feed.like/3l3qo2vutsw2c", like),
            ("update", "app.bsky.feed.post/3l3qo2vutsw2d", post("edited")),
            ("delete", "app.bsky.feed.post/3l3qo2vutsw2e", None),
            ("create", "app.bsky.actor.profile/self", {"$type": "app.bsky.actor.profile"}),
            ("create", "app.bsky.feed.post/3l3qo2vutsw2f", post("the new one")),
        ],
    )
    assert [item.text for item in decoder.decode(frame, RECEIVED).items] == ["the new one"]
    # A commit with no new post is not even parsed; its seq still moves the cursor.
    only_deletes = commit(10, [("delete", "app.bsky.feed.post/3l3qo2vutsw2f", None)])
    assert decoder.decode(only_deletes, RECEIVED) == Event(10, [])
    assert decoder.counts.skipped == 0


def test_a_record_under_the_post_path_that_is_not_a_post_is_skipped_and_counted():
    decoder = Decoder()
    frame = commit(
        3,
        [
            ("create", "app.bsky.feed.post/3l3qo2vutsw2a", {"$type": "app.bsky.feed.like"}),
            ("create", "app.bsky.feed.post/3l3qo2vutsw2b", post(12345)),
            ("create", "app.bsky.feed.post/bad key!", post("bad record key")),
            ("create", "app.bsky.feed.post/3l3qo2vutsw2c", post("fine")),
        ],
    )
    assert [item.text for item in decoder.decode(frame, RECEIVED).items] == ["fine"]
    assert decoder.counts.skipped == 3


def test_malformed_frames_are_skipped_counted_and_still_move_the_cursor():
    decoder = Decoder()
    garbage_blocks = commit(11, [("create", "app.bsky.feed.post/3l3qo2vutsw2b", post())], blocks=b"\x00nope")
    assert decoder.decode(garbage_blocks, RECEIVED) == Event(11, [])
    no_fields = _frame("#commit", {"seq": 12, "ops": [{"action": "create", "path": "app.bsky.feed.post/x"}]})
    assert decoder.decode(no_fields, RECEIVED) == Event(12, [])
    assert decoder.decode(_frame("#identity", {"seq": 13}), RECEIVED) == Event(13, [])
    assert decoder.counts.skipped == 3
    # Not a body at all, an unknown kind, a hostile seq: nothing read, no crash.
    assert decoder.decode(_frame("#commit", ["a", "list"]), RECEIVED) == Event(None, [])
    assert decoder.decode(_frame("#somethingNew", {"seq": 14}), RECEIVED) == Event(14, [])
    assert decoder.decode(_frame("#account", {"seq": -1}), RECEIVED).seq is None
    assert decoder.decode(_frame("#account", {"seq": True}), RECEIVED).seq is None
    assert decoder.counts.frames == 7


def test_a_missing_block_is_skipped():
    frame = commit(4, [("create", "app.bsky.feed.post/3l3qo2vutsw2b", post())])
    frame.body["ops"][0]["cid"] = _cid(b"not in the car")
    decoder = Decoder()
    assert decoder.decode(frame, RECEIVED).items == []
    assert decoder.counts.skipped == 1


def test_handles_come_from_identity_events_in_a_bounded_cache():
    decoder = Decoder(handles=2)
    decoder.decode(identity(1, "Ana.Example.COM"), RECEIVED)
    assert decoder.decode(created(2, "hola"), RECEIVED).items[0].author_handle == "ana.example.com"
    decoder.decode(identity(3, "handle.invalid"), RECEIVED)
    assert decoder.decode(created(4, "hola"), RECEIVED).items[0].author_handle == DID
    decoder.decode(identity(5, "<script>alert(1)</script>"), RECEIVED)  # not a handle: ignored
    decoder.decode(identity(6, None), RECEIVED)
    assert decoder.handles == {}
    for number in range(3):
        decoder.decode(identity(10 + number, f"u{number}.example.com", did=f"did:plc:{number}"), RECEIVED)
    assert list(decoder.handles) == ["did:plc:1", "did:plc:2"]  # the oldest went


def test_info_frames_are_noted():
    decoder = Decoder()
    event = decoder.decode(
        _frame("#info", {"name": "OutdatedCursor", "message": "Requested cursor exceeded limit"}), RECEIVED
    )
    assert event == Event(None, [])
    assert decoder.notice == "OutdatedCursor: Requested cursor exceeded limit"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T10:00:00.000Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T12:00:00+02:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T12:05:00Z", datetime(2026, 11, 20, 12, 5, tzinfo=UTC)),  # clock skew: kept
        (None, RECEIVED),
        (1732100000, RECEIVED),
        ("", RECEIVED),
        ("yesterday", RECEIVED),
        ("2026-11-20T10:00:00Z" + " " * 100, RECEIVED),
        ("2099-01-01T00:00:00Z", RECEIVED),  # from the future
        ("9999-12-31T23:59:59-14:00", RECEIVED),
        ("0001-01-01T00:00:00+14:00", RECEIVED),
        ("1970-01-01T00:00:00Z", RECEIVED),
    ],
)
def test_published_at_is_the_records_time_only_when_it_is_sane(value, expected):
    assert published_at(value, RECEIVED) == expected


def test_hostile_text_is_kept_verbatim_up_to_the_lexicon_limit():
    text = "<script>alert(1)</script>\u200b\u202eRTL\x00 " + "é" * 5000
    [item] = Decoder().decode(created(1, text), RECEIVED).items
    # Verbatim (ingest cleans NUL for storage, as for every source), cut at what the lexicon allows:
    # a PDS that sends more must not make the matcher work on a megabyte.
    assert item.text == text[:MAX_POST_CHARS] and len(item.text) == 3_000


# --- the setting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("  ", ""),
        ("wss://bsky.network", "wss://bsky.network"),
        ("wss://bsky.network/xrpc/", "wss://bsky.network"),
        ("https://PDS.example.com", "wss://pds.example.com"),
        ("http://127.0.0.1:2583", "ws://127.0.0.1:2583"),
    ],
)
def test_the_setting_takes_a_service_address(raw, expected):
    assert parse_firehose_url("TERTULIA_FIREHOSE_URL", raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["bsky.network", "ftp://bsky.network", "wss://user:pw@bsky.network", "wss://b.net/?cursor=1", "wss://"],
)
def test_the_setting_refuses_what_is_not_an_address(raw):
    with pytest.raises(ConfigError, match="TERTULIA_FIREHOSE_URL"):
        parse_firehose_url("TERTULIA_FIREHOSE_URL", raw)


# --- batches, cursor and lease -------------------------------------------------------------------------


@pytest.fixture
def wine(brand: Brand, analyst: User) -> Any:
    return create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino NOT empleo")


def reader(holder: str = "worker-a", **options: Any) -> FirehoseReader:
    return FirehoseReader(SERVICE, holder=holder, **options)


def events_of(*frames: MessageFrame) -> list[Event]:
    decoder = Decoder()
    return [decoder.decode(frame, RECEIVED) for frame in frames]


def test_a_batch_stores_what_matched_then_moves_the_cursor(wine):
    one = reader()
    assert one.take_lease() is not None
    for event in events_of(
        created(20, "Me encanta este vino", rkey="3l3qo2vutsw2a"),
        created(21, "Oferta de empleo: vino", rkey="3l3qo2vutsw2b"),
        commit(22, [("delete", "app.bsky.feed.post/3l3qo2vutsw2a", None)]),
        created(23, "nada que ver", rkey="3l3qo2vutsw2c"),
    ):
        one.accept(event)
    result = one.flush()
    assert result is not None
    assert (result.seen, result.matched, result.stored) == (3, 1, 1)
    mention = Mention.objects.get()
    assert mention.remote_id == f"at://{DID}/app.bsky.feed.post/3l3qo2vutsw2a"
    assert mention.url == f"https://bsky.app/profile/{DID}/post/3l3qo2vutsw2a"
    assert list(QueryMatch.objects.values_list("query_id", flat=True)) == [wine.pk]
    state = FirehoseState.objects.get(service=SERVICE)
    assert (state.cursor, state.holder) == (23, "worker-a")
    assert state.last_event_at is not None
    assert one.flush() is None  # nothing new: nothing written


def test_a_replayed_event_is_not_read_twice_and_a_stored_post_is_not_stored_twice(wine):
    one = reader()
    one.take_lease()
    one.accept(events_of(created(30, "vino"))[0])
    one.flush()
    one.accept(events_of(created(30, "vino"))[0])  # the SDK reconnected and sent it again
    assert one.pending() == 0
    # A new reader from an older cursor (the worker died before writing it) reads it again: no duplicate.
    FirehoseState.objects.filter(service=SERVICE).update(cursor=29, holder="", lease_until=None)
    two = reader("worker-b")
    state = two.take_lease()
    assert state is not None
    two._last_seq = state.cursor
    two.accept(events_of(created(30, "vino"))[0])
    result = two.flush()
    assert result is not None
    assert (result.matched, result.stored, result.matches) == (1, 0, 0)
    assert Mention.objects.count() == QueryMatch.objects.count() == 1
    assert FirehoseState.objects.get().cursor == 30


def test_the_cursor_does_not_move_when_the_batch_fails(wine, monkeypatch):
    one = reader()
    one.take_lease()
    one.accept(events_of(created(40, "vino"))[0])
    one.flush()

    def broken(items: object, *, organization_id: int | None) -> Ingested:
        raise RuntimeError("database gone")

    monkeypatch.setattr(firehose, "ingest", broken)
    one.accept(events_of(created(41, "más vino", rkey="3l3qo2vutsw2z"))[0])
    with pytest.raises(RuntimeError):
        one.flush()
    assert FirehoseState.objects.get().cursor == 40  # the next reader reads 41 again
    assert Mention.objects.count() == 1


def test_one_worker_holds_the_stream_and_another_takes_over_when_its_lease_runs_out(wine):
    first, second = reader("worker-a"), reader("worker-b")
    assert first.take_lease() is not None
    assert second.take_lease() is None
    assert first.take_lease() is not None  # its own lease: renewed
    first.accept(events_of(created(50, "vino"))[0])
    first.flush()
    assert second.take_lease() is None

    # worker-a died: its lease runs out.
    FirehoseState.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    state = second.take_lease()
    assert state is not None
    assert (state.holder, state.cursor) == ("worker-b", 50)  # it resumes where worker-a was
    # worker-a comes back to life mid-batch: it may store (no duplicates) but not move the cursor.
    first.accept(events_of(created(51, "vino", rkey="3l3qo2vutsw2y"))[0])
    with pytest.raises(LeaseLost):
        first.flush()
    with pytest.raises(LeaseLost):
        first.renew()
    assert FirehoseState.objects.get().cursor == 50
    second.renew()

    # A stop releases the lease at once.
    second.release()
    assert first.take_lease() is not None


def test_batches_close_at_the_size_limit_and_when_the_stream_ends(wine, monkeypatch):
    sizes: list[int] = []
    real = ingest

    def counting(items: list[Any], *, organization_id: int | None) -> Ingested:
        sizes.append(len(items))
        return real(items, organization_id=organization_id)

    monkeypatch.setattr(firehose, "ingest", counting)
    one = reader(batch_items=4, batch_seconds=3600)
    one.take_lease()
    events: queue.Queue[Event] = queue.Queue()
    decoder = Decoder()
    for number in range(10):
        events.put(
            decoder.decode(created(100 + number, f"vino {number}", rkey=f"3l3qo2vutsw{number}a"), RECEIVED)
        )
    one.pump(events, lambda: False)  # the socket closed: everything queued is still stored
    assert sizes == [4, 4, 2]
    assert Mention.objects.count() == 10
    assert FirehoseState.objects.get().cursor == 109


def test_a_batch_also_closes_when_its_time_is_up(wine, monkeypatch):
    sizes: list[int] = []
    real = ingest

    def counting(items: list[Any], *, organization_id: int | None) -> Ingested:
        sizes.append(len(items))
        return real(items, organization_id=organization_id)

    monkeypatch.setattr(firehose, "ingest", counting)
    one = reader(batch_items=200, batch_seconds=0)  # every turn of the loop is "a second later"
    one.take_lease()
    events: queue.Queue[Event] = queue.Queue()
    for event in events_of(created(1, "vino uno", rkey="3l3qo2vutsw2a"), created(2, "vino dos")):
        events.put(event)
    one.pump(events, lambda: False)
    assert sizes == [1, 1]


def test_a_stop_stores_the_batch_in_hand(wine):
    one = reader(batch_seconds=3600)
    one.take_lease()

    class StopAfterOne(queue.Queue[Event]):
        def get(self, block: bool = True, timeout: float | None = None) -> Event:
            event = super().get(block, timeout)
            one.stopping.set()  # the worker is told to stop while this batch is in hand
            return event

    events = StopAfterOne()
    for event in events_of(created(60, "vino"), created(61, "más vino", rkey="3l3qo2vutsw2z")):
        events.put(event)
    one.pump(events, lambda: True)
    assert FirehoseState.objects.get().cursor == 60
    assert Mention.objects.count() == 1
    assert events.qsize() == 1  # not taken: read again from the cursor next time


@pytest.mark.django_db(transaction=True)
def test_the_reader_thread_stops_promptly_and_records_why_it_could_not_connect():
    with socket.socket() as unused:  # a loopback port nobody listens on
        unused.bind(("127.0.0.1", 0))
        service = f"ws://127.0.0.1:{unused.getsockname()[1]}"
    one = FirehoseReader(service, holder="worker-a")  # the error is written when it happens
    one.start()
    try:
        state = None
        for _ in range(400):  # bounded: the first attempt fails at once
            state = FirehoseState.objects.filter(service=service).first()
            if state is not None and state.last_error:
                break
            threading.Event().wait(0.05)
        assert state is not None
        assert "ConnectionRefused" in state.last_error
        assert state.holder == "worker-a"
    finally:
        one.stop()
    assert not one.is_alive()
    assert FirehoseState.objects.get().holder == ""  # released for the next worker


def test_the_worker_starts_a_reader_only_when_the_setting_is_set(settings, monkeypatch):
    settings.TERTULIA_FIREHOSE_URL = ""
    assert firehose.start_firehose() is None
    started: list[FirehoseReader] = []
    monkeypatch.setattr(FirehoseReader, "start", lambda self: started.append(self))
    settings.TERTULIA_FIREHOSE_URL = SERVICE
    reader_ = firehose.start_firehose()
    assert reader_ is not None
    assert started == [reader_]
    assert (reader_.service, reader_.daemon) == (SERVICE, True)


def test_the_services_notice_that_posts_were_missed_stays_visible(wine):
    one = reader()
    one.take_lease()
    decoder = one.decoder
    one.accept(decoder.decode(_frame("#info", {"name": "OutdatedCursor", "message": "too old"}), RECEIVED))
    one.accept(decoder.decode(created(70, "vino"), RECEIVED))
    one.flush()
    assert FirehoseState.objects.get().last_error.endswith("UTC OutdatedCursor: too old")
    one.error = "ConnectionResetError: [Errno 104] Connection reset by peer"
    one.renew()
    assert FirehoseState.objects.get().last_error == one.error  # the error first, while there is one
