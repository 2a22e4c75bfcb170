"""The audit trail's hash chain: canonical form, hashes, and the walk that finds the first broken link.

Standard library only, on purpose: an auditor can copy this one file and check an export offline
(`python audit_chain.py export.jsonl`) without installing Tertulia. The database side (locking a
chain's head, appending, reading entries in order) is in `tertulia.core.actions.audit`; the format is
documented in docs/audit.md ("The chain").

Each organization has its own chain, and entries with no organization have one more (the
installation's). An entry's hash is the SHA-256, in lower-case hex, of the UTF-8 bytes of its
canonical record:

    {"action":…,"actor":…,"changes":…,"created_at":"2026-11-22T03:14:15.123456Z","ip_address":…,
     "object_id":…,"object_repr":…,"object_type":…,"organization":3,"previous_hash":"…",
     "sequence":42,"user_agent":…,"v":1,"via":…}

that is, JSON with the keys sorted, no spaces, non-ASCII characters as they are (not escaped), and
numbers as Python writes them (an integral number below 2**53 as an integer, any other number as
a float: 0.5, 1e+100). `previous_hash` is the
hash of the entry before it in the same chain (64 zeros for the first), so every entry covers all
those before it.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import ipaddress
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VERSION = 1
GENESIS = "0" * 64

# The recorded fields, by their name in the canonical record and in exports.
CANONICAL_FIELDS = (
    "v",
    "organization",
    "sequence",
    "previous_hash",
    "created_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "via",
    "ip_address",
    "user_agent",
)
# Export columns: the canonical fields, then the entry's hash, its row id and the person's id (neither
# is covered by the hash: the id is where the database keeps it, and the person may be deleted).
EXPORT_FIELDS = (*CANONICAL_FIELDS, "hash", "id", "actor_id")
# CSV exports are guarded against formula injection: a cell that a spreadsheet would run (= + - @ tab
# CR and their full-width forms), or that starts with ' itself, gets a ' in front
# (tertulia.core.csvsafe, reversible form); reading one takes a single leading ' away.


# --- canonical form ------------------------------------------------------------------------------


def canonical_time(value: datetime | str) -> str:
    """UTC, microseconds always written: 2026-11-22T03:14:15.000000Z."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=4096)
def canonical_ip(value: str | None) -> str | None:
    """IPv4 dotted; IPv6 as eight lower-case hex groups without leading zeros and without "::".

    The same address can be written many ways (PostgreSQL and Python compress IPv6 differently),
    so the record holds one spelling anyone can produce.
    """
    if value is None or value == "":
        return None
    try:
        address = ipaddress.ip_address(value.split("/")[0].strip())
    except ValueError:
        return value  # not an address: kept as written (and still covered by the hash)
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    packed = address.packed
    return ":".join(f"{int.from_bytes(packed[i : i + 2], 'big'):x}" for i in range(0, 16, 2))


EXACT_INTEGERS = 2**53  # every integer below this (in absolute value) is exactly a float too


def _plain(value: Any) -> Any:
    """JSON numbers by value: an integral number below 2**53 is an integer, any other one a float.

    A JSON column may give back 1e16 as 10000000000000000, or 1e100 as a 101-digit integer
    (PostgreSQL's jsonb); both sides of the comparison must then write it the same way.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return float(value)
        if abs(value) < EXACT_INTEGERS:
            return int(value)
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> str:
    return _dumps(_plain(value))


def canonical_record(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed record of an entry given by its export fields (extra keys are ignored)."""
    organization = entry.get("organization")
    return {
        "v": int(entry.get("v") or VERSION),
        "organization": None if organization in (None, "") else int(str(organization)),
        "sequence": int(entry["sequence"]),
        "previous_hash": str(entry["previous_hash"]),
        "created_at": canonical_time(entry["created_at"]),
        "actor": str(entry.get("actor") or ""),
        "action": str(entry.get("action") or ""),
        "object_type": str(entry.get("object_type") or ""),
        "object_id": str(entry.get("object_id") or ""),
        "object_repr": str(entry.get("object_repr") or ""),
        "changes": _plain(entry.get("changes")) if entry.get("changes") is not None else {},
        "via": str(entry.get("via") or ""),
        "ip_address": canonical_ip(entry.get("ip_address")),
        "user_agent": str(entry.get("user_agent") or ""),
    }


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    # surrogatepass: a lone surrogate cannot reach a database, but hashing must never crash on one.
    # The record's other fields are plain already: only `changes` went through _plain.
    return _dumps(canonical_record(entry)).encode("utf-8", "surrogatepass")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of the entry's canonical record; `entry` needs every canonical field."""
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


# --- the walk ------------------------------------------------------------------------------------

# What can be wrong, in the order a reader meets it.
EDITED = "edited"  # the entry's content no longer matches its hash
DELETED = "deleted"  # a number is missing (a gap), or entries are missing at the end
REORDERED = "reordered"  # the entry is intact but sits at another number than it was sealed at
FORGED = "forged"  # the entry was changed and its hash recomputed: the next entry's link gives it away
DUPLICATE = "duplicate"  # two entries claim the same number
UNREADABLE = "unreadable"  # a row or line that cannot be read as an entry


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain: where, which entry, what was expected and what was found."""

    kind: str
    sequence: int
    entry_id: Any
    expected: str
    found: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChainReport:
    organization: int | None
    entries: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    head_hash: str = GENESIS
    starts_after: str = GENESIS  # previous_hash of the first entry read (a segment's anchor)
    broken: Break | None = None
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        data = {
            "organization": self.organization,
            "label": self.label,
            "ok": self.ok,
            "entries": self.entries,
            "first_sequence": self.first_sequence,
            "last_sequence": self.last_sequence,
            "head_hash": self.head_hash,
            "starts_after": self.starts_after,
            "broken": self.broken.as_dict() if self.broken else None,
        }
        data.update(self.extra)
        return data


Lookup = Callable[[str], Mapping[str, Any] | None]


class ChainWalker:
    """Feed one chain's entries in sequence order; it stops at the first broken link.

    `complete`: the chain must start at number 1 after the genesis hash (a whole chain); otherwise it
    is a segment (an export with --since) and is anchored on its first entry's previous hash.
    `allow_gaps`: a filtered list (the web page's CSV): every entry is checked on its own, and links
    only between consecutive numbers.
    `lookup`: finds an entry of this chain by its stored hash, to tell a reordered entry from an
    edited one (optional; without it, every mismatch reads as an edit).
    """

    def __init__(
        self,
        organization: int | None,
        *,
        complete: bool = True,
        allow_gaps: bool = False,
        lookup: Lookup | None = None,
    ) -> None:
        self.report = ChainReport(organization)
        self.complete = complete
        self.allow_gaps = allow_gaps
        self.lookup = lookup
        self._expected_sequence: int | None = 1 if complete else None
        self._previous: Mapping[str, Any] | None = None

    @property
    def broken(self) -> bool:
        return self.report.broken is not None

    def _break(self, kind: str, sequence: int, entry_id: Any, expected: str, found: str, detail: str) -> None:
        self.report.broken = Break(kind, sequence, entry_id, expected, found, detail)

    def feed(self, entry: Mapping[str, Any]) -> bool:
        """Check one entry; False once the chain is broken (stop feeding)."""
        if self.broken:
            return False
        report = self.report
        try:
            sequence = int(entry["sequence"])
            recomputed = entry_hash(entry)
        except (KeyError, TypeError, ValueError) as error:
            at = (self._expected_sequence or 0) if self._expected_sequence is not None else 0
            self._break(UNREADABLE, at, entry.get("id"), "an entry", "unreadable", f"cannot read it: {error}")
            return False
        stored, linked_to = str(entry.get("hash") or ""), str(entry.get("previous_hash") or "")
        if self._expected_sequence is None:  # a segment: its first entry anchors it
            self._expected_sequence = sequence
            report.starts_after = linked_to
            expected_previous = linked_to
        elif self._previous is None:
            expected_previous = GENESIS
        else:
            expected_previous = str(self._previous["hash"])
        expected_sequence = self._expected_sequence
        intact = recomputed == stored
        entry_id = entry.get("id")

        if sequence < expected_sequence:
            self._break(
                DUPLICATE,
                sequence,
                entry_id,
                f"number {expected_sequence} or later",
                f"number {sequence} again",
                f"entry {entry_id} claims number {sequence}, which an earlier entry already has",
            )
            return False
        if (
            sequence > expected_sequence
            and not self.allow_gaps
            and (intact or self._sealed_at(entry) is None)
        ):
            missing = (
                f"#{expected_sequence}"
                if sequence == expected_sequence + 1
                else f"#{expected_sequence} to #{sequence - 1}"
            )
            self._break(
                DELETED,
                expected_sequence,
                entry_id,
                f"entry #{expected_sequence}",
                f"entry #{sequence} (id {entry_id}) comes next",
                f"{missing} missing: deleted",
            )
            return False
        if not intact:
            sealed = self._sealed_at(entry)
            if sealed is not None and sealed != sequence:
                self._break(
                    REORDERED,
                    sequence,
                    entry_id,
                    f"entry sealed as #{sealed}",
                    f"it is at #{sequence}",
                    f"entry {entry_id} is intact but was moved from #{sealed} to #{sequence}",
                )
            else:
                self._break(
                    EDITED,
                    sequence,
                    entry_id,
                    stored,
                    recomputed,
                    f"entry {entry_id} was changed after it was recorded: its content no longer "
                    "matches its hash",
                )
            return False
        gap = self.allow_gaps and sequence != expected_sequence
        if not gap and linked_to != expected_previous:
            if self._previous is not None:
                previous = self._previous
                self._break(
                    FORGED,
                    int(previous["sequence"]),
                    previous.get("id"),
                    linked_to,
                    str(previous["hash"]),
                    f"entry {previous.get('id')} was changed and its hash recomputed: entry "
                    f"#{sequence} (id {entry_id}) was chained to another hash",
                )
            else:
                self._break(
                    FORGED,
                    sequence,
                    entry_id,
                    expected_previous,
                    linked_to,
                    f"entry {entry_id} is the first of the chain but is chained to another hash",
                )
            return False
        self._previous = {"sequence": sequence, "hash": stored, "id": entry_id}
        self._expected_sequence = sequence + 1
        report.entries += 1
        if report.first_sequence is None:
            report.first_sequence = sequence
            if self.complete:
                report.starts_after = linked_to
        report.last_sequence = sequence
        report.head_hash = stored
        return True

    def _sealed_at(self, entry: Mapping[str, Any], depth: int = 0) -> int | None:
        """The number an entry was sealed at, found through the entry its previous hash names."""
        stored, linked_to = str(entry.get("hash") or ""), str(entry.get("previous_hash") or "")
        candidate = self._number_after(linked_to, depth)
        if candidate is None:
            return None
        if entry_hash({**entry, "sequence": candidate}) == stored:
            return candidate
        return None

    def _number_after(self, previous_hash: str, depth: int) -> int | None:
        if previous_hash == GENESIS:
            return 1
        if self.lookup is None or depth > 20:
            return None
        before = self.lookup(previous_hash)
        if before is None:
            return None
        try:
            if entry_hash(before) == str(before.get("hash")):
                return int(before["sequence"]) + 1
        except (KeyError, TypeError, ValueError):
            return None
        sealed = self._sealed_at(before, depth + 1)
        return None if sealed is None else sealed + 1

    def finish(self, head_length: int | None = None, head_hash: str | None = None) -> ChainReport:
        """End of the entries; `head_length`/`head_hash`: what the chain's head row says, if known."""
        report = self.report
        if self.broken or head_length is None:
            return report
        last = report.last_sequence or 0
        if last < head_length:
            self._break(
                DELETED,
                last + 1,
                None,
                f"{head_length} entries",
                f"the last is #{last}",
                f"#{last + 1} to #{head_length} missing at the end: deleted"
                if head_length > last + 1
                else f"#{head_length} missing at the end: deleted",
            )
        elif last > head_length:
            self._break(
                DUPLICATE,
                head_length + 1,
                None,
                f"{head_length} entries",
                f"the last is #{last}",
                "entries beyond the chain's head: added without the chain's lock",
            )
        elif head_hash is not None and last and report.head_hash != head_hash and self._previous is not None:
            self._break(
                FORGED,
                last,
                self._previous.get("id"),
                head_hash,
                report.head_hash,
                f"entry {self._previous.get('id')} (the last) was changed and its hash recomputed: "
                "the chain's head holds another hash",
            )
        return report


def walk(
    entries: Iterable[Mapping[str, Any]],
    organization: int | None = None,
    *,
    complete: bool = True,
    allow_gaps: bool = False,
    lookup: Lookup | None = None,
    head_length: int | None = None,
    head_hash: str | None = None,
) -> ChainReport:
    """Check one chain's entries (in sequence order): the report says OK or the first broken link."""
    walker = ChainWalker(organization, complete=complete, allow_gaps=allow_gaps, lookup=lookup)
    for entry in entries:
        if not walker.feed(entry):
            break
    return walker.finish(head_length, head_hash)


# --- exports -------------------------------------------------------------------------------------


def export_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as exports write it: the canonical fields (times and addresses in canonical form)."""
    row = canonical_record(entry)
    row["hash"] = entry.get("hash")
    row["id"] = entry.get("id")
    row["actor_id"] = entry.get("actor_id")
    return row


def jsonl_line(entry: Mapping[str, Any]) -> str:
    return json.dumps(export_row(entry), ensure_ascii=False) + "\n"


def csv_text(value: Any) -> str:
    """One CSV cell before the formula guard: canonical JSON for `changes`, "" for null."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list):
        return canonical_json(value)
    return str(value)


def csv_values(entry: Mapping[str, Any]) -> list[str]:
    """An entry's CSV cells, in EXPORT_FIELDS order (the writer adds the formula guard)."""
    row = export_row(entry)
    return [csv_text(row[name]) for name in EXPORT_FIELDS]


def _unguard(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            yield {"id": f"line {number}", "_unreadable": True}
            continue
        yield data if isinstance(data, dict) else {"id": f"line {number}", "_unreadable": True}


def read_csv(text: str) -> Iterator[dict[str, Any]]:
    csv.field_size_limit(max(csv.field_size_limit(), 256 * 1024 * 1024))  # long changes
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    for row in reader:
        entry: dict[str, Any] = {}
        for name, raw in row.items():
            if name is None:
                continue
            value = _unguard(raw or "")
            if name == "changes":
                try:
                    entry[name] = json.loads(value) if value else {}
                except ValueError:
                    entry[name] = value
            else:
                entry[name] = (
                    None if value == "" and name in ("organization", "ip_address", "actor_id") else value
                )
        yield entry


def read_export(text: str) -> list[dict[str, Any]]:
    """The entries of an export file (JSON lines or CSV, told apart by the first character)."""
    body = text.lstrip("\ufeff").lstrip()
    if body.startswith("{"):
        return list(read_jsonl(body.splitlines()))
    return list(read_csv(text))


def verify_export(entries: Sequence[Mapping[str, Any]], *, allow_gaps: bool = False) -> list[ChainReport]:
    """Check the entries of an export, one chain per organization, each in sequence order.

    An export that does not start at #1 is a segment: it is anchored on its first entry's previous
    hash (the report's `starts_after`), which must be the last hash of the export before it.
    """
    chains: dict[int | None, list[Mapping[str, Any]]] = {}
    reports: list[ChainReport] = []
    for entry in entries:
        if entry.get("_unreadable"):
            report = ChainReport(None)
            report.broken = Break(UNREADABLE, 0, entry.get("id"), "an entry", "unreadable", "not JSON")
            reports.append(report)
            continue
        organization = entry.get("organization")
        try:
            key = None if organization in (None, "") else int(str(organization))
        except (TypeError, ValueError):
            key = -1  # not a number: its own chain, which the walk reports
        chains.setdefault(key, []).append(entry)
    for organization, rows in sorted(chains.items(), key=lambda item: (item[0] is not None, item[0] or 0)):
        with contextlib.suppress(KeyError, TypeError, ValueError):  # the walk reports an unreadable entry
            rows.sort(key=lambda e: int(e["sequence"]))
        by_hash = {str(e.get("hash")): e for e in rows}
        first = rows[0]
        complete = str(first.get("sequence")) == "1" and first.get("previous_hash") == GENESIS
        reports.append(walk(rows, organization, complete=complete, allow_gaps=allow_gaps, lookup=by_hash.get))
    return reports


def describe(report: ChainReport) -> list[str]:
    """A report in words, for a terminal."""
    name = report.label or (
        "installation chain (no organization)"
        if report.organization is None
        else f"organization {report.organization}"
    )
    if report.broken is None:
        if not report.entries:
            return [f"{name}: OK, no entries"]
        span = f"#{report.first_sequence:,} to #{report.last_sequence:,}"
        counted = f"{report.entries:,} {'entry' if report.entries == 1 else 'entries'}"
        lines = [f"{name}: OK, {counted} ({span}), head {report.head_hash}"]
        if report.first_sequence != 1:
            lines.append(f"  a segment: it starts after hash {report.starts_after}")
        return lines
    broken = report.broken
    where = f"#{broken.sequence}" + (f" (entry id {broken.entry_id})" if broken.entry_id is not None else "")
    return [
        f"{name}: BROKEN at {where}: {broken.kind}",
        f"  {broken.detail}",
        f"  expected: {broken.expected}",
        f"  found:    {broken.found}",
        f"  {report.entries:,} entries before it are intact",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """`python audit_chain.py EXPORT [--allow-gaps]`: check an export offline; exit 1 if broken."""
    args = list(sys.argv[1:] if argv is None else argv)
    allow_gaps = "--allow-gaps" in args
    paths = [a for a in args if a != "--allow-gaps"]
    if len(paths) != 1:
        print("usage: audit_chain.py EXPORT_FILE [--allow-gaps]", file=sys.stderr)
        return 2
    with Path(paths[0]).open(encoding="utf-8", newline="") as handle:
        reports = verify_export(read_export(handle.read()), allow_gaps=allow_gaps)
    for report in reports:
        for line in describe(report):
            print(line)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
