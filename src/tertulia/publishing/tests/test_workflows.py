"""Setting a brand's approval workflow: validated whole, replaced whole, audited."""

from __future__ import annotations

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Membership, Organization, Role, User
from tertulia.core.models.audit import Via
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing import approvals
from tertulia.publishing.actions.workflows import StepSpec, WorkflowRefused, set_workflow
from tertulia.publishing.models import ApprovalStep, ApprovalWorkflow, StepMode, WorkflowKind


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db) -> Organization:
    return make_org("Tertulia Café")


@pytest.fixture
def brand(org: Organization) -> Brand:
    return make_brand(org, "Café")


@pytest.fixture
def owner(org: Organization) -> User:
    return Membership.objects.get(organization=org, role=Role.OWNER).user


@pytest.fixture
def approver(org: Organization) -> User:
    return make_member(org, Role.APPROVER, email="approver@example.com")


def by(user: User | None) -> Actor:
    return Actor(user=user, via=Via.WEB)


def refused(actor: Actor, brand: Brand, steps: list[StepSpec], kind: str = WorkflowKind.NORMAL) -> str:
    with pytest.raises(WorkflowRefused) as info:
        set_workflow(actor, brand, kind, steps)
    assert info.value.messages and all(message.strip() for message in info.value.messages)
    return str(info.value)


def test_a_workflow_is_created_with_its_steps_in_order(brand: Brand, owner: User, approver: User):
    flow = set_workflow(
        by(owner),
        brand,
        WorkflowKind.NORMAL,
        [
            StepSpec("  Legal  ", StepMode.ANY, roles=[Role.APPROVER, Role.APPROVER]),
            StepSpec("Dirección", StepMode.ALL, roles=[Role.BRAND_MANAGER], people=[approver.pk]),
        ],
    )
    steps = list(flow.steps.order_by("position"))
    assert [(s.position, s.name, s.mode, s.roles) for s in steps] == [
        (1, "Legal", StepMode.ANY, [Role.APPROVER]),
        (2, "Dirección", StepMode.ALL, [Role.BRAND_MANAGER]),
    ]
    assert list(steps[1].people.all()) == [approver]
    assert flow.is_active and approvals.workflow_for(brand) == flow

    entry = AuditEntry.objects.get(action="approval_workflow.created")
    assert entry.actor == owner and entry.object_id == str(flow.pk)
    assert entry.changes["kind"] == [None, WorkflowKind.NORMAL]
    assert entry.changes["steps"][0] is None
    assert [step["name"] for step in entry.changes["steps"][1]] == ["Legal", "Dirección"]
    assert entry.changes["steps"][1][1]["people"] == [approver.pk]


def test_steps_are_replaced_whole_and_the_change_is_audited(brand: Brand, owner: User, approver: User):
    first = set_workflow(
        by(owner),
        brand,
        WorkflowKind.NORMAL,
        [StepSpec("Uno", roles=[Role.APPROVER]), StepSpec("Dos", people=[approver.pk])],
    )
    again = set_workflow(
        by(owner), brand, WorkflowKind.NORMAL, [StepSpec("Único", roles=[Role.OWNER])], is_active=False
    )
    assert again.pk == first.pk and not again.is_active
    assert list(ApprovalStep.objects.values_list("name", flat=True)) == ["Único"]
    assert approvals.workflow_for(brand) is None  # inactive

    entry = AuditEntry.objects.get(action="approval_workflow.updated")
    assert entry.changes["is_active"] == [True, False]
    before, after = entry.changes["steps"]
    assert [step["name"] for step in before] == ["Uno", "Dos"]
    assert after == [{"position": 1, "name": "Único", "mode": "any", "roles": ["owner"], "people": []}]


def test_the_crisis_workflow_is_kept_apart(brand: Brand, owner: User):
    normal = set_workflow(by(owner), brand, WorkflowKind.NORMAL, [StepSpec("Día a día", roles=["approver"])])
    crisis = set_workflow(by(owner), brand, WorkflowKind.CRISIS, [StepSpec("Gabinete", roles=["owner"])])
    assert normal.pk != crisis.pk and ApprovalWorkflow.objects.filter(brand=brand).count() == 2
    assert normal.steps.get().name == "Día a día"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BRAND_MANAGER])
def test_people_who_manage_publishing_may_set_workflows(org: Organization, brand: Brand, role: str):
    person = make_member(org, role)
    assert set_workflow(by(person), brand, WorkflowKind.NORMAL, [StepSpec("Legal", roles=["approver"])])


@pytest.mark.parametrize("role", [Role.COMMUNITY_MANAGER, Role.APPROVER, Role.CONTRIBUTOR, Role.ANALYST])
def test_others_may_not(org: Organization, brand: Brand, role: str):
    assert "may not" in refused(by(make_member(org, role)), brand, [StepSpec("Legal", roles=["approver"])])
    assert not ApprovalWorkflow.objects.exists()


def test_an_admin_of_another_organization_may_not(brand: Brand):
    other = make_org("Competencia SA")
    admin = make_member(other, Role.ADMIN)
    refused(by(admin), brand, [StepSpec("Legal", roles=["approver"])])
    refused(by(None), brand, [StepSpec("Legal", roles=["approver"])])
    assert not ApprovalWorkflow.objects.exists()


def test_invalid_workflows_are_refused_with_every_reason(org: Organization, brand: Brand, owner: User):
    stranger = make_member(make_org("Ajena"), Role.APPROVER)
    gone = make_member(org, Role.APPROVER)
    Membership.objects.filter(user=gone).update(is_active=False)
    contributor = make_member(org, Role.CONTRIBUTOR)
    ok = StepSpec("Legal", roles=["approver"])

    assert "from 1 to 10" in refused(by(owner), brand, [])
    assert "from 1 to 10" in refused(by(owner), brand, [ok] * 11)
    assert "needs a name" in refused(by(owner), brand, [StepSpec("   ", roles=["approver"])])
    assert "at most" in refused(by(owner), brand, [StepSpec("x" * 121, roles=["approver"])])
    assert "not a role" in refused(by(owner), brand, [StepSpec("Legal", roles=["superuser"])])
    assert "cannot approve" in refused(by(owner), brand, [StepSpec("Legal", roles=[Role.CONTRIBUTOR])])
    assert "any one approver" in refused(by(owner), brand, [StepSpec("Legal", mode="most", roles=["owner"])])
    assert "at least one role or person" in refused(by(owner), brand, [StepSpec("Nadie")])
    assert "Choose when" in refused(by(owner), brand, [ok], kind="sometimes")
    for person in (stranger, gone, contributor):
        assert "active member" in refused(by(owner), brand, [StepSpec("Legal", people=[person.pk])])
    assert "active member" in refused(by(owner), brand, [StepSpec("Legal", people=[987654])])

    with pytest.raises(WorkflowRefused) as info:
        set_workflow(by(owner), brand, WorkflowKind.NORMAL, [StepSpec(""), StepSpec("B", roles=["nobody"])])
    assert len(info.value.messages) == 3  # every problem at once: no name, no approver, a wrong role
    assert not ApprovalWorkflow.objects.exists()


def test_a_refused_change_leaves_the_workflow_as_it_was(brand: Brand, owner: User, approver: User):
    flow = set_workflow(by(owner), brand, WorkflowKind.NORMAL, [StepSpec("Legal", people=[approver.pk])])
    refused(by(owner), brand, [StepSpec("Legal", roles=["nobody"])])
    assert [step.name for step in flow.steps.all()] == ["Legal"]
    assert list(flow.steps.get().people.all()) == [approver]
    assert not AuditEntry.objects.filter(action="approval_workflow.updated").exists()
