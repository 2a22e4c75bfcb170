"""Review of posts: send for review, approve, ask for changes, discuss, withdraw.

The rules (who approves what, which workflow applies) are in `tertulia.publishing.approvals`;
this module moves posts through them. Every action runs in one transaction with the post row
locked, checks the state it expects and the person's permission itself (views and the API call
these, but nothing is taken on trust), writes an audit entry, and raises `ReviewRefused` with a
message in the person's language when it cannot do what was asked.

A review round is one version of the post: decisions (insert-only, one per person, version and
step) count for the version they were made on. A round that starts over on a version that already
has decisions — sending again without an edit, or restarting under the crisis rule — moves the post
to a new version, so the earlier round's decisions neither count nor stand in the way.

Completing a review: the last approval completes it only if the post went through the rule in
force at that moment (`approvals.rule_satisfied`): in crisis mode, the brand's crisis workflow or
the built-in crisis rule; otherwise any configured workflow (a crisis one is stricter, so a review
under it stands after crisis mode ends), or the built-in rule when no workflow is in force. If not,
the review starts over under the rule in force: a new round, its first step's approvers notified.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import override

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.core.permissions import Perm, has_perm
from tertulia.inbox.models import NotificationKind
from tertulia.inbox.notifications import notify_people
from tertulia.publishing import approvals, links, verdicts
from tertulia.publishing.actions import scheduling
from tertulia.publishing.approvals import Step
from tertulia.publishing.models import ApprovalDecision, Decision, Post, PostComment, PostState

MAX_COMMENT = 5000
SUBMITTABLE = frozenset({PostState.DRAFT, PostState.CHANGES_REQUESTED})
WITHDRAWABLE = frozenset({PostState.IN_REVIEW, PostState.CHANGES_REQUESTED})


class ReviewRefused(ValueError):
    """The review action cannot be done as asked; the message says why, in the person's language."""


class NotPermitted(ReviewRefused):
    """The person may not do this: their role, their organization, or deciding on their own post."""


def post_path(post: Post) -> str:
    """Where the post is in the web app (notifications link to it)."""
    return links.post_path(post.pk)


# --- the actions -------------------------------------------------------------------------------


def submit(actor: Actor, post: Post) -> Post:
    """Send a draft (or a post that was sent back) for review, or straight on if it needs none
    (images rendered first, outside the transaction, in case it is scheduled at once)."""
    if not transaction.get_connection().in_atomic_block:
        scheduling.render_ahead(post)
    return _submit(actor, post)


@transaction.atomic
def _submit(actor: Actor, post: Post) -> Post:
    user = _person(actor)
    post = _lock(post)
    if not has_perm(user, post.organization, Perm.VIEW) or not (
        post.created_by_id == user.pk or has_perm(user, post.organization, Perm.PROPOSE_POSTS)
    ):
        raise NotPermitted(_("You may not send posts for review."))
    if post.state not in SUBMITTABLE:
        raise ReviewRefused(
            _(
                "Only a draft, or a post with changes requested, can be sent for review; "
                "this one is %(state)s."
            )
            % {"state": post.get_state_display().lower()}
        )
    problems = verdicts.blocking_errors(post)
    if problems:
        raise ReviewRefused(" ".join([_("Fix this before sending the post on:"), *problems]))
    before = _state_of(post)
    _new_round(post)
    now = timezone.now()
    post.submitted_at = now
    post.approved_at = None
    if not approvals.needs_review(user, post):
        post.workflow = None
        post.current_step = 0
        post.state = PostState.APPROVED
        post.approved_at = now
        post.save()
        record(actor, post.organization, "post.submitted", post, _changes(before, post, review=False))
        return scheduling.approved(actor, post)

    post.workflow = approvals.workflow_for(post.brand)
    post.state = PostState.IN_REVIEW
    steps = approvals.steps_of(post)
    for step in steps:
        if not approvals.approvers(step, post):
            raise ReviewRefused(
                _(
                    "Nobody can approve the step “%(step)s” of this post's review: ask a brand "
                    "manager to fix the approval workflow."
                )
                % {"step": step.name}
            )
    post.current_step = steps[0].position
    post.save()
    record(actor, post.organization, "post.submitted", post, _changes(before, post, review=True))
    _ask_approvers(post, steps[0], user, SUBMITTED, person=str(user))
    return post


def approve(actor: Actor, post: Post, comment: str = "", *, version: int | None = None) -> Post:
    """Approve the step the post waits on (see `_approve`); images are rendered first, outside the
    transaction, in case this approval schedules the post."""
    if not transaction.get_connection().in_atomic_block:
        scheduling.render_ahead(post)
    return _approve(actor, post, comment, version=version)


@transaction.atomic
def _approve(actor: Actor, post: Post, comment: str = "", *, version: int | None = None) -> Post:
    """Approve the step the post waits on; the last step's approval sends it on to scheduling.

    `version` is the version the person saw (default: the one `post` was loaded with): an approval
    of an earlier version is refused, since every edit needs new approvals.
    """
    user = _person(actor)
    seen = post.version if version is None else version
    post = _lock(post)
    step = _decidable_step(user, post, seen)
    _check_comment(comment, required=False)
    before = _state_of(post)
    _decide(user, post, step, Decision.APPROVE, comment)
    changes: dict[str, Any] = {"step": [None, str(step.name)], "decision": [None, Decision.APPROVE.value]}

    if not approvals.step_complete(post, step):
        record(actor, post.organization, "post.approved", post, changes)
        return post

    following = approvals.next_step(post, step)
    if following is not None:
        post.current_step = following.position
        post.save(update_fields=["current_step", "updated_at"])
        record(actor, post.organization, "post.approved", post, {**changes, **_changes(before, post)})
        _ask_approvers(post, following, user, NEXT_STEP)
        return post

    if not approvals.rule_satisfied(post):
        record(actor, post.organization, "post.approved", post, changes)
        return _restart(actor, user, post)

    post.state = PostState.APPROVED
    post.approved_at = timezone.now()
    post.save(update_fields=["state", "approved_at", "updated_at"])
    record(actor, post.organization, "post.approved", post, {**changes, **_changes(before, post)})
    author = post.created_by
    if author is not None:
        with override(author.language or None):
            text = _("“%(post)s” was approved.") % {"post": _title(post)}
        notify_people(
            post.organization_id,
            [author],
            NotificationKind.POST_APPROVED,
            text,
            url=post_path(post),
            skip=user,
        )
    return scheduling.approved(actor, post)


@transaction.atomic
def request_changes(actor: Actor, post: Post, comment: str, *, version: int | None = None) -> Post:
    """Send the post back to its author with what to change (the comment is required)."""
    user = _person(actor)
    seen = post.version if version is None else version
    post = _lock(post)
    step = _decidable_step(user, post, seen)
    _check_comment(comment, required=True)
    before = _state_of(post)
    _decide(user, post, step, Decision.REQUEST_CHANGES, comment)
    post.state = PostState.CHANGES_REQUESTED
    post.save(update_fields=["state", "updated_at"])
    record(
        actor,
        post.organization,
        "post.changes_requested",
        post,
        {
            "step": [None, str(step.name)],
            "decision": [None, Decision.REQUEST_CHANGES.value],
            **_changes(before, post),
        },
    )
    author = post.created_by
    if author is not None:
        with override(author.language or None):
            text = _("%(person)s asked for changes to “%(post)s”: %(comment)s") % {
                "person": str(user),
                "post": _title(post),
                "comment": comment.strip(),
            }
        notify_people(
            post.organization_id,
            [author],
            NotificationKind.POST_CHANGES,
            text,
            url=post_path(post),
            skip=user,
        )
    return post


@transaction.atomic
def comment(actor: Actor, post: Post, text: str) -> PostComment:
    """Add to the post's review discussion; the text is kept exactly as written."""
    user = _person(actor)
    post = _lock(post)
    if not has_perm(user, post.organization, Perm.VIEW):
        raise NotPermitted(_("You may not comment on this post."))
    _check_comment(text, required=True)
    note = PostComment.objects.create(post=post, author=user, text=text, version=post.version)
    record(
        actor,
        post.organization,
        "post.commented",
        post,
        {"comment": [None, note.pk], "version": [None, post.version]},
    )
    return note


@transaction.atomic
def withdraw(actor: Actor, post: Post) -> Post:
    """The author takes the post back from review to draft."""
    user = _person(actor)
    post = _lock(post)
    if post.created_by_id != user.pk or not has_perm(user, post.organization, Perm.VIEW):
        raise NotPermitted(_("Only the author can withdraw a post from review."))
    if post.state not in WITHDRAWABLE:
        raise ReviewRefused(
            _("Only a post in review, or with changes requested, can be withdrawn; this one is %(state)s.")
            % {"state": post.get_state_display().lower()}
        )
    before = _state_of(post)
    post.state = PostState.DRAFT
    post.workflow = None
    post.current_step = 0
    post.save(update_fields=["state", "workflow", "current_step", "updated_at"])
    record(actor, post.organization, "post.withdrawn", post, _changes(before, post))
    return post


# --- steps of the actions ----------------------------------------------------------------------


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise NotPermitted(_("Only a person can take part in the review of a post."))
    return actor.user


def _lock(post: Post) -> Post:
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("organization", "brand", "created_by")
        .get(pk=post.pk)
    )


def _decidable_step(user: User, post: Post, seen_version: int) -> Step:
    """The step `user` decides on now, or the reason they may not."""
    if not has_perm(user, post.organization, Perm.VIEW):
        raise NotPermitted(_("You may not review this post."))
    if post.state != PostState.IN_REVIEW:
        raise ReviewRefused(
            _("This post is not in review; it is %(state)s.") % {"state": post.get_state_display().lower()}
        )
    if post.version != seen_version:
        raise ReviewRefused(_("This post has changed since you opened it: review the new version."))
    step = approvals.current_step_of(post)
    if step is None:
        raise ReviewRefused(
            _(
                "This post's approval workflow changed and its step is gone: "
                "the author can withdraw it and send it again."
            )
        )
    if post.created_by_id == user.pk:
        raise NotPermitted(_("Nobody approves their own post: someone else must review it."))
    if approvals.has_decided(user, post, step):
        raise ReviewRefused(_("You have already decided on this version at this step."))
    if not approvals.may_decide(user, post):
        raise NotPermitted(_("You are not an approver of the step “%(step)s”.") % {"step": step.name})
    return step


def _check_comment(text: str, *, required: bool) -> None:
    if required and not text.strip():
        raise ReviewRefused(_("Write a comment."))
    if len(text) > MAX_COMMENT:
        raise ReviewRefused(_("A comment has at most %(n)d characters.") % {"n": MAX_COMMENT})


def _decide(user: User, post: Post, step: Step, decision: str, comment: str) -> None:
    ApprovalDecision.objects.create(
        post=post,
        version=post.version,
        step_position=step.position,
        step_name=str(step.name)[:120],
        user=user,
        decision=decision,
        comment=comment,
    )


def _new_round(post: Post) -> None:
    """A version's decisions belong to its round: a round that starts over takes a new version."""
    if ApprovalDecision.objects.filter(post=post, version=post.version).exists():
        post.version += 1


def _restart(actor: Actor, user: User, post: Post) -> Post:
    """Start the review over under the rule in force (crisis mode began, or a workflow was set)."""
    before = _state_of(post)
    crisis = approvals.in_crisis(post.brand)
    _new_round(post)
    post.workflow = approvals.workflow_for(post.brand)
    post.submitted_at = timezone.now()
    first = approvals.steps_of(post)[0]
    post.current_step = first.position
    post.save(update_fields=["version", "workflow", "current_step", "submitted_at", "updated_at"])
    record(
        actor,
        post.organization,
        "post.review_restarted",
        post,
        {"reason": [None, "crisis" if crisis else "workflow"], **_changes(before, post)},
    )
    _ask_approvers(post, first, user, CRISIS_RESTART if crisis else RESTART)
    return post


def _state_of(post: Post) -> dict[str, Any]:
    return {
        "state": post.state,
        "version": post.version,
        "workflow": post.workflow_id,
        "current_step": post.current_step,
    }


def _changes(before: dict[str, Any], post: Post, *, review: bool | None = None) -> dict[str, Any]:
    after = _state_of(post)
    changes: dict[str, Any] = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if review is not None:
        changes["review"] = [None, review]
    return changes


def _title(post: Post) -> str:
    return str(post)[:80]


# --- notifications, each in its recipient's language ---------------------------------------------

# What approvers are told, with %(post)s and %(step)s (and %(person)s when someone sent it).
SUBMITTED = _lazy("%(person)s sent “%(post)s” for review (%(step)s).")
NEXT_STEP = _lazy("“%(post)s” is waiting for your approval (%(step)s).")
CRISIS_RESTART = _lazy("Crisis mode: “%(post)s” needs approval again under the crisis rules (%(step)s).")
RESTART = _lazy("“%(post)s” needs approval again under the brand's approval workflow (%(step)s).")


def _ask_approvers(post: Post, step: Step, actor_user: User, message: Promise, person: str = "") -> None:
    """Tell the step's approvers (never the one who acted) that the post waits for them."""
    by_language: dict[str, list[User]] = defaultdict(list)
    for approver in approvals.approvers(step, post):
        by_language[approver.language].append(approver)
    for language, people in by_language.items():
        with override(language or None):
            text = str(message) % {"post": _title(post), "step": step.name, "person": person}
        notify_people(
            post.organization_id,
            people,
            NotificationKind.POST_REVIEW,
            text,
            url=post_path(post),
            skip=actor_user,
        )
