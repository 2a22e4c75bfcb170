"""Who must approve a post, and whether they have: the rules of review, as plain functions.

Nothing here writes. The actions in `tertulia.publishing.actions.review` ask these questions
inside their transaction, with the post row locked.

Which rules apply to a brand's posts:

- in crisis mode (an active `Pause(is_crisis=True)` of the brand or of the whole organization), the
  brand's active CRISIS workflow; if it has none, the built-in crisis rule, `CRISIS_RULE`: one step
  that any one person with `Perm.MANAGE_PUBLISHING` (brand managers, administrators, owners) other
  than the author approves. It is always satisfiable while someone besides the author manages
  publishing (the owner does), unlike "every brand manager", which an organization without brand
  managers could never meet. In crisis mode every post is reviewed, whoever wrote it;
- otherwise the brand's active NORMAL workflow;
- otherwise no review, unless the author (or whoever sends the post) cannot publish — a
  contributor, one of seed 003's spokes: then `PUBLISHERS_RULE`, one step that any one person
  with `Perm.PUBLISH_POSTS` other than the author approves.

A post in review remembers its workflow (`Post.workflow`; its step in `Post.current_step`). A post
without one is under a built-in rule, read again at every question: the crisis rule while the
brand is in crisis mode, the publishers' rule otherwise. The review only completes under the rule
in force at that moment (`rule_satisfied`); the actions start it over otherwise.

Approvals count per version (an edit needs new ones) and only from people who are approvers of the
step as resolved now: someone who left the organization no longer counts. A step nobody can approve
is never complete (an ALL step over nobody must not pass by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from tertulia.core.models import Brand, User
from tertulia.core.permissions import Perm, brand_members, has_perm, permissions_of
from tertulia.publishing.models import (
    ApprovalDecision,
    ApprovalStep,
    ApprovalWorkflow,
    Decision,
    Pause,
    Post,
    PostState,
    StepMode,
    WorkflowKind,
)

# What a configured step's approvers must also hold: a role named in a step is not enough by itself.
APPROVING_PERMS = frozenset({Perm.APPROVE_POSTS, Perm.PUBLISH_POSTS})


@dataclass(frozen=True)
class BuiltInStep:
    """A step Tertulia applies when no configured workflow does; never stored, always position 1."""

    name: Promise
    # Approvers: every active member holding this permission (never the author).
    perm: Perm
    position: int = 1
    mode: str = StepMode.ANY


Step = ApprovalStep | BuiltInStep

CRISIS_RULE = BuiltInStep(name=gettext_lazy("Crisis review"), perm=Perm.MANAGE_PUBLISHING)
PUBLISHERS_RULE = BuiltInStep(name=gettext_lazy("Review by the social media team"), perm=Perm.PUBLISH_POSTS)


def in_crisis(brand: Brand) -> bool:
    """Crisis mode is on for the brand, or for its whole organization."""
    return (
        Pause.objects.filter(organization_id=brand.organization_id, is_crisis=True, ended_at__isnull=True)
        .filter(Q(brand_id=brand.pk) | Q(brand__isnull=True))
        .exists()
    )


def workflow_for(brand: Brand) -> ApprovalWorkflow | None:
    """The configured workflow a post submitted now goes through, or None.

    In crisis mode that is the active CRISIS workflow; None then means the built-in `CRISIS_RULE`
    (see `needs_review`, which is always true in crisis mode). Otherwise the active NORMAL one.
    A workflow without steps is treated as none (the actions never save one).
    """
    kind = WorkflowKind.CRISIS if in_crisis(brand) else WorkflowKind.NORMAL
    return (
        ApprovalWorkflow.objects.filter(brand=brand, kind=kind, is_active=True, steps__isnull=False)
        .distinct()
        .first()
    )


def needs_review(user: User, post: Post) -> bool:
    """Whether `post`, sent by `user`, must be reviewed before it may be scheduled.

    Yes in crisis mode, when a workflow applies, or when the sender or the author may not publish
    (a contributor's post stays a proposal even when a publisher presses the button for them).
    """
    if in_crisis(post.brand) or workflow_for(post.brand) is not None:
        return True
    author = post.created_by
    for person in (user, author):
        if person is None or not has_perm(person, post.organization, Perm.PUBLISH_POSTS):
            return True
    return False


def steps_of(post: Post) -> list[Step]:
    """The steps of the post's review, in order."""
    if post.workflow_id is not None:
        return list(ApprovalStep.objects.filter(workflow_id=post.workflow_id).order_by("position"))
    return [CRISIS_RULE if in_crisis(post.brand) else PUBLISHERS_RULE]


def current_step_of(post: Post) -> Step | None:
    """The step the post waits on; None when it is not in review (or its workflow lost that step)."""
    if post.state != PostState.IN_REVIEW:
        return None
    return next((step for step in steps_of(post) if step.position == post.current_step), None)


def next_step(post: Post, step: Step) -> Step | None:
    return next((later for later in steps_of(post) if later.position > step.position), None)


def approvers(step: Step, post: Post) -> list[User]:
    """Active members of the post's organization who approve this step, never the post's author.

    A configured step names roles and people; each must also hold `Perm.APPROVE_POSTS` or
    `Perm.PUBLISH_POSTS`, and work in the post's brand (a member limited to other brands never
    approves it). People of another organization are never members here.
    """
    members = (
        brand_members(post.brand).filter(user__is_active=True).select_related("user").order_by("user__email")
    )
    if post.created_by_id is not None:
        members = members.exclude(user_id=post.created_by_id)
    if isinstance(step, BuiltInStep):
        return [m.user for m in members if step.perm in permissions_of(m)]
    roles = set(step.roles or [])
    people = set(step.people.values_list("pk", flat=True))
    return [
        m.user
        for m in members
        if (m.role in roles or m.user_id in people) and permissions_of(m) & APPROVING_PERMS
    ]


def step_complete(post: Post, step: Step) -> bool:
    """ANY: one approver of the step approved this version; ALL: every one of them did."""
    expected = {user.pk for user in approvers(step, post)}
    if not expected:
        return False
    approved = set(
        ApprovalDecision.objects.filter(
            post=post,
            version=post.version,
            step_position=step.position,
            decision=Decision.APPROVE,
            user_id__in=expected,
        ).values_list("user_id", flat=True)
    )
    if step.mode == StepMode.ALL:
        return approved >= expected
    return bool(approved)


def rule_satisfied(post: Post) -> bool:
    """Whether the post's review went through the rule in force now (asked when it would complete).

    In crisis mode: the brand's crisis workflow, or the built-in crisis rule when it has none.
    Otherwise any configured workflow (a crisis one is the stricter: it stands after crisis mode
    ends), or the built-in rule when no workflow is in force.
    """
    in_force = workflow_for(post.brand)
    in_force_id = None if in_force is None else in_force.pk
    if in_crisis(post.brand):
        return post.workflow_id == in_force_id
    return post.workflow_id is not None or in_force_id is None


def has_decided(user: User, post: Post, step: Step) -> bool:
    return ApprovalDecision.objects.filter(
        post=post, version=post.version, step_position=step.position, user_id=user.pk
    ).exists()


def may_decide(user: User, post: Post) -> bool:
    """The person approves the step the post waits on and has not decided on this version there."""
    step = current_step_of(post)
    if step is None or user.pk is None:
        return False
    if user.pk not in {approver.pk for approver in approvers(step, post)}:
        return False
    return not has_decided(user, post, step)
