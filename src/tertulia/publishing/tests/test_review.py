"""Review of posts: who approves, in which order, under which rule, and what everyone is told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Channel, Membership, Organization, Role, User
from tertulia.core.models.audit import Via
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.inbox.models import Notification, NotificationKind
from tertulia.publishing import approvals
from tertulia.publishing.actions import review, scheduling
from tertulia.publishing.actions.review import NotPermitted, ReviewRefused
from tertulia.publishing.actions.workflows import StepSpec, set_workflow
from tertulia.publishing.models import (
    ApprovalDecision,
    ApprovalWorkflow,
    Pause,
    Post,
    PostComment,
    PostState,
    StepMode,
    Variant,
    WorkflowKind,
)


@dataclass
class Team:
    org: Organization
    brand: Brand
    owner: User
    manager: User  # brand manager
    cm: User  # community manager: writes and publishes
    cm2: User
    approver1: User
    approver2: User
    contributor: User  # seed 003's spoke: proposes, never publishes
    contributor2: User
    analyst: User


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    # Nobody signs in here; the real hasher would spend most of the run on the team's passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db) -> Team:
    org = make_org("Tertulia Café")
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    return Team(
        org=org,
        brand=make_brand(org, "Café"),
        owner=owner,
        manager=make_member(org, Role.BRAND_MANAGER, email="manager@example.com"),
        cm=make_member(org, Role.COMMUNITY_MANAGER, email="cm@example.com"),
        cm2=make_member(org, Role.COMMUNITY_MANAGER, email="cm2@example.com"),
        approver1=make_member(org, Role.APPROVER, email="approver1@example.com"),
        approver2=make_member(org, Role.APPROVER, email="approver2@example.com"),
        contributor=make_member(org, Role.CONTRIBUTOR, email="contributor@example.com"),
        contributor2=make_member(org, Role.CONTRIBUTOR, email="contributor2@example.com"),
        analyst=make_member(org, Role.ANALYST, email="analyst@example.com"),
    )


@pytest.fixture(autouse=True)
def scheduled(monkeypatch) -> list[int]:
    """`scheduling.approved` is written apart: here it only records which posts reached it."""
    calls: list[int] = []

    def approved(actor: Actor, post: Post) -> Post:
        assert post.state == PostState.APPROVED and post.approved_at is not None
        calls.append(post.pk)
        return post

    monkeypatch.setattr(scheduling, "approved", approved)
    return calls


def by(user: User | None) -> Actor:
    return Actor(user=user, via=Via.WEB)


def write(team: Team, author: User, text: str = "Nuevo menú de otoño") -> Post:
    post = Post.objects.create(organization=team.org, brand=team.brand, created_by=author, text=text)
    channel = Channel.objects.filter(brand=team.brand).first() or connect_channel(
        Actor.system(), team.brand, "sandbox", "@cafe", "Café"
    )
    Variant.objects.create(post=post, channel=channel)
    return post


def reload(post: Post) -> Post:
    return Post.objects.get(pk=post.pk)


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> ReviewRefused:
    """Every refusal is a ReviewRefused that says why."""
    with pytest.raises(ReviewRefused) as info:
        call(*args, **kwargs)
    assert str(info.value).strip()
    return info.value


def notified(post: Post, kind: str) -> set[User]:
    rows = Notification.objects.filter(kind=kind, url=review.post_path(post)).select_related("user")
    return {row.user for row in rows}


def workflow(team: Team, kind: str, *steps: StepSpec) -> ApprovalWorkflow:
    return set_workflow(by(team.owner), team.brand, kind, list(steps))


def crisis(team: Team, brand: Brand | None = None) -> Pause:
    return Pause.objects.create(organization=team.org, brand=brand, is_crisis=True, started_by=team.owner)


def audit_actions(post: Post) -> list[str]:
    entries = AuditEntry.objects.filter(object_type="publishing.post", object_id=str(post.pk))
    return list(entries.order_by("created_at", "id").values_list("action", flat=True))


LEGAL = StepSpec("Legal", StepMode.ANY, roles=[Role.APPROVER])


# --- the hub and its spokes ------------------------------------------------------------------------


def test_a_contributor_proposes_and_never_publishes(team: Team, scheduled: list[int]):
    post = write(team, team.contributor)
    assert approvals.needs_review(team.contributor, post)

    post = review.submit(by(team.contributor), post)
    assert post.state == PostState.IN_REVIEW and post.workflow is None and post.current_step == 1
    assert scheduled == []
    # No workflow: the publishers review it (never the author, never approvers without publishing).
    assert notified(post, NotificationKind.POST_REVIEW) == {team.owner, team.manager, team.cm, team.cm2}

    assert isinstance(refused(review.approve, by(team.contributor), post), NotPermitted)
    for outsider in (team.contributor2, team.approver1, team.analyst):
        assert not approvals.may_decide(outsider, post)
        assert isinstance(refused(review.approve, by(outsider), post), NotPermitted)

    post = review.approve(by(team.cm), post)
    assert post.state == PostState.APPROVED and post.approved_at is not None
    assert scheduled == [post.pk]
    assert notified(post, NotificationKind.POST_APPROVED) == {team.contributor}


def test_a_contributors_post_is_reviewed_even_when_a_publisher_sends_it(team: Team, scheduled: list[int]):
    post = review.submit(by(team.cm), write(team, team.contributor))
    assert post.state == PostState.IN_REVIEW and scheduled == []
    assert notified(post, NotificationKind.POST_REVIEW) == {team.owner, team.manager, team.cm2}
    assert approvals.may_decide(team.cm, post)  # the one who pressed the button did not write it
    assert review.approve(by(team.cm), post).state == PostState.APPROVED


def test_a_publisher_without_a_workflow_goes_straight_to_scheduling(team: Team, scheduled: list[int]):
    post = write(team, team.cm)
    assert not approvals.needs_review(team.cm, post)
    post = review.submit(by(team.cm), post)
    assert post.state == PostState.APPROVED and post.approved_at is not None
    assert scheduled == [post.pk]
    assert not Notification.objects.exists()
    entry = AuditEntry.objects.get(action="post.submitted", object_id=str(post.pk))
    assert entry.changes["state"] == [PostState.DRAFT, PostState.APPROVED]
    assert entry.changes["review"] == [None, False]


def test_an_inactive_workflow_does_not_apply(team: Team, scheduled: list[int]):
    set_workflow(by(team.owner), team.brand, WorkflowKind.NORMAL, [LEGAL], is_active=False)
    assert approvals.workflow_for(team.brand) is None
    assert review.submit(by(team.cm), write(team, team.cm)).state == PostState.APPROVED


# --- steps -------------------------------------------------------------------------------------


def test_ordered_steps_any_then_all(team: Team, scheduled: list[int]):
    flow = workflow(
        team,
        WorkflowKind.NORMAL,
        LEGAL,
        StepSpec("Dirección", StepMode.ALL, people=[team.manager.pk, team.cm2.pk]),
    )
    post = review.submit(by(team.cm), write(team, team.cm))
    assert post.workflow == flow and post.current_step == 1
    assert notified(post, NotificationKind.POST_REVIEW) == {team.approver1, team.approver2}
    refused(review.approve, by(team.cm2), post)  # step 2's approver, not step 1's

    post = review.approve(by(team.approver1), post)  # ANY: one is enough
    assert post.state == PostState.IN_REVIEW and post.current_step == 2
    assert notified(post, NotificationKind.POST_REVIEW) >= {team.manager, team.cm2}
    refused(review.approve, by(team.approver2), post)  # step 1 is done

    post = review.approve(by(team.manager), post)
    assert post.state == PostState.IN_REVIEW and post.current_step == 2  # ALL waits for cm2
    assert scheduled == []
    assert "already decided" in str(refused(review.approve, by(team.manager), post))

    post = review.approve(by(team.cm2), post)
    assert post.state == PostState.APPROVED and scheduled == [post.pk]
    assert ApprovalDecision.objects.filter(post=post).count() == 3


def test_all_counts_the_approvers_as_they_are_now(team: Team, scheduled: list[int]):
    workflow(team, WorkflowKind.NORMAL, StepSpec("Todos", StepMode.ALL, roles=[Role.APPROVER]))
    post = review.submit(by(team.cm), write(team, team.cm))
    step = approvals.current_step_of(post)
    assert step is not None
    review.approve(by(team.approver1), post)
    assert not approvals.step_complete(reload(post), step)
    # approver2 leaves: the one approver left has approved, so the step is complete.
    Membership.objects.filter(user=team.approver2).update(is_active=False)
    assert approvals.step_complete(reload(post), step)


def test_nobody_approves_their_own_post(team: Team):
    workflow(team, WorkflowKind.NORMAL, StepSpec("Equipo", StepMode.ALL, roles=[Role.COMMUNITY_MANAGER]))
    post = review.submit(by(team.cm), write(team, team.cm))
    step = approvals.current_step_of(post)
    assert step is not None
    assert team.cm not in approvals.approvers(step, post)
    assert approvals.approvers(step, post) == [team.cm2]
    assert not approvals.may_decide(team.cm, post)
    error = refused(review.approve, by(team.cm), post)
    assert isinstance(error, NotPermitted) and "own post" in str(error)
    assert review.approve(by(team.cm2), post).state == PostState.APPROVED


def test_a_review_nobody_could_approve_is_refused_when_sent(team: Team):
    workflow(team, WorkflowKind.NORMAL, StepSpec("Solo yo", people=[team.cm.pk]))
    post = write(team, team.cm)
    assert "Solo yo" in str(refused(review.submit, by(team.cm), post))
    assert reload(post).state == PostState.DRAFT


# --- changes, versions, withdrawal --------------------------------------------------------------


def test_changes_then_an_edit_restart_review_and_old_approvals_do_not_count(team: Team, scheduled):
    workflow(team, WorkflowKind.NORMAL, LEGAL, StepSpec("Marca", people=[team.manager.pk]))
    post = review.submit(by(team.cm), write(team, team.cm))
    post = review.approve(by(team.approver1), post)
    assert post.current_step == 2

    refused(review.request_changes, by(team.manager), post, "   ")
    post = review.request_changes(by(team.manager), post, "Cambia el tono, por favor")
    assert post.state == PostState.CHANGES_REQUESTED
    (note,) = Notification.objects.filter(kind=NotificationKind.POST_CHANGES)
    assert note.user == team.cm and "Cambia el tono, por favor" in note.text
    refused(review.approve, by(team.manager), post)  # not in review any more

    # The author edits it (the composer bumps the version) and sends it again.
    Post.objects.filter(pk=post.pk).update(version=F("version") + 1, text="Menú de otoño, con calma")
    post = review.submit(by(team.cm), reload(post))
    assert post.state == PostState.IN_REVIEW and post.current_step == 1 and post.version == 2
    first = approvals.current_step_of(post)
    assert first is not None and not approvals.step_complete(post, first)
    assert approvals.may_decide(team.approver1, post)

    stale = refused(review.approve, by(team.approver1), post, version=1)
    assert "changed" in str(stale)
    post = review.approve(by(team.approver1), post)
    assert post.current_step == 2 and scheduled == []
    post = review.approve(by(team.manager), post)
    assert post.state == PostState.APPROVED and scheduled == [post.pk]


def test_sending_again_without_an_edit_starts_a_new_round(team: Team):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, team.cm))
    post = review.request_changes(by(team.approver1), post, "¿Seguro?")
    post = review.submit(by(team.cm), post)  # "yes, sure": same text
    assert post.version == 2 and post.state == PostState.IN_REVIEW
    assert approvals.may_decide(team.approver1, post)  # the earlier decision neither counts nor blocks
    assert review.approve(by(team.approver1), post).state == PostState.APPROVED


def test_the_author_withdraws_to_draft(team: Team):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, team.cm))
    assert isinstance(refused(review.withdraw, by(team.approver1), post), NotPermitted)
    post = review.withdraw(by(team.cm), post)
    assert post.state == PostState.DRAFT and post.workflow is None
    refused(review.withdraw, by(team.cm), post)
    refused(review.approve, by(team.approver1), post)
    refused(review.request_changes, by(team.approver1), post, "Tarde")


def test_only_drafts_and_posts_sent_back_can_be_sent(team: Team):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, team.cm))
    refused(review.submit, by(team.cm), post)
    for state in (PostState.APPROVED, PostState.SCHEDULED, PostState.PUBLISHED, PostState.CANCELLED):
        Post.objects.filter(pk=post.pk).update(state=state)
        refused(review.submit, by(team.cm), reload(post))


def test_people_without_the_permission_cannot_send(team: Team):
    post = write(team, team.cm)
    assert isinstance(refused(review.submit, by(team.analyst), post), NotPermitted)
    assert isinstance(refused(review.submit, by(None), post), NotPermitted)
    assert isinstance(refused(review.comment, by(None), post, "hola"), NotPermitted)


# --- crisis mode -------------------------------------------------------------------------------


def test_in_crisis_mode_the_crisis_workflow_applies(team: Team, scheduled: list[int]):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    flow = workflow(
        team, WorkflowKind.CRISIS, StepSpec("Gabinete", StepMode.ALL, people=[team.manager.pk, team.owner.pk])
    )
    assert not approvals.in_crisis(team.brand)
    crisis(team, team.brand)
    assert approvals.in_crisis(team.brand) and approvals.workflow_for(team.brand) == flow

    post = review.submit(by(team.cm), write(team, team.cm))
    assert post.workflow == flow
    assert notified(post, NotificationKind.POST_REVIEW) == {team.manager, team.owner}
    refused(review.approve, by(team.approver1), post)
    post = review.approve(by(team.manager), post)
    assert post.state == PostState.IN_REVIEW
    assert review.approve(by(team.owner), post).state == PostState.APPROVED
    assert scheduled == [post.pk]


def test_in_crisis_mode_without_a_crisis_workflow_the_built_in_rule_applies(team: Team, scheduled):
    workflow(team, WorkflowKind.CRISIS, StepSpec("Gabinete", people=[team.manager.pk]))
    ApprovalWorkflow.objects.filter(kind=WorkflowKind.CRISIS).update(is_active=False)
    crisis(team, team.brand)
    post = write(team, team.cm)
    assert approvals.workflow_for(team.brand) is None
    assert approvals.needs_review(team.cm, post)  # even a publisher's post, even with no workflow

    post = review.submit(by(team.cm), post)
    assert post.state == PostState.IN_REVIEW and post.workflow is None
    assert approvals.current_step_of(post) == approvals.CRISIS_RULE
    # Any one person who manages publishing, other than the author.
    assert notified(post, NotificationKind.POST_REVIEW) == {team.manager, team.owner}
    for not_enough in (team.cm2, team.approver1):
        refused(review.approve, by(not_enough), post)
    assert review.approve(by(team.manager), post).state == PostState.APPROVED
    assert scheduled == [post.pk]


def test_only_an_active_crisis_pause_is_crisis_mode(team: Team):
    Pause.objects.create(organization=team.org, brand=team.brand, is_crisis=False)
    assert not approvals.in_crisis(team.brand)
    Pause.objects.create(organization=team.org, brand=team.brand, is_crisis=True, ended_at=timezone.now())
    assert not approvals.in_crisis(team.brand)
    crisis(team, make_brand(team.org, "Otra marca"))
    assert not approvals.in_crisis(team.brand)


def test_crisis_mid_review_restarts_under_the_crisis_workflow(team: Team, scheduled: list[int]):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    flow = workflow(team, WorkflowKind.CRISIS, StepSpec("Gabinete", people=[team.manager.pk]))
    post = review.submit(by(team.cm), write(team, team.cm))
    assert post.workflow is not None and post.workflow.kind == WorkflowKind.NORMAL
    Notification.objects.all().delete()

    crisis(team, team.brand)
    post = review.approve(by(team.approver1), post)  # would have completed the everyday review
    assert post.state == PostState.IN_REVIEW and scheduled == []
    assert post.workflow == flow and post.current_step == 1 and post.version == 2
    (note,) = Notification.objects.filter(kind=NotificationKind.POST_REVIEW)
    assert note.user == team.manager and "Crisis" in note.text
    restart = AuditEntry.objects.get(action="post.review_restarted", object_id=str(post.pk))
    assert restart.changes["reason"] == [None, "crisis"]
    assert restart.changes["workflow"][1] == flow.pk

    refused(review.approve, by(team.approver2), post)
    post = review.approve(by(team.manager), post)
    assert post.state == PostState.APPROVED and scheduled == [post.pk]


def test_crisis_mid_review_without_a_crisis_workflow_restarts_under_the_built_in_rule(team: Team, scheduled):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, team.cm))
    crisis(team)  # the whole organization
    post = review.approve(by(team.approver1), post)
    assert post.state == PostState.IN_REVIEW and post.workflow is None and scheduled == []
    assert approvals.current_step_of(post) == approvals.CRISIS_RULE
    refused(review.approve, by(team.approver1), post)
    refused(review.approve, by(team.cm2), post)
    assert review.approve(by(team.owner), post).state == PostState.APPROVED


def test_a_crisis_review_stands_after_crisis_mode_ends(team: Team, scheduled: list[int]):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    workflow(team, WorkflowKind.CRISIS, StepSpec("Gabinete", people=[team.manager.pk]))
    pause = crisis(team, team.brand)
    post = review.submit(by(team.cm), write(team, team.cm))
    Pause.objects.filter(pk=pause.pk).update(ended_at=timezone.now())
    refused(review.approve, by(team.approver1), post)  # the stricter rule holds until approved
    assert review.approve(by(team.manager), post).state == PostState.APPROVED


def test_a_built_in_review_completes_only_if_no_workflow_came_in_force(team: Team, scheduled):
    post = review.submit(by(team.contributor), write(team, team.contributor))
    workflow(team, WorkflowKind.NORMAL, LEGAL)  # set while the post waited
    post = review.approve(by(team.cm), post)
    assert post.state == PostState.IN_REVIEW and post.workflow is not None and scheduled == []
    restart = AuditEntry.objects.get(action="post.review_restarted", object_id=str(post.pk))
    assert restart.changes["reason"] == [None, "workflow"]
    assert review.approve(by(team.approver2), post).state == PostState.APPROVED


def test_organization_wide_crisis_applies_to_every_brand(team: Team):
    other = make_brand(team.org, "Panadería")
    flow = set_workflow(by(team.owner), other, WorkflowKind.CRISIS, [StepSpec("Gabinete", roles=["owner"])])
    elsewhere = make_brand(make_org("Otra empresa"), "Ajena")
    crisis(team)
    assert approvals.in_crisis(team.brand) and approvals.in_crisis(other)
    assert not approvals.in_crisis(elsewhere)
    assert approvals.workflow_for(team.brand) is None  # the built-in crisis rule
    assert approvals.workflow_for(other) == flow
    assert approvals.needs_review(team.cm, write(team, team.cm))


# --- notifications -------------------------------------------------------------------------------


def test_notifications_go_to_the_right_people_in_their_language(team: Team, monkeypatch):
    User.objects.filter(pk=team.approver1.pk).update(language="es")
    User.objects.filter(pk=team.approver2.pk).update(language="en")
    User.objects.filter(pk=team.cm.pk).update(language="es")
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, User.objects.get(pk=team.cm.pk), "Hola"))

    texts = {n.user_id: n.text for n in Notification.objects.filter(kind=NotificationKind.POST_REVIEW)}
    assert set(texts) == {team.approver1.pk, team.approver2.pk}
    assert "envió «Hola» a revisión (Legal)" in texts[team.approver1.pk]
    assert "sent “Hola” for review (Legal)" in texts[team.approver2.pk]
    assert all("Hola" in text and "Legal" in text for text in texts.values())
    assert all(n.url == review.post_path(post) for n in Notification.objects.all())

    review.request_changes(by(team.approver2), post, "Más corto")
    (note,) = Notification.objects.filter(kind=NotificationKind.POST_CHANGES)
    assert note.user_id == team.cm.pk and "pidió cambios en «Hola»" in note.text
    assert "Más corto" in note.text


def test_approval_tells_the_author_but_not_the_approver_who_wrote_nothing(team: Team):
    post = review.submit(by(team.contributor), write(team, team.contributor))
    Notification.objects.all().delete()
    review.approve(by(team.cm), post)
    assert notified(post, NotificationKind.POST_APPROVED) == {team.contributor}
    assert not Notification.objects.exclude(kind=NotificationKind.POST_APPROVED).exists()


# --- the tenant boundary ------------------------------------------------------------------------


def test_a_member_of_another_organization_can_never_decide(team: Team):
    other_org = make_org("Competencia SA")
    stranger = make_member(other_org, Role.APPROVER, email="stranger@example.com")
    other_owner = Membership.objects.get(organization=other_org, role=Role.OWNER).user
    flow = workflow(team, WorkflowKind.NORMAL, LEGAL)
    # Even named in the step behind the actions' back, and holding every permission in their own org.
    flow.steps.get().people.add(stranger, other_owner)
    post = review.submit(by(team.cm), write(team, team.cm))
    step = approvals.current_step_of(post)
    assert step is not None
    for outsider in (stranger, other_owner):
        assert outsider not in approvals.approvers(step, post)
        assert not approvals.may_decide(outsider, post)
        assert isinstance(refused(review.approve, by(outsider), post), NotPermitted)
        assert isinstance(refused(review.request_changes, by(outsider), post, "No"), NotPermitted)
        assert isinstance(refused(review.comment, by(outsider), post, "Hola"), NotPermitted)
        assert isinstance(refused(review.submit, by(outsider), post), NotPermitted)
    assert not ApprovalDecision.objects.exists() and not PostComment.objects.exists()


def test_someone_who_left_can_no_longer_decide(team: Team):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, team.cm))
    Membership.objects.filter(user=team.approver1).update(is_active=False)
    assert isinstance(refused(review.approve, by(team.approver1), post), NotPermitted)


# --- comments ------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "\u202eRTL override: שלום مرحبا",
    "zero\u200bwidth\u200d\ufeffjoiner",
    "emoji 👩🏽‍💻🏳️‍🌈🔥",
    "  spaces kept\n\n\t",
    "'; DROP TABLE publishing_post; --",
    "%(post)s {0} {{ x }} \\x00",
    "a" * review.MAX_COMMENT,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_comments_are_stored_verbatim(team: Team, text: str):
    post = write(team, team.contributor)
    note = review.comment(by(team.analyst), post, text)
    stored = PostComment.objects.get(pk=note.pk)
    assert stored.text == text and stored.author == team.analyst and stored.version == post.version


@pytest.mark.parametrize("text", HOSTILE[:-1])
def test_review_comments_are_stored_verbatim_and_reach_the_author(team: Team, text: str):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = review.submit(by(team.cm), write(team, team.cm))
    review.request_changes(by(team.approver1), post, text)
    assert ApprovalDecision.objects.get(post=post).comment == text
    (note,) = Notification.objects.filter(kind=NotificationKind.POST_CHANGES)
    assert text.strip()[:100] in note.text


@pytest.mark.parametrize("text", ["", " \n\t ", "a" * (review.MAX_COMMENT + 1)])
def test_empty_or_overlong_comments_are_refused(team: Team, text: str):
    post = write(team, team.cm)
    refused(review.comment, by(team.cm2), post, text)
    assert not PostComment.objects.exists()


# --- all or nothing, and the audit trail -----------------------------------------------------------


def test_nothing_is_written_when_scheduling_fails(team: Team, monkeypatch):
    post = review.submit(by(team.contributor), write(team, team.contributor))
    before = AuditEntry.objects.count()

    def broken(actor: Actor, post: Post) -> Post:
        raise RuntimeError("scheduling is down")

    monkeypatch.setattr(scheduling, "approved", broken)
    with pytest.raises(RuntimeError):
        review.approve(by(team.cm), post)
    post = reload(post)
    assert post.state == PostState.IN_REVIEW and post.approved_at is None
    assert not ApprovalDecision.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.POST_APPROVED).exists()
    assert AuditEntry.objects.count() == before


def test_every_step_is_in_the_audit_trail(team: Team):
    workflow(team, WorkflowKind.NORMAL, LEGAL)
    post = write(team, team.cm)
    review.comment(by(team.approver1), post, "¿Lo vemos?")
    post = review.submit(by(team.cm), post)
    post = review.request_changes(by(team.approver1), post, "Falta la fecha")
    post = review.withdraw(by(team.cm), post)
    post = review.submit(by(team.cm), post)
    post = review.approve(by(team.approver2), post, "Bien")
    assert audit_actions(post) == [
        "post.commented",
        "post.submitted",
        "post.changes_requested",
        "post.withdrawn",
        "post.submitted",
        "post.approved",
    ]
    approved = AuditEntry.objects.filter(action="post.approved", object_id=str(post.pk)).get()
    assert approved.actor == team.approver2
    assert approved.changes["state"] == [PostState.IN_REVIEW, PostState.APPROVED]
    assert approved.changes["step"] == [None, "Legal"]
