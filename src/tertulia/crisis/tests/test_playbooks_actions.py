"""Playbooks: validation, optimistic locking, statement approval, the default playbook, permissions,
tenancy and the audit trail (tertulia.crisis.playbooks)."""

from __future__ import annotations

import pytest

from tertulia.core.models import AuditEntry
from tertulia.crisis import playbooks as actions
from tertulia.crisis.models import HoldingStatement, Playbook

from .playbooks_support import HOSTILE, Team, sample, team, web

__all__ = ["team"]


def test_a_playbook_is_created_with_its_parts_in_order_and_audited(team: Team):
    playbook = actions.create_playbook(web(team.manager), team.brand, sample())
    assert [s.title for s in playbook.steps.all()] == ["Reúne al equipo", "Publica el mensaje de espera"]
    assert [s.role for s in playbook.steps.all()] == ["lead", "spokesperson"]
    assert [r.kind for r in playbook.rules.all()] == ["dont", "do"]
    assert playbook.contacts.get().phone == "+34 600 000 000"
    assert {(s.shortcut, s.language) for s in playbook.statements.all()} == {
        ("espera", "es"),
        ("espera", "en"),
    }
    assert not any(s.is_approved for s in playbook.statements.all())
    assert playbook.version == 1 and playbook.updated_by == team.manager
    entry = AuditEntry.objects.get(action="playbook.create")
    assert entry.organization_id == team.org.pk and entry.object_id == str(playbook.pk)


def test_hostile_text_is_stored_verbatim(team: Team):
    data = sample(description=HOSTILE)
    data.steps[0].details = HOSTILE
    data.statements[0].body = HOSTILE
    playbook = actions.create_playbook(web(team.manager), team.brand, data)
    assert playbook.description == HOSTILE.strip()
    assert playbook.steps.first().details == HOSTILE.strip()  # type: ignore[union-attr]  # the row exists: made just above
    assert playbook.statements.get(language="es").body == HOSTILE.strip()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "at most 120"),
        ({"name": "dos\nlíneas"}, "one line"),
        ({"description": "x" * 2001}, "at most 2000"),
        ({"name": "nul\x00"}, "cannot be stored"),
        ({"steps": [actions.StepIn("a", "", "boss")]}, "unknown crisis role"),
        ({"steps": [actions.StepIn("", "only details")]}, "required"),
        ({"steps": [actions.StepIn("Same"), actions.StepIn("same")]}, "same title"),
        ({"steps": [actions.StepIn(f"s{i}") for i in range(actions.MAX_STEPS + 1)]}, "at most"),
        ({"contacts": [actions.ContactIn("A", phone="call me<script>")]}, "phone"),
        ({"contacts": [actions.ContactIn("A", email="not-an-address")]}, "e-mail"),
        ({"rules": [actions.RuleIn("x", "maybe")]}, "do or a don't"),
        ({"rules": [actions.RuleIn("Same rule"), actions.RuleIn("same RULE", "dont")]}, "same thing"),
        ({"statements": [actions.StatementIn("a b", "es", "t", "b")]}, "shortcut"),
        ({"statements": [actions.StatementIn("a", "klingon", "t", "b")]}, "language code"),
        ({"statements": [actions.StatementIn("a", "zz", "t", "b")]}, "language code"),
        (
            {
                "statements": [
                    actions.StatementIn("a", "es", "t", "b"),
                    actions.StatementIn("A", "es", "u", "c"),
                ]
            },
            "/a",
        ),
        ({"statements": [actions.StatementIn("a", "es", "t", "x" * 5001)]}, "at most 5000"),
    ],
)
def test_invalid_playbooks_are_refused_and_nothing_is_written(team: Team, change: dict, message: str):
    with pytest.raises(actions.PlaybookRefused) as refused:
        actions.create_playbook(web(team.manager), team.brand, sample(**change))
    assert message in str(refused.value)
    assert (
        not Playbook.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="playbook").exists()
    )


def test_names_are_unique_per_brand_not_across_brands(team: Team):
    actions.create_playbook(web(team.manager), team.brand, sample("Caída"))
    with pytest.raises(actions.PlaybookRefused):
        actions.create_playbook(web(team.manager), team.brand, sample("CAÍDA"))
    actions.create_playbook(web(team.manager), team.other_brand, sample("Caída"))


def test_a_contact_must_be_someone_working_in_the_brand(team: Team):
    with pytest.raises(actions.PlaybookRefused, match="does not work in this brand"):
        actions.create_playbook(
            web(team.manager),
            team.brand,
            sample(contacts=[actions.ContactIn("Rival", user_id=team.rival.pk)]),
        )
    with pytest.raises(actions.PlaybookRefused, match="does not work in this brand"):
        actions.create_playbook(
            web(team.manager),
            team.brand,
            sample(contacts=[actions.ContactIn("Lim", user_id=team.limited.pk)]),
        )
    playbook = actions.create_playbook(
        web(team.manager), team.brand, sample(contacts=[actions.ContactIn("CM", user_id=team.cm.pk)])
    )
    assert playbook.contacts.get().user == team.cm


def test_one_default_per_brand(team: Team):
    first = actions.create_playbook(web(team.manager), team.brand, sample("Uno", is_default=True))
    second = actions.create_playbook(web(team.manager), team.brand, sample("Dos", is_default=True))
    first.refresh_from_db()
    assert not first.is_default and second.is_default
    actions.update_playbook(web(team.manager), first, sample("Uno", is_default=True), first.version)
    second.refresh_from_db()
    assert not second.is_default and Playbook.objects.get(pk=first.pk).is_default


def test_a_save_over_a_newer_version_is_refused(team: Team):
    playbook = actions.create_playbook(web(team.manager), team.brand, sample())
    saved = actions.update_playbook(web(team.manager), playbook, sample("Nuevo nombre"), 1)
    assert saved.version == 2 and saved.name == "Nuevo nombre"
    with pytest.raises(actions.StaleVersion):
        actions.update_playbook(web(team.owner), playbook, sample("Lo de otra"), 1)
    playbook.refresh_from_db()
    assert playbook.name == "Nuevo nombre" and playbook.version == 2
    with pytest.raises(actions.StaleVersion):
        actions.delete_playbook(web(team.owner), playbook, 1)
    actions.delete_playbook(web(team.owner), playbook, 2)
    assert not Playbook.objects.filter(pk=playbook.pk).exists()
    assert AuditEntry.objects.filter(action="playbook.delete", object_id=str(playbook.pk)).exists()


def test_approval_by_a_second_person_and_lost_when_the_text_changes(team: Team):
    playbook = actions.create_playbook(web(team.manager), team.brand, sample())
    spanish = playbook.statements.get(language="es")
    with pytest.raises(actions.NotPermitted, match="other than its writer"):
        actions.approve_statement(web(team.manager), spanish)
    with pytest.raises(actions.NotPermitted):
        actions.approve_statement(web(team.contributor), spanish)  # contributors approve nothing
    with pytest.raises(actions.StaleVersion):
        actions.approve_statement(web(team.approver), spanish, version=7)
    actions.approve_statement(web(team.approver), spanish, version=1)
    english = playbook.statements.get(language="en")
    actions.approve_statement(web(team.owner), english)
    assert HoldingStatement.objects.get(pk=spanish.pk).approved_by == team.approver
    assert [s.language for s in actions.approved_statements(playbook)] == ["en", "es"]
    assert AuditEntry.objects.filter(action="playbook.statement_approve").count() == 2

    # The Spanish text changes: its approval goes; the English one is untouched and keeps it.
    data = sample()
    data.statements[0].body = "Texto nuevo"
    saved = actions.update_playbook(web(team.owner), playbook, data, playbook.version)
    spanish = saved.statements.get(language="es")
    assert spanish.approved_at is None and spanish.edited_by == team.owner
    assert saved.statements.get(language="en").approved_by == team.owner
    entry = AuditEntry.objects.get(action="playbook.update")
    assert entry.changes["unapproved"] == [None, ["/espera (es)"]]
    # The owner wrote it now: the manager (or an approver) approves it, not the owner.
    with pytest.raises(actions.NotPermitted):
        actions.approve_statement(web(team.owner), spanish)
    actions.approve_statement(web(team.manager), spanish)
    actions.unapprove_statement(web(team.approver), spanish)
    assert HoldingStatement.objects.get(pk=spanish.pk).approved_at is None


def test_who_may_edit_is_who_manages_publishing_in_the_brand(team: Team):
    for user in (team.cm, team.approver, team.contributor, team.limited, team.rival):
        with pytest.raises(actions.NotPermitted):
            actions.create_playbook(web(user), team.brand, sample())
    with pytest.raises(actions.NotPermitted):
        actions.create_playbook(web(None), team.brand, sample())
    playbook = actions.create_playbook(web(team.manager), team.brand, sample())
    with pytest.raises(actions.NotPermitted):
        actions.update_playbook(web(team.limited), playbook, sample("x"), 1)
    with pytest.raises(actions.NotPermitted):
        actions.delete_playbook(web(team.cm), playbook)
    # The limited manager works in the other brand.
    actions.create_playbook(web(team.limited), team.other_brand, sample())
    assert not AuditEntry.objects.filter(action="playbook.update").exists()


def test_each_person_sees_the_playbooks_of_their_brands_only(team: Team):
    mine = actions.create_playbook(web(team.manager), team.brand, sample())
    other = actions.create_playbook(web(team.manager), team.other_brand, sample())
    assert set(actions.playbooks_for(team.cm, team.org)) == {mine, other}
    assert set(actions.playbooks_for(team.limited, team.org)) == {other}
    assert not actions.playbooks_for(team.rival, team.org).exists()
    assert not actions.playbooks_for(team.rival, team.rival_org).exists()


def test_the_default_playbook_follows_seed_001_in_the_brand_language_and_is_not_approved(team: Team):
    team.brand.language = "es"
    team.brand.save(update_fields=["language"])
    playbook = actions.default_playbook(team.brand)
    assert playbook.is_default and playbook.name == "Plan de crisis"
    titles = [s.title for s in playbook.steps.all()]
    assert titles[0].startswith("Primer paso")
    assert any("No borres los comentarios negativos" in r.text for r in playbook.rules.all())
    assert {s.language for s in playbook.statements.all()} == {"es", "en"}
    assert not any(s.is_approved for s in playbook.statements.all())
    assert playbook.contacts.filter(user=team.owner).exists()
    assert actions.default_playbook(team.brand) == playbook  # on demand, once
    assert Playbook.objects.filter(brand=team.brand).count() == 1
    # Anyone who may approve approves them: nobody wrote them.
    actions.approve_statement(web(team.approver), playbook.statements.get(shortcut="holding", language="es"))

    team.other_brand.language = "en"
    team.other_brand.save(update_fields=["language"])
    english = actions.default_playbook(team.other_brand)
    assert english.name == "Crisis playbook"
    assert english.steps.all()[0].title.startswith("First step")
    assert {s.language for s in english.statements.all()} == {"es", "en"}


def test_a_brand_with_playbooks_but_no_default_gets_its_first(team: Team):
    first = actions.create_playbook(web(team.manager), team.brand, sample("Uno"))
    actions.create_playbook(web(team.manager), team.brand, sample("Dos"))
    assert actions.default_playbook(team.brand) == first
    assert Playbook.objects.filter(brand=team.brand).count() == 2
