"""`tertulia audit verify|export|verify-file` and `tertulia delete-organization`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

import click

from tertulia.cli.bootstrap import fail
from tertulia.core import audit_chain


def _organization(slug: str):  # type: ignore[no-untyped-def]  # an Organization (imported late)
    from tertulia.core.models import Organization

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        fail(f"no organization with the slug {slug!r}")
    return organization


def verify(slug: str | None, as_json: bool) -> int:
    """Walk the chains; print each one's result; 0 if every chain is whole and the triggers are there."""
    from tertulia.core.actions.audit import verify as verify_chains
    from tertulia.core.audit_db import missing_triggers

    target = _organization(slug) if slug else "all"
    reports = verify_chains(target)
    missing = missing_triggers()
    ok = all(r.ok for r in reports) and not missing
    if as_json:
        click.echo(
            json.dumps(
                {"ok": ok, "chains": [r.as_dict() for r in reports], "missing_triggers": missing},
                ensure_ascii=False,
            )
        )
    else:
        for report in reports:
            for line in audit_chain.describe(report):
                click.echo(line)
        if not reports:
            click.echo("no audit entries yet")
        if missing:
            click.echo(
                f"append-only triggers MISSING: {', '.join(missing)} "
                "(run `tertulia migrate` to put them back, and find out who removed them)"
            )
    return 0 if ok else 1


def parse_when(value: str | None, *, end: bool) -> datetime | None:
    """An ISO date or date-time; a bare date as --until means the end of that day. UTC unless given."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2026-11-30) or a date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def write_export(entries: Iterable[Mapping[str, Any]], fmt: str, out: IO[str]) -> int:
    """Write export rows (JSON lines, or CSV with a header, guarded for spreadsheets); returns how many."""
    from tertulia.core.csvsafe import csv_lines

    counted = _Counter(entries)
    if fmt == "csv":
        lines: Iterable[str] = csv_lines(
            audit_chain.EXPORT_FIELDS, map(audit_chain.csv_values, counted), reversible=True
        )
    else:
        lines = map(audit_chain.jsonl_line, counted)
    for line in lines:
        out.write(line)
    return counted.count


class _Counter:
    def __init__(self, items: Iterable[Mapping[str, Any]]) -> None:
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for item in self.items:
            self.count += 1
            yield item


def export(slug: str, since: str | None, until: str | None, fmt: str, output: str | None) -> None:
    from tertulia.core.actions.audit import export_segment

    organization = _organization(slug)
    start, end = parse_when(since, end=False), parse_when(until, end=True)
    entries = export_segment(organization, start, end)
    if output:
        with Path(output).open("w", encoding="utf-8", newline="") as handle:
            count = write_export(entries, fmt, handle)
        click.echo(f"{count} entries written to {output}", err=True)
    else:
        write_export(entries, fmt, sys.stdout)


def verify_file(path: str, allow_gaps: bool, as_json: bool) -> int:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    reports = audit_chain.verify_export(audit_chain.read_export(text), allow_gaps=allow_gaps)
    ok = bool(reports) and all(r.ok for r in reports)
    if as_json:
        click.echo(json.dumps({"ok": ok, "chains": [r.as_dict() for r in reports]}, ensure_ascii=False))
    else:
        if not reports:
            click.echo("no entries in the file")
        for report in reports:
            for line in audit_chain.describe(report):
                click.echo(line)
    return 0 if ok else 1


def delete_organization(slug: str, confirm: str, export_to: str | None) -> None:
    from tertulia.core.actions.audit import delete_organization as delete
    from tertulia.core.actions.audit import export_segment
    from tertulia.core.actions.context import Actor

    organization = _organization(slug)
    if confirm != slug:
        fail(
            f"this deletes {slug!r} and everything it owns, audit trail included: "
            "repeat the slug with --confirm"
        )
    if export_to:
        with Path(export_to).open("w", encoding="utf-8", newline="") as handle:
            count = write_export(export_segment(organization), "jsonl", handle)
        click.echo(f"{count} audit entries exported to {export_to}")
    summary = delete(Actor.cli(), organization)
    click.echo(
        f"deleted organization {slug!r}: its audit chain had {summary['entries']} entries, last hash "
        f"{summary['head_hash']} (kept in the installation chain's entry)"
    )
