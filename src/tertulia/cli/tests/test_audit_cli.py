"""`tertulia audit verify|export|verify-file` and `tertulia delete-organization`, as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.utils import timezone

from tertulia.cli import main as cli_main
from tertulia.cli.main import cli
from tertulia.core import audit_chain
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.audit_db import drop_triggers, install_triggers
from tertulia.core.models import AuditChain, AuditEntry, Organization
from tertulia.core.tests.factories import make_org

pytestmark = pytest.mark.django_db

HOSTILE = '=cmd|"/c calc"!A1 <b>x</b> \u202e😀'


@pytest.fixture(autouse=True)
def _services_are_there(monkeypatch):
    # The check opens and closes its own connection, which would end the test's transaction.
    monkeypatch.setattr(cli_main, "require_services", lambda: None)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def org() -> Organization:
    org = make_org("Acme")
    for i in range(6):
        record(Actor.system(HOSTILE), org, "test.step", None, {"step": [i, i + 1], "text": HOSTILE}, "test.x")
    return org


def test_verify_reports_ok_with_counts(org):
    code, output = run("audit", "verify")
    assert code == 0
    length = AuditChain.objects.get(organization=org).length
    assert f"organization {org.slug} (id {org.pk}): OK, {length} entries (#1 to #{length})" in output
    code, output = run("audit", "verify", "--organization", org.slug, "--json")
    data = json.loads(output)
    assert code == 0 and data["ok"] and data["missing_triggers"] == []
    assert [(c["organization"], c["entries"], c["broken"]) for c in data["chains"]] == [
        (org.pk, length, None)
    ]


def test_verify_reports_the_first_broken_link_and_fails(org):
    target = AuditEntry.objects.get(organization=org, sequence=4)
    drop_triggers()
    try:
        AuditEntry.objects.filter(pk=target.pk).update(object_repr="nothing to see")
    finally:
        install_triggers()
    code, output = run("audit", "verify", "--organization", org.slug)
    assert code == 1
    assert f"BROKEN at #4 (entry id {target.pk}): edited" in output
    assert f"expected: {target.hash}" in output
    code, output = run("audit", "verify", "--json")
    assert code == 1
    broken = json.loads(output)["chains"]
    assert [c["broken"]["sequence"] for c in broken if c["organization"] == org.pk] == [4]


def test_verify_fails_when_the_triggers_are_missing(org):
    drop_triggers()
    try:
        code, output = run("audit", "verify")
    finally:
        install_triggers()
    assert code == 1 and "triggers MISSING" in output


def test_an_unknown_organization_is_a_clear_error():
    result = CliRunner().invoke(cli, ["audit", "verify", "--organization", "nope"])
    assert result.exit_code == 2 and "no organization with the slug 'nope'" in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_verifies_offline_and_a_tampered_one_does_not(org, tmp_path: Path, fmt: str):
    path = tmp_path / f"acme.{fmt}"
    code, _ = run("audit", "export", "--organization", org.slug, "--format", fmt, "-o", str(path))
    assert code == 0
    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        assert "'=cmd" in text  # guarded for spreadsheets, and still verifiable
    code, output = run("audit", "verify-file", str(path))
    assert code == 0, output
    assert f"{AuditChain.objects.get(organization=org).length} entries" in output
    path.write_text(text.replace('"step', '"stop', 1).replace('""step', '""stop', 1), encoding="utf-8")
    code, output = run("audit", "verify-file", str(path), "--json")
    assert code == 1
    assert json.loads(output)["chains"][0]["broken"]["kind"] == "edited"


def test_export_to_standard_output_is_json_lines_with_the_hashes(org):
    code, output = run("audit", "export", "--organization", org.slug)
    lines = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and [line["sequence"] for line in lines] == list(range(1, len(lines) + 1))
    assert lines[-1]["hash"] == AuditChain.objects.get(organization=org).head_hash
    assert set(lines[0]) == set(audit_chain.EXPORT_FIELDS)


def test_an_export_by_dates_is_an_unbroken_segment(org, tmp_path: Path):
    now = timezone.now()
    code, output = run(
        "audit",
        "export",
        "--organization",
        org.slug,
        "--since",
        (now - timedelta(days=1)).date().isoformat(),
        "--until",
        now.date().isoformat(),
    )
    assert code == 0 and len(output.splitlines()) == AuditChain.objects.get(organization=org).length
    later = datetime.now(UTC) + timedelta(days=2)
    code, output = run("audit", "export", "--organization", org.slug, "--since", later.isoformat())
    assert code == 0 and output == ""
    # A segment from the middle: anchored on the entry before it.
    third = AuditEntry.objects.get(organization=org, sequence=3)
    path = tmp_path / "segment.jsonl"
    code, _ = run(
        "audit",
        "export",
        "--organization",
        org.slug,
        "--since",
        third.created_at.isoformat(),
        "-o",
        str(path),
    )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["sequence"] == 3
    assert lines[0]["previous_hash"] == AuditEntry.objects.get(organization=org, sequence=2).hash
    code, output = run("audit", "verify-file", str(path))
    assert code == 0 and "a segment: it starts after hash" in output
    code, _ = run("audit", "export", "--organization", org.slug, "--since", "yesterday")
    assert code == 2


def test_delete_organization_needs_the_slug_twice_and_leaves_a_trace(org, tmp_path: Path):
    code, _ = run("delete-organization", org.slug)
    assert code == 2 and Organization.objects.filter(pk=org.pk).exists()
    saved = tmp_path / "acme.jsonl"
    head = AuditChain.objects.get(organization=org)
    code, output = run("delete-organization", org.slug, "--confirm", org.slug, "--export", str(saved))
    assert code == 0, output
    assert not Organization.objects.filter(slug="acme").exists()
    assert head.head_hash in output
    assert run("audit", "verify-file", str(saved))[0] == 0
    trace = AuditEntry.objects.get(organization=None, action="organization.delete")
    assert trace.changes["audit_head_hash"][0] == head.head_hash
    assert run("audit", "verify")[0] == 0
