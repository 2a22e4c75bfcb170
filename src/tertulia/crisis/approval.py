"""Who may let a reply out while a brand is in crisis mode.

Crisis mode is the publishing pause with `is_crisis` (tertulia.publishing.approvals.in_crisis): the
brand's own, or the whole organization's. While it is on, posts go through the brand's crisis
approval workflow (publishing does that), and replies from the inbox are held by the guard
(`HoldCause.CRISIS`, tertulia.guard.actions.holds.hold_for_crisis) unless whoever sends them is a
crisis approver of the brand:

- someone a step of the brand's active CRISIS workflow names (by role or by person) who holds the
  permission to approve or publish posts and works in the brand; without such a workflow, anyone
  the built-in crisis rule names (`Perm.MANAGE_PUBLISHING` in the brand);
- or someone given the "approver" crisis role in the brand's active crisis who holds the permission
  to approve posts in the brand.

A crisis approver other than the sender releases a held reply; it is then delivered. Nothing here
writes.
"""

from __future__ import annotations

from django.db.models import Q

from tertulia.core.models import Brand, User
from tertulia.core.permissions import Perm, has_perm
from tertulia.crisis.models import Crisis, CrisisRole, CrisisRoleKind, CrisisState
from tertulia.publishing import approvals
from tertulia.publishing.models import ApprovalStep, ApprovalWorkflow, Post, WorkflowKind


def in_crisis_mode(brand: Brand) -> bool:
    return approvals.in_crisis(brand)


def _crisis_workflow(brand: Brand) -> ApprovalWorkflow | None:
    return (
        ApprovalWorkflow.objects.filter(
            brand=brand, kind=WorkflowKind.CRISIS, is_active=True, steps__isnull=False
        )
        .distinct()
        .first()
    )


def crisis_approvers(brand: Brand) -> list[User]:
    """Everyone who releases replies held in the brand's crisis mode (active members, in order)."""
    # A stand-in post: the workflow's rules read only its brand and its author (none here).
    stand_in = Post(organization_id=brand.organization_id, brand=brand)
    workflow = _crisis_workflow(brand)
    found: dict[int, User] = {}
    if workflow is None:
        for user in approvals.approvers(approvals.CRISIS_RULE, stand_in):
            found.setdefault(user.pk, user)
    else:
        for step in ApprovalStep.objects.filter(workflow=workflow).order_by("position"):
            for user in approvals.approvers(step, stand_in):
                found.setdefault(user.pk, user)
    for role in CrisisRole.objects.filter(
        Q(crisis__brand=brand) | Q(crisis__brand__isnull=True),
        crisis__organization_id=brand.organization_id,
        crisis__state=CrisisState.ACTIVE,
        role=CrisisRoleKind.APPROVER,
        user__is_active=True,
    ).select_related("user"):
        if role.user_id not in found and has_perm(role.user, brand.organization, Perm.APPROVE_POSTS, brand):
            found[role.user_id] = role.user
    return sorted(found.values(), key=lambda user: user.email)


def is_crisis_approver(user: User | None, brand: Brand) -> bool:
    if user is None or not user.is_active:
        return False
    return any(person.pk == user.pk for person in crisis_approvers(brand))


def reply_needs_approval(user: User | None, brand: Brand) -> bool:
    """In crisis mode, a reply by someone who is not a crisis approver waits for one.

    A reply sent by Tertulia itself (no person: an automation) waits too: in a crisis every word
    that goes out is someone's decision.
    """
    return in_crisis_mode(brand) and not is_crisis_approver(user, brand)


def active_crisis_for(brand: Brand) -> Crisis | None:
    """The crisis the brand is in: its own, else its organization's."""
    found = list(
        Crisis.objects.filter(organization_id=brand.organization_id, state=CrisisState.ACTIVE).filter(
            Q(brand=brand) | Q(brand__isnull=True)
        )
    )
    found.sort(key=lambda crisis: crisis.brand_id is None)
    return found[0] if found else None
