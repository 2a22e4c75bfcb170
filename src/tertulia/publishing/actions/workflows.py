"""Setting a brand's approval workflow (everyday or crisis mode): its steps, replaced whole.

Posts already in review under the workflow keep their step position and meet the new steps from
there on; decisions already made stay as they were (they are insert-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Role
from tertulia.core.permissions import ROLE_PERMISSIONS, Perm, brand_members, has_perm, permissions_of
from tertulia.publishing.approvals import APPROVING_PERMS
from tertulia.publishing.models import ApprovalStep, ApprovalWorkflow, StepMode, WorkflowKind

MAX_STEPS = 10
MAX_STEP_NAME = 120
# Roles whose members may decide on posts; naming another role in a step would name nobody.
APPROVING_ROLES = frozenset(role for role, perms in ROLE_PERMISSIONS.items() if perms & APPROVING_PERMS)


class WorkflowRefused(ValueError):
    """The workflow cannot be saved as given; `messages` lists every reason, in the person's language."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


@dataclass(frozen=True)
class StepSpec:
    """One step as a person sets it: approved by any one or every one of the people it names."""

    name: str
    mode: str = StepMode.ANY
    roles: Sequence[str] = ()
    # User ids; each must be an active member of the brand's organization who may approve posts.
    people: Sequence[int] = ()


@transaction.atomic
def set_workflow(
    actor: Actor,
    brand: Brand,
    kind: str,
    steps: Sequence[StepSpec],
    is_active: bool = True,
) -> ApprovalWorkflow:
    """Create or replace the brand's workflow of this kind, steps and all."""
    user = actor.user
    if user is None or not has_perm(user, brand.organization, Perm.MANAGE_PUBLISHING):
        raise WorkflowRefused([_("You may not change approval workflows.")])
    cleaned = _validate(brand, kind, steps)

    workflow = ApprovalWorkflow.objects.select_for_update().filter(brand=brand, kind=kind).first()
    before: dict[str, Any] | None = None
    if workflow is None:
        workflow = ApprovalWorkflow.objects.create(brand=brand, kind=kind, is_active=is_active)
    else:
        before = _describe(workflow)
        workflow.is_active = is_active
        workflow.save(update_fields=["is_active"])
        workflow.steps.all().delete()
    for position, spec in enumerate(cleaned, start=1):
        step = ApprovalStep.objects.create(
            workflow=workflow, position=position, name=spec.name, mode=spec.mode, roles=list(spec.roles)
        )
        step.people.set(spec.people)
    after = _describe(workflow)
    record(
        actor,
        brand.organization,
        "approval_workflow.created" if before is None else "approval_workflow.updated",
        workflow,
        {
            "brand": [None, brand.pk],
            "kind": [None, kind],
            "is_active": [None if before is None else before["is_active"], after["is_active"]],
            "steps": [None if before is None else before["steps"], after["steps"]],
        },
    )
    return workflow


def _validate(brand: Brand, kind: str, steps: Sequence[StepSpec]) -> list[StepSpec]:
    """Every problem at once (a form shows them together), or the steps tidied: names trimmed, no repeats."""
    errors: list[str] = []
    if kind not in WorkflowKind.values:
        errors.append(_("Choose when the workflow applies: every day or in crisis mode."))
    if not 1 <= len(steps) <= MAX_STEPS:
        errors.append(_("A workflow has from 1 to %(n)d steps.") % {"n": MAX_STEPS})

    wanted = {person for spec in steps for person in spec.people}
    approvers = {
        m.user_id
        for m in brand_members(brand).filter(user_id__in=wanted, user__is_active=True)
        if permissions_of(m) & APPROVING_PERMS
    }
    cleaned = []
    for number, spec in enumerate(steps, start=1):
        name = spec.name.strip()
        label = {"n": number}
        if not name:
            errors.append(_("Step %(n)d needs a name.") % label)
        elif len(name) > MAX_STEP_NAME:
            errors.append(
                _("The name of step %(n)d has at most %(max)d characters.") % {**label, "max": MAX_STEP_NAME}
            )
        if spec.mode not in StepMode.values:
            errors.append(
                _("Step %(n)d: choose whether any one approver or every approver must approve.") % label
            )
        roles = list(dict.fromkeys(spec.roles))
        for role in roles:
            if role not in Role.values:
                errors.append(_("Step %(n)d: “%(role)s” is not a role.") % {**label, "role": role})
            elif role not in APPROVING_ROLES:
                errors.append(
                    _("Step %(n)d: %(role)s cannot approve posts.") % {**label, "role": Role(role).label}
                )
        people = list(dict.fromkeys(spec.people))
        if any(person not in approvers for person in people):
            errors.append(
                _(
                    "Step %(n)d: everyone named must be an active member of the organization "
                    "who may approve posts."
                )
                % label
            )
        if not roles and not people:
            errors.append(_("Step %(n)d: name at least one role or person who approves it.") % label)
        cleaned.append(StepSpec(name=name, mode=spec.mode, roles=tuple(roles), people=tuple(people)))
    if errors:
        raise WorkflowRefused(errors)
    return cleaned


def _describe(workflow: ApprovalWorkflow) -> dict[str, Any]:
    """The workflow as the audit trail keeps it: readable, and enough to rebuild it."""
    return {
        "is_active": workflow.is_active,
        "steps": [
            {
                "position": step.position,
                "name": step.name,
                "mode": step.mode,
                "roles": list(step.roles or []),
                "people": sorted(step.people.values_list("pk", flat=True)),
            }
            for step in workflow.steps.order_by("position")
        ],
    }
