"""The chain's canonical form and walk, without a database (what an auditor runs offline)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tertulia.core import audit_chain
from tertulia.core.audit_chain import GENESIS, entry_hash, walk


def chain(n: int, organization: int | None = 7) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    previous = GENESIS
    start = datetime(2026, 11, 22, 3, 14, 15, 120000, tzinfo=UTC)
    for i in range(1, n + 1):
        entry: dict[str, Any] = {
            "id": 100 + i,
            "organization": organization,
            "sequence": i,
            "previous_hash": previous,
            "created_at": start + timedelta(seconds=i),
            "actor": f"ana{i}@example.com",
            "action": "post.approved",
            "object_type": "publishing.post",
            "object_id": str(i),
            "object_repr": "<b>Hola</b> \u202e😀",
            "changes": {"state": ["pending", "approved"], "n": i},
            "via": "web",
            "ip_address": "2001:DB8::1",
            "user_agent": "Firefox",
        }
        entry["hash"] = entry_hash(entry)
        previous = entry["hash"]
        entries.append(entry)
    return entries


def test_the_canonical_record_is_documented_json_hashed_with_sha256():
    entry = chain(1)[0]
    expected = (
        '{"action":"post.approved","actor":"ana1@example.com","changes":{"n":1,"state":["pending","approved"]},'
        '"created_at":"2026-11-22T03:14:16.120000Z","ip_address":"2001:db8:0:0:0:0:0:1",'
        '"object_id":"1","object_repr":"<b>Hola</b> \u202e😀","object_type":"publishing.post",'
        '"organization":7,"previous_hash":"'
        + GENESIS
        + '","sequence":1,"user_agent":"Firefox","v":1,"via":"web"}'
    )
    assert audit_chain.canonical_bytes(entry) == expected.encode("utf-8")
    assert entry["hash"] == hashlib.sha256(expected.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("2001:DB8::1", "2001:db8:0:0:0:0:0:1"),
        ("2001:db8:0:0:0:0:0:1", "2001:db8:0:0:0:0:0:1"),
        ("::ffff:1.2.3.4", "0:0:0:0:0:ffff:102:304"),
        ("::ffff:102:304", "0:0:0:0:0:ffff:102:304"),
        ("::1.2.3.4", "0:0:0:0:0:0:102:304"),
        ("127.0.0.1", "127.0.0.1"),
        ("10.0.0.1/32", "10.0.0.1"),
        (None, None),
        ("", None),
    ],
)
def test_an_address_has_one_spelling(written, canonical):
    assert audit_chain.canonical_ip(written) == canonical


def test_times_and_numbers_have_one_spelling():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert audit_chain.canonical_time(moment) == "2026-01-02T03:04:05.000000Z"
    assert audit_chain.canonical_time("2026-01-02T04:04:05.000001+01:00") == "2026-01-02T03:04:05.000001Z"
    # What a JSON column gives back for 1.0 or 1e100 may be an integer: the canonical form agrees.
    written = {"a": 1.0, "b": 1e100, "c": 0.5, "d": 1e16, "e": True}
    given_back = {"a": 1, "b": 10**100, "c": 0.5, "d": 10**16, "e": True}
    assert audit_chain.canonical_json(written) == audit_chain.canonical_json(given_back)
    assert audit_chain.canonical_json(written) == '{"a":1,"b":1e+100,"c":0.5,"d":1e+16,"e":true}'


def test_a_whole_chain_is_ok_with_its_counts():
    entries = chain(5)
    report = walk(entries, 7, head_length=5, head_hash=entries[-1]["hash"])
    assert report.ok and report.entries == 5
    assert (report.first_sequence, report.last_sequence, report.head_hash) == (1, 5, entries[-1]["hash"])


def test_an_edited_entry_is_reported_where_it_is():
    entries = chain(5)
    entries[2]["changes"] = {"state": ["pending", "rejected"], "n": 3}
    report = walk(entries, 7)
    assert report.broken is not None
    assert (report.broken.kind, report.broken.sequence, report.broken.entry_id) == ("edited", 3, 103)
    assert report.broken.expected == entries[2]["hash"]  # what was sealed
    assert report.broken.found == entry_hash(entries[2])  # what the content hashes to now
    assert report.entries == 2


def test_a_deleted_entry_leaves_a_gap():
    entries = chain(5)
    del entries[2]
    report = walk(entries, 7)
    assert report.broken is not None
    assert (report.broken.kind, report.broken.sequence, report.broken.entry_id) == ("deleted", 3, 104)


def test_entries_deleted_at_the_end_are_caught_by_the_head():
    entries = chain(5)
    report = walk(entries[:3], 7, head_length=5, head_hash=entries[-1]["hash"])
    assert report.broken is not None
    assert (report.broken.kind, report.broken.sequence) == ("deleted", 4)


def test_a_reordered_entry_is_told_from_an_edited_one():
    entries = chain(5)
    by_hash = {e["hash"]: e for e in entries}
    entries[2]["sequence"], entries[3]["sequence"] = 4, 3
    entries.sort(key=lambda e: e["sequence"])
    report = walk(entries, 7, lookup=by_hash.get)
    assert report.broken is not None
    assert (report.broken.kind, report.broken.sequence, report.broken.entry_id) == ("reordered", 3, 104)
    assert "#4" in report.broken.expected


def test_a_forged_hash_is_given_away_by_the_next_link():
    entries = chain(5)
    entries[2]["action"] = "post.rejected"
    entries[2]["hash"] = entry_hash(entries[2])  # recomputed to hide the edit
    report = walk(entries, 7)
    assert report.broken is not None
    assert (report.broken.kind, report.broken.sequence, report.broken.entry_id) == ("forged", 3, 103)
    assert report.broken.expected == entries[3]["previous_hash"]
    assert report.broken.found == entries[2]["hash"]


def test_a_forged_last_entry_is_given_away_by_the_head():
    entries = chain(5)
    sealed_head = entries[-1]["hash"]
    entries[-1]["actor"] = "someone@else.example"
    entries[-1]["hash"] = entry_hash(entries[-1])
    report = walk(entries, 7, head_length=5, head_hash=sealed_head)
    assert report.broken is not None
    assert (report.broken.kind, report.broken.sequence, report.broken.entry_id) == ("forged", 5, 105)


def test_a_segment_is_anchored_on_its_first_link_and_gaps_pass_only_when_allowed():
    entries = chain(6)
    segment = walk(entries[2:], 7, complete=False)
    assert segment.ok and segment.first_sequence == 3 and segment.starts_after == entries[1]["hash"]
    filtered = [entries[0], entries[2], entries[5]]
    assert not walk(filtered, 7).ok
    assert walk(filtered, 7, allow_gaps=True).ok
    filtered[1] = dict(filtered[1], object_repr="changed")
    broken = walk(filtered, 7, allow_gaps=True).broken
    assert broken is not None and (broken.kind, broken.sequence) == ("edited", 3)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_verifies_offline_and_a_tampered_one_does_not(tmp_path: Path, fmt: str):
    entries = chain(4)
    entries[1]["object_repr"] = '=HYPERLINK("http://evil.example")'
    entries[2]["actor"] = "'quoted"
    entries[3]["user_agent"] = "+1\x00\t"
    previous = GENESIS
    for entry in entries:  # re-seal after the hostile values
        entry["previous_hash"] = previous
        entry["hash"] = entry_hash(entry)
        previous = entry["hash"]
    path = tmp_path / f"export.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(audit_chain.jsonl_line(e) for e in entries), encoding="utf-8")
    else:
        from tertulia.core.csvsafe import csv_lines

        lines = csv_lines(audit_chain.EXPORT_FIELDS, map(audit_chain.csv_values, entries), reversible=True)
        path.write_text("".join(lines), encoding="utf-8")
        text = path.read_text(encoding="utf-8")
        assert "'+1\x00" in text and "''quoted" in text
        assert "'=HYPERLINK" in text  # a spreadsheet shows it, never runs it
    assert audit_chain.main([str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("ana1@example.com", "ana9@example.com"), encoding="utf-8")
    assert audit_chain.main([str(path)]) == 1
    reports = audit_chain.verify_export(audit_chain.read_export(path.read_text(encoding="utf-8")))
    assert reports[0].broken is not None and reports[0].broken.sequence == 1


def test_an_export_line_is_the_documented_record_plus_hash_and_ids():
    entry = chain(1)[0]
    line = json.loads(audit_chain.jsonl_line(dict(entry, actor_id=5)))
    assert set(line) == set(audit_chain.EXPORT_FIELDS)
    assert line["created_at"] == "2026-11-22T03:14:16.120000Z" and line["actor_id"] == 5
