"""The playbook pages and API: list, read, edit (with the version), approve, delete, rehearse; hostile text
escaped; permissions and tenancy."""

from __future__ import annotations

from django.urls import reverse

from tertulia.api.tests.conftest import Api
from tertulia.connectors.sandbox import network  # noqa: F401  # registers the sandbox network
from tertulia.connectors.sandbox.models import SandboxCrisis
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry
from tertulia.crisis import playbooks as actions
from tertulia.crisis.models import HoldingStatement, Playbook
from tertulia.web.tests.helpers import signed_in

from .playbooks_support import HOSTILE, Team, sample, team, token, web

__all__ = ["team"]


def hostile_playbook(team: Team) -> Playbook:
    data = sample(name=f"Plan {HOSTILE}"[:120], description=HOSTILE)
    data.steps[0].details = HOSTILE
    data.contacts[0].role = HOSTILE[:120]
    data.rules[0].text = HOSTILE
    data.statements[0].body = HOSTILE
    return actions.create_playbook(web(team.manager), team.brand, data)


def test_the_pages_show_hostile_text_escaped(team: Team):
    playbook = hostile_playbook(team)
    client = signed_in(team.cm)
    for url in (
        reverse("web:crisis-playbooks"),
        reverse("web:crisis-playbook", args=[playbook.pk]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;alert" in body, url
    edit = (
        signed_in(team.manager).get(reverse("web:crisis-playbook-edit", args=[playbook.pk])).content.decode()
    )
    assert "<script>alert" not in edit and "&lt;script&gt;alert" in edit


def test_editing_through_the_page_saves_rows_in_order_and_checks_the_version(team: Team):
    client = signed_in(team.manager)
    response = client.post(
        reverse("web:crisis-playbook-new"),
        {
            "version": "0",
            "name": "Retirada de producto",
            "description": "Si hay que retirar un lote",
            "is_default": "1",
            "step_title": ["Primero", "", "Segundo"],
            "step_role": ["lead", "", "monitor"],
            "step_details": ["a", "", ""],
            "contact_user": ["", ""],
            "contact_name": ["Legal", ""],
            "contact_role": ["Abogada", ""],
            "contact_phone": ["+34 600", ""],
            "contact_email": ["", ""],
            "rule_kind": ["dont", "do"],
            "rule_text": ["No borres", ""],
            "statement_shortcut": ["espera", ""],
            "statement_language": ["es", ""],
            "statement_title": ["Espera", ""],
            "statement_body": ["Lo revisamos.", ""],
        },
    )
    assert response.status_code == 302
    playbook = Playbook.objects.get(name="Retirada de producto")
    assert [(s.title, s.role) for s in playbook.steps.all()] == [("Primero", "lead"), ("Segundo", "monitor")]
    assert playbook.is_default and playbook.rules.get().kind == "dont"
    assert playbook.statements.get().approved_at is None

    edit = reverse("web:crisis-playbook-edit", args=[playbook.pk])
    form = {
        "version": "1",
        "name": "Retirada",
        "step_title": ["Solo"],
        "step_role": [""],
        "step_details": [""],
    }
    assert client.post(edit, form).status_code == 302
    stale = client.post(edit, {**form, "name": "Otra"})
    assert stale.status_code == 409 and "Someone else saved" in stale.content.decode()
    bad = client.post(
        edit,
        {
            **form,
            "version": "2",
            "statement_shortcut": ["x"],
            "statement_language": ["??"],
            "statement_title": ["t"],
            "statement_body": ["b"],
        },
    )
    assert bad.status_code == 422
    playbook.refresh_from_db()
    assert playbook.name == "Retirada" and playbook.version == 2


def test_approving_through_the_page(team: Team):
    playbook = actions.create_playbook(web(team.manager), team.brand, sample())
    statement = playbook.statements.get(language="es")
    url = reverse("web:crisis-statement-approve", args=[playbook.pk, statement.pk])
    page = signed_in(team.manager).get(reverse("web:crisis-playbook", args=[playbook.pk])).content.decode()
    assert "someone else approves it" in page
    signed_in(team.manager).post(url, {"version": "1"})
    assert HoldingStatement.objects.get(pk=statement.pk).approved_at is None
    assert signed_in(team.contributor).post(url, {"version": "1"}).status_code == 403
    assert signed_in(team.approver).post(url, {"version": "1"}).status_code == 302
    assert HoldingStatement.objects.get(pk=statement.pk).approved_by == team.approver


def test_who_may_reach_what(team: Team):
    playbook = actions.create_playbook(web(team.manager), team.brand, sample())
    detail = reverse("web:crisis-playbook", args=[playbook.pk])
    edit = reverse("web:crisis-playbook-edit", args=[playbook.pk])
    delete = reverse("web:crisis-playbook-delete", args=[playbook.pk])
    assert signed_in(team.cm).post(edit, {"version": "1", "name": "x"}).status_code == 403
    assert signed_in(team.cm).post(delete).status_code == 403
    assert signed_in(team.limited).get(detail).status_code == 404
    assert signed_in(team.limited).post(delete).status_code == 404
    assert signed_in(team.rival).get(detail).status_code == 404
    assert signed_in(team.rival).post(delete).status_code == 404
    assert Playbook.objects.filter(pk=playbook.pk).exists()
    assert signed_in(team.manager).post(delete, {"version": "1"}).status_code == 302
    assert not Playbook.objects.filter(pk=playbook.pk).exists()


def test_the_default_button_and_the_rehearse_button(team: Team):
    client = signed_in(team.owner)
    page = client.get(reverse("web:crisis-playbooks")).content.decode()
    assert reverse("web:crisis-playbook-default") in page and reverse("web:crisis-rehearse") in page
    assert client.post(reverse("web:crisis-playbook-default")).status_code == 302
    assert Playbook.objects.filter(brand=team.brand, is_default=True).count() == 1
    # Without a sandbox channel, a clear message; with one, a staged surge.
    response = client.post(reverse("web:crisis-rehearse"), follow=True)
    assert "no sandbox channel" in response.content.decode()
    connect_channel(Actor.system(), team.brand, "sandbox", "@marca_ensayo", "Marca")
    client.post(reverse("web:crisis-rehearse"))
    assert SandboxCrisis.objects.count() == 1
    assert AuditEntry.objects.filter(action="rehearsal.stage").exists()
    assert signed_in(team.approver).post(reverse("web:crisis-rehearse")).status_code == 403


def test_the_api(team: Team):
    api = Api()
    manager = token(team.manager, team.org)
    body = {
        "brand_id": team.brand.pk,
        "name": f"API {HOSTILE}"[:120],
        "steps": [{"title": "Uno", "role": "lead"}],
        "rules": [{"kind": "dont", "text": "No borres"}],
        "statements": [{"shortcut": "espera", "language": "es", "title": "Espera", "body": HOSTILE}],
    }
    created = api.post("/crisis/playbooks", manager, body)
    assert created.status == 201, created.body
    pid = created.body["id"]
    assert created.body["statements"][0]["body"] == HOSTILE and created.body["version"] == 1
    assert api.post("/crisis/playbooks", manager, {**body, "name": "x", "bogus": 1}).status == 422
    assert (
        api.post(
            "/crisis/playbooks", manager, {**body, "name": "y", "steps": [{"title": "a", "role": "boss"}]}
        ).status
        == 422
    )
    assert api.post("/crisis/playbooks", token(team.cm, team.org), {**body, "name": "z"}).status == 403
    assert api.post("/crisis/playbooks", token(team.limited, team.org), {**body, "name": "z"}).status == 404

    update = {k: v for k, v in body.items() if k != "brand_id"} | {"name": "Nuevo", "version": 1}
    assert api.put(f"/crisis/playbooks/{pid}", manager, update).status == 200
    assert api.put(f"/crisis/playbooks/{pid}", manager, update).status == 409

    sid = created.body["statements"][0]["id"]
    assert (
        api.post(f"/crisis/playbooks/{pid}/statements/{sid}/approve", manager, {}).status == 403
    )  # the writer
    approved = api.post(
        f"/crisis/playbooks/{pid}/statements/{sid}/approve", token(team.approver, team.org), {"version": 2}
    )
    assert approved.status == 200 and approved.body["approved_by_id"] == team.approver.pk

    listed = api.get("/crisis/playbooks", token(team.cm, team.org))
    assert [p["id"] for p in listed.body] == [pid]
    assert api.get("/crisis/playbooks", token(team.limited, team.org)).body == []
    rival = token(team.rival, team.rival_org)
    assert api.get(f"/crisis/playbooks/{pid}", rival).status == 404
    assert api.put(f"/crisis/playbooks/{pid}", rival, update | {"version": 2}).status == 404
    assert api.delete(f"/crisis/playbooks/{pid}", rival).status == 404
    assert api.get("/crisis/playbooks", token(team.cm, team.org, ["brands:read"])).status == 403

    default = api.post(f"/brands/{team.other_brand.pk}/crisis/default-playbook", manager)
    assert default.status == 200 and default.body["is_default"]
    assert all(s["approved_at"] is None for s in default.body["statements"])
    assert api.delete(f"/crisis/playbooks/{pid}?version=1", manager).status == 409
    assert api.delete(f"/crisis/playbooks/{pid}?version=2", manager).status == 204
