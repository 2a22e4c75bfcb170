"""Offboarding: one action that takes a person out of one organization and hands their work on
(docs/governance.md#offboarding).

`plan_for(member)` says what it will do (the preview page shows it); `offboard(actor, member, ...)`
does it, in one transaction:

1. deactivate the membership (their other organizations are untouched);
2. take away their channel grants and their brand list;
3. revoke their API tokens of this organization;
4. revoke the open invitations they sent, and any open one to their own address here;
5. hand their open conversations to a chosen person, or back to the queue (where the brand assigns
   automatically, to whoever is next);
6. put a chosen person in their place in approval steps that name them, and call whoever must now
   decide on the posts that were waiting for their decision;
7. make a chosen person the owner of their scheduled and approved posts (so a failure tells someone
   who is still here);
8. sign them out everywhere (`tertulia.accounts.sessions.end_all_sessions`);
9. list the channels they connected or were the only one to operate, to reconnect or rotate.

Each change writes its usual audit entry, and the whole writes one `member.offboard` entry with the
details (the outcome page reads it back). Running it again changes nothing more. What they did stays
theirs: audit entries, messages sent, decisions, published posts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import override

from tertulia.api.actions import revoke_token
from tertulia.api.models import ApiToken
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import deactivate_member
from tertulia.core.models import AuditEntry, Brand, Channel, Membership, Role, User
from tertulia.core.permissions import Perm, has_perm, may_operate_channel, permissions_of
from tertulia.governance.actions.access import remove_brand_access, remove_channel_grants
from tertulia.governance.coverage import depends_on_person, operators_by_channel
from tertulia.governance.models import Invitation
from tertulia.inbox.actions.assignment import assign, auto_assign
from tertulia.inbox.models import Conversation, NotificationKind, Status
from tertulia.inbox.notifications import notify_people
from tertulia.publishing import approvals
from tertulia.publishing.links import post_path
from tertulia.publishing.models import ApprovalStep, Post, PostState

# Posts whose delivery (or its failure) is still ahead: they get a new owner.
OWNED_STATES = (PostState.APPROVED, PostState.SCHEDULED, PostState.NEEDS_ATTENTION)
OPEN_CONVERSATIONS = (Status.OPEN, Status.PENDING, Status.SNOOZED)
ACTION = "member.offboard"


class OffboardingRefused(ValueError):
    """Offboarding cannot be done as asked; the message says why, in the person's language."""


@dataclass(frozen=True)
class ChannelToReview:
    """A channel to reconnect, rotate or cover after the person leaves, and why."""

    channel: Channel
    connected_by_them: bool
    personal_login: bool  # connected through their own login (the token stops when they go)
    only_operator: bool  # nobody else holds a grant on it


@dataclass
class Plan:
    """Everything offboarding `member` would do, as it stands now."""

    member: Membership
    conversations: list[Conversation] = field(default_factory=list)
    steps: list[ApprovalStep] = field(default_factory=list)
    awaiting: list[Post] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    tokens: list[ApiToken] = field(default_factory=list)
    grants: list[Channel] = field(default_factory=list)
    brands: list[Brand] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    channels: list[ChannelToReview] = field(default_factory=list)
    other_organizations: int = 0

    @property
    def user(self) -> User:
        return self.member.user

    @property
    def has_work(self) -> bool:
        return bool(self.conversations or self.steps or self.awaiting or self.posts)

    @property
    def nothing_to_do(self) -> bool:
        return not (
            self.member.is_active
            or self.has_work
            or self.tokens
            or self.grants
            or self.brands
            or self.invitations
        )


# --- who may take over -----------------------------------------------------------------------------


def _colleagues(member: Membership, perm: Perm) -> list[User]:
    others = (
        Membership.objects.filter(
            organization_id=member.organization_id, is_active=True, user__is_active=True
        )
        .exclude(pk=member.pk)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    return [m.user for m in others if perm in permissions_of(m)]


def conversation_successors(member: Membership) -> list[User]:
    return _colleagues(member, Perm.OPERATE_CHANNELS)


def approval_successors(member: Membership) -> list[User]:
    found = {u.pk: u for perm in approvals.APPROVING_PERMS for u in _colleagues(member, perm)}
    return sorted(found.values(), key=lambda u: (u.display_name.casefold(), u.email))


def post_successors(member: Membership) -> list[User]:
    return _colleagues(member, Perm.PUBLISH_POSTS)


# --- the plan --------------------------------------------------------------------------------------


def _awaiting_decision(member: Membership) -> list[Post]:
    """Posts in review whose current step counts on this person's decision, not given yet."""
    user = member.user
    waiting = []
    in_review = (
        Post.objects.filter(organization_id=member.organization_id, state=PostState.IN_REVIEW)
        .exclude(created_by=user)
        .select_related("brand", "organization")
        .order_by("pk")
    )
    for post in in_review:
        step = approvals.current_step_of(post)
        if step is None or approvals.has_decided(user, post, step):
            continue
        if user.pk in {person.pk for person in approvals.approvers(step, post)}:
            waiting.append(post)
    return waiting


def plan_for(member: Membership) -> Plan:
    """What offboarding `member` would do now (read-only)."""
    member = Membership.objects.select_related("user", "organization").get(pk=member.pk)
    user, organization = member.user, member.organization
    plan = Plan(member=member)
    plan.conversations = list(
        Conversation.objects.filter(organization=organization, assignee=user, status__in=OPEN_CONVERSATIONS)
        .select_related("channel")
        .order_by("pk")
    )
    plan.steps = list(
        ApprovalStep.objects.filter(workflow__brand__organization=organization, people=user)
        .select_related("workflow__brand")
        .order_by("workflow__brand__name", "workflow__kind", "position")
    )
    plan.awaiting = _awaiting_decision(member) if member.is_active else []
    plan.posts = list(
        Post.objects.filter(organization=organization, created_by=user, state__in=OWNED_STATES)
        .select_related("brand")
        .order_by("scheduled_at", "pk")
    )
    plan.tokens = list(ApiToken.objects.filter(organization=organization, user=user, revoked_at__isnull=True))
    plan.grants = list(
        Channel.objects.filter(organization=organization, operator_grants__user=user).order_by("handle", "pk")
    )
    plan.brands = list(Brand.objects.filter(member_access__membership=member).order_by("name"))
    plan.invitations = list(
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .filter(Q(invited_by=user) | Q(email__iexact=user.email))
        .order_by("email")
    )
    plan.channels = _channels_to_review(member, plan.grants)
    plan.other_organizations = (
        Membership.objects.filter(user=user, is_active=True).exclude(organization=organization).count()
    )
    return plan


def _channels_to_review(member: Membership, granted: list[Channel]) -> list[ChannelToReview]:
    """Channels they connected, and channels where they are the only operator who counts."""
    user = member.user
    connected = list(Channel.objects.filter(organization_id=member.organization_id, connected_by=user))
    operators = operators_by_channel(member.organization, granted)
    alone = set()
    for channel in granted:
        counting = operators[channel.pk].counting if channel.pk in operators else []
        if not [person for person in counting if person.pk != user.pk]:
            alone.add(channel.pk)
    found: dict[int, ChannelToReview] = {}
    for channel in [*connected, *granted]:
        if channel.pk in found:
            continue
        mine = channel.connected_by_id == user.pk
        if not mine and channel.pk not in alone:
            continue
        found[channel.pk] = ChannelToReview(
            channel=channel,
            connected_by_them=mine,
            personal_login=mine and depends_on_person(channel),
            only_operator=channel.pk in alone,
        )
    return sorted(found.values(), key=lambda item: (item.channel.handle, item.channel.pk))


# --- doing it --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    """Who takes over: None sends conversations back to the queue, and only removes the person from
    approval steps; scheduled posts need someone whenever there are any."""

    conversations_to: User | None = None
    approvals_to: User | None = None
    posts_to: User | None = None


def _check(actor: Actor, member: Membership) -> None:
    if actor.user is None:  # the command line and the system are trusted
        return
    if not has_perm(actor.user, member.organization, Perm.MANAGE_MEMBERS):
        raise OffboardingRefused(_("You may not offboard people in this organization."))
    if actor.user.pk == member.user_id:
        raise OffboardingRefused(_("You cannot offboard yourself: ask another owner or administrator."))
    if member.role == Role.OWNER:
        acting = Membership.objects.filter(
            organization_id=member.organization_id, user=actor.user, is_active=True
        ).first()
        if acting is None or acting.role != Role.OWNER:
            raise OffboardingRefused(_("Only an owner can offboard an owner."))


def _check_last_owner(member: Membership) -> None:
    if member.role != Role.OWNER or not member.is_active:
        return
    others = Membership.objects.filter(
        organization_id=member.organization_id, role=Role.OWNER, is_active=True, user__is_active=True
    ).exclude(pk=member.pk)
    if not others.exists():
        raise OffboardingRefused(
            _("%(person)s is the organization's last owner: make someone else an owner first.")
            % {"person": member.user}
        )


def check_allowed(actor: Actor, member: Membership) -> None:
    """Raise `OffboardingRefused` if `actor` may not offboard `member` (the preview says so up front)."""
    _check(actor, member)
    _check_last_owner(member)


def _check_handover(plan: Plan, handover: Handover) -> None:
    member = plan.member

    def refuse_unless(person: User | None, allowed: Iterable[User], message: str) -> None:
        if person is not None and person.pk not in {u.pk for u in allowed}:
            raise OffboardingRefused(message % {"person": person})

    refuse_unless(
        handover.conversations_to,
        conversation_successors(member),
        _("%(person)s cannot take over conversations: they do not operate channels here."),
    )
    refuse_unless(
        handover.approvals_to,
        approval_successors(member),
        _("%(person)s cannot take over approvals: they may not approve posts here."),
    )
    refuse_unless(
        handover.posts_to,
        post_successors(member),
        _("%(person)s cannot look after scheduled posts: they may not publish here."),
    )
    if plan.posts and handover.posts_to is None:
        raise OffboardingRefused(_("Choose who looks after their scheduled posts."))


def end_sessions(actor: Actor, user: User) -> int:
    """Sign `user` out everywhere (tertulia.accounts does it, and audits it, when installed)."""
    if apps.is_installed("tertulia.accounts"):
        from tertulia.accounts.sessions import end_all_sessions

        return end_all_sessions(actor, user)
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500)
        if str(session.get_decoded().get(SESSION_KEY, "")) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def offboard(actor: Actor, member: Membership, handover: Handover | None = None) -> AuditEntry | None:
    """Do everything `plan_for(member)` lists, at once; returns the `member.offboard` audit entry,
    or None when there was nothing left to do (it ran before). Raises `OffboardingRefused`."""
    from tertulia.governance.actions.invitations import close

    handover = handover or Handover()
    with transaction.atomic():
        member = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "organization")
            .get(pk=member.pk)
        )
        _check(actor, member)
        _check_last_owner(member)
        plan = plan_for(member)
        if plan.nothing_to_do:
            return None
        _check_handover(plan, handover)
        user, organization = member.user, member.organization
        was_active = member.is_active

        if was_active:
            deactivate_member(actor, member)
        grants = remove_channel_grants(actor, member)
        brands = remove_brand_access(actor, member)
        for token in plan.tokens:
            revoke_token(actor, token)
        for invitation in plan.invitations:
            close(actor, invitation)
        conversations = [_hand_conversation(actor, c, handover.conversations_to) for c in plan.conversations]
        steps = [_replace_in_step(actor, step, user, handover.approvals_to) for step in plan.steps]
        awaiting = [_call_deciders(actor, post, user, handover.approvals_to) for post in plan.awaiting]
        posts = [_hand_post(actor, post, user, handover.posts_to) for post in plan.posts]
        sessions = end_sessions(actor, user)

        details: dict[str, Any] = {
            "deactivated": was_active,
            "sessions_ended": sessions,
            "grants": [_channel_label(c) for c in grants],
            "brands": [b.name for b in brands],
            "tokens": [{"name": t.name, "prefix": t.prefix} for t in plan.tokens],
            "invitations": [i.email for i in plan.invitations],
            "conversations": conversations,
            "steps": steps,
            "awaiting": awaiting,
            "posts": posts,
            "channels": [
                {
                    "id": item.channel.pk,
                    "label": _channel_label(item.channel),
                    "connected_by_them": item.connected_by_them,
                    "personal_login": item.personal_login,
                    "only_operator": item.only_operator,
                }
                for item in plan.channels
            ],
            "other_organizations": plan.other_organizations,
        }
        return record(actor, organization, ACTION, member, {"offboarding": [None, details]})


def _channel_label(channel: Channel) -> str:
    return f"@{channel.handle.lstrip('@')} ({channel.network})"


def _email(user: User | None) -> str | None:
    return user.email if user is not None else None


def _hand_conversation(actor: Actor, conversation: Conversation, to: User | None) -> dict[str, Any]:
    """To `to` if they may operate its channel, otherwise back to the queue (and automatic assignment)."""
    wanted = to
    if to is not None and not may_operate_channel(to, conversation.channel):
        to = None
    conversation = assign(actor, conversation, to)
    if to is None:
        auto_assign([conversation])
    return {
        "id": conversation.pk,
        "channel": _channel_label(conversation.channel),
        "preview": conversation.preview[:80],
        "to": _email(conversation.assignee),
        "not_to": _email(wanted) if wanted is not None and to is None else None,
    }


def _replace_in_step(actor: Actor, step: ApprovalStep, user: User, to: User | None) -> dict[str, Any]:
    step.people.remove(user)
    added = to is not None and not step.people.filter(pk=to.pk).exists()
    if added:
        assert to is not None
        step.people.add(to)
    record(
        actor,
        step.workflow.brand.organization,
        "approval_workflow.step_people",
        step.workflow,
        {
            "step": [None, step.name],
            "removed": [[user.email], None],
            "added": [None, [to.email] if added and to is not None else []],
        },
    )
    return {
        "brand": step.workflow.brand.name,
        "workflow": str(step.workflow.get_kind_display()),
        "step": step.name,
        "to": _email(to) if added else None,
    }


def _call_deciders(actor: Actor, post: Post, user: User, to: User | None) -> dict[str, Any]:
    """Tell whoever must now decide on `post` that it waits for them; a step that nobody is left to
    decide on (every other approver already did) gets `to` as an approver."""
    post = Post.objects.select_related("brand", "organization", "created_by").get(pk=post.pk)
    step = approvals.current_step_of(post)
    result: dict[str, Any] = {"id": post.pk, "title": str(post)[:80], "pending": [], "stuck": False}
    if step is None:
        return result
    pending = [a for a in approvals.approvers(step, post) if not approvals.has_decided(a, post, step)]
    if not pending and isinstance(step, ApprovalStep) and to is not None and to.pk != post.created_by_id:
        step.people.add(to)
        record(
            actor,
            post.organization,
            "approval_workflow.step_people",
            step.workflow,
            {"step": [None, step.name], "removed": [[], None], "added": [None, [to.email]]},
        )
        pending = [a for a in approvals.approvers(step, post) if not approvals.has_decided(a, post, step)]
    by_language: dict[str, list[User]] = defaultdict(list)
    for person in pending:
        by_language[person.language].append(person)
    for language, people in by_language.items():
        with override(language or None):
            text = _(
                "%(person)s left the organization: “%(post)s” now waits for your decision (%(step)s)."
            ) % {
                "person": str(user),
                "post": str(post)[:80],
                "step": step.name,
            }
        notify_people(
            post.organization_id, people, NotificationKind.POST_REVIEW, text, url=post_path(post.pk)
        )
    result["pending"] = [person.email for person in pending]
    result["stuck"] = not pending
    return result


def _hand_post(actor: Actor, post: Post, user: User, to: User | None) -> dict[str, Any]:
    assert to is not None  # _check_handover requires someone when there are posts
    post.created_by = to
    post.save(update_fields=["created_by", "updated_at"])
    record(actor, post.organization, "post.owner", post, {"created_by": [user.email, to.email]})
    return {"id": post.pk, "title": str(post)[:80], "to": to.email, "state": post.state}
