"""Offboarding in one action: what the preview lists is what happens, at once, audited, once; the
person's other organizations and past work are untouched; refusals leave nothing half done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tertulia.api.actions import TokenInvalid, create_token, resolve
from tertulia.api.models import ApiToken
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, BrandAccess, Channel, ChannelOperator, Membership, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.governance.actions import invitations
from tertulia.governance.actions.offboarding import Handover, OffboardingRefused, offboard, plan_for
from tertulia.governance.models import Invitation
from tertulia.governance.tests.conftest import StartSmtp, Team
from tertulia.inbox.models import Conversation, InboxSettings, Kind, Notification, NotificationKind, Status
from tertulia.publishing.actions.workflows import StepSpec, set_workflow
from tertulia.publishing.models import ApprovalStep, Post, PostState
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")


@dataclass
class Scene:
    team: Team
    leaver: User
    colleague: User
    author: User
    channel: Channel
    connected: Channel  # connected by the leaver through their own login (facebook)
    shared: Channel  # operated by the leaver and the colleague
    conversations: list[Conversation]
    in_review: Post
    scheduled: Post
    draft: Post
    step: ApprovalStep
    token: str
    leaver_client: Client


def conversation(
    channel: Channel, key: str, assignee: User | None, status: str = Status.OPEN
) -> Conversation:
    return Conversation.objects.create(
        organization=channel.organization,
        brand=channel.brand,
        channel=channel,
        key=key,
        kind=Kind.DIRECT,
        preview=f"mensaje {key}",
        status=status,
        assignee=assignee,
        last_message_at=timezone.now(),
    )


@pytest.fixture
def scene(team: Team) -> Scene:
    org, brand = team.org, team.brand
    leaver = make_member(org, Role.COMMUNITY_MANAGER, email="sale@example.com", display_name="Sale")
    colleague = make_member(org, Role.COMMUNITY_MANAGER, email="queda@example.com", display_name="Queda")
    author = make_member(org, Role.CONTRIBUTOR, email="autor@example.com")
    Membership.objects.filter(user=leaver).update(all_brands=False)
    BrandAccess.objects.create(membership=Membership.objects.get(user=leaver), brand=brand)
    channel = connect_channel(SYSTEM, brand, "sandbox", "@solo_sale", "Solo")
    shared = connect_channel(SYSTEM, brand, "sandbox", "@compartido", "Compartido")
    connected = Channel.objects.create(
        organization=org, brand=brand, network="facebook", handle="marca.fb", connected_by=leaver
    )
    set_channel_operators(SYSTEM, channel, [leaver])
    set_channel_operators(SYSTEM, shared, [leaver, colleague])
    set_channel_operators(SYSTEM, connected, [leaver, colleague])
    conversations = [
        conversation(channel, "c1", leaver),
        conversation(shared, "c2", leaver, Status.PENDING),
        conversation(shared, "c3", leaver, Status.CLOSED),  # closed: stays as it was
        conversation(shared, "c4", colleague),
    ]
    set_workflow(
        Actor(user=team.admin, via="web"), brand, "normal", [StepSpec(name="Legal", people=[leaver.pk])]
    )
    step = ApprovalStep.objects.get()
    in_review = Post.objects.create(
        organization=org,
        brand=brand,
        created_by=author,
        text="Propuesta",
        state=PostState.IN_REVIEW,
        workflow=step.workflow,
        current_step=1,
    )
    scheduled = Post.objects.create(
        organization=org,
        brand=brand,
        created_by=leaver,
        text="Programado",
        state=PostState.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    draft = Post.objects.create(organization=org, brand=brand, created_by=leaver, text="Borrador")
    _token, secret = create_token(SYSTEM, leaver, org, "integración", ["inbox:read"])
    leaver_client = signed_in(leaver)
    assert leaver_client.get(reverse("web:team")).status_code == 200
    return Scene(
        team,
        leaver,
        colleague,
        author,
        channel,
        connected,
        shared,
        conversations,
        in_review,
        scheduled,
        draft,
        step,
        secret,
        leaver_client,
    )


def leaver_member(scene: Scene) -> Membership:
    return Membership.objects.get(organization=scene.team.org, user=scene.leaver)


def test_the_preview_lists_everything_and_changes_nothing(scene: Scene) -> None:
    before = AuditEntry.objects.count()
    plan = plan_for(leaver_member(scene))
    assert {c.key for c in plan.conversations} == {"c1", "c2"}
    assert plan.steps == [scene.step]
    assert plan.awaiting == [scene.in_review]
    assert plan.posts == [scene.scheduled]
    assert [t.name for t in plan.tokens] == ["integración"]
    assert {c.handle for c in plan.grants} == {"solo_sale", "compartido", "marca.fb"}
    assert plan.brands == [scene.team.brand]
    review = {item.channel.handle: item for item in plan.channels}
    assert set(review) == {"solo_sale", "marca.fb"}
    assert review["solo_sale"].only_operator and not review["solo_sale"].connected_by_them
    assert review["marca.fb"].personal_login and not review["marca.fb"].only_operator
    page = signed_in(scene.team.admin).get(reverse("web:member-offboard", args=[leaver_member(scene).pk]))
    assert page.status_code == 200
    text = page.content.decode()
    for expected in ("integración", "solo_sale", "marca.fb", "Legal", "mensaje c1", "Programado"):
        assert expected in text
    assert AuditEntry.objects.count() == before
    assert leaver_member(scene).is_active


def test_offboarding_does_it_all_at_once_and_audits_it(scene: Scene, team: Team) -> None:
    admin_client = signed_in(team.admin)
    member = leaver_member(scene)
    response = admin_client.post(
        reverse("web:member-offboard", args=[member.pk]),
        {
            "conversations_to": str(scene.colleague.pk),
            "approvals_to": str(team.admin.pk),
            "posts_to": str(scene.colleague.pk),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:member-offboarded", args=[member.pk])

    member.refresh_from_db()
    assert not member.is_active
    assert not BrandAccess.objects.filter(membership=member).exists()
    assert not ChannelOperator.objects.filter(user=scene.leaver).exists()
    # Signed out everywhere; the API token no longer works.
    assert scene.leaver_client.get(reverse("web:team")).status_code == 302
    with pytest.raises(TokenInvalid):
        resolve(scene.token)
    assert ApiToken.objects.get(user=scene.leaver).revoked_at is not None
    # Conversations: the colleague operates both channels, so both open ones go to them.
    by_key = {c.key: c for c in Conversation.objects.all()}
    assert by_key["c1"].assignee is None  # the colleague does not operate @solo_sale: back to the queue
    assert by_key["c2"].assignee == scene.colleague
    assert by_key["c3"].assignee == scene.leaver  # closed work stays theirs
    # Approvals: the admin takes their place in the step, and is told the post waits for them.
    assert list(scene.step.people.all()) == [team.admin]
    assert Notification.objects.filter(user=team.admin, kind=NotificationKind.POST_REVIEW).exists()
    # Scheduled posts: the colleague owns them now; their drafts stay theirs.
    assert Post.objects.get(pk=scene.scheduled.pk).created_by == scene.colleague
    assert Post.objects.get(pk=scene.draft.pk).created_by == scene.leaver
    # The account still exists, and the past stays attributed to them.
    assert User.objects.get(pk=scene.leaver.pk).is_active
    assert Channel.objects.get(pk=scene.connected.pk).connected_by == scene.leaver

    entry = AuditEntry.objects.get(action="member.offboard")
    assert entry.organization == team.org and entry.actor == team.admin
    details = entry.changes["offboarding"][1]
    assert details["deactivated"] is True
    assert details["sessions_ended"] >= 1
    assert {c["id"] for c in details["conversations"]} == {by_key["c1"].pk, by_key["c2"].pk}
    assert [c["not_to"] for c in details["conversations"]] == [scene.colleague.email, None]
    assert details["tokens"][0]["name"] == "integración"
    assert {c["label"] for c in details["channels"]} == {"@solo_sale (sandbox)", "@marca.fb (facebook)"}
    individual = set(AuditEntry.objects.filter(organization=team.org).values_list("action", flat=True))
    assert {
        "member.deactivate",
        "member.brands",
        "channel.operators",
        "api_token.revoke",
        "conversation.assign",
        "approval_workflow.step_people",
        "post.owner",
    } <= individual

    outcome = admin_client.get(reverse("web:member-offboarded", args=[member.pk]))
    assert outcome.status_code == 200
    text = outcome.content.decode()
    assert "Reconnect or rotate" in text and "marca.fb" in text
    assert reverse("web:channel-reconnect", args=[scene.connected.pk]) in text


def test_offboarding_twice_does_nothing_more(scene: Scene, team: Team) -> None:
    actor = Actor(user=team.admin, via="web")
    handover = Handover(posts_to=scene.colleague)
    assert offboard(actor, leaver_member(scene), handover) is not None
    count = AuditEntry.objects.count()
    assert plan_for(leaver_member(scene)).nothing_to_do
    assert offboard(actor, leaver_member(scene), handover) is None
    assert AuditEntry.objects.count() == count
    response = signed_in(team.admin).post(reverse("web:member-offboard", args=[leaver_member(scene).pk]), {})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="member.offboard").count() == 1


def test_someone_deactivated_the_old_way_can_still_be_cleaned_up(scene: Scene, team: Team) -> None:
    Membership.objects.filter(pk=leaver_member(scene).pk).update(is_active=False)
    entry = offboard(
        Actor(user=team.admin, via="web"), leaver_member(scene), Handover(posts_to=scene.colleague)
    )
    assert entry is not None
    assert entry.changes["offboarding"][1]["deactivated"] is False
    assert not ChannelOperator.objects.filter(user=scene.leaver).exists()
    assert ApiToken.objects.get(user=scene.leaver).revoked_at is not None


def test_a_failure_at_the_last_step_leaves_nothing_done(
    scene: Scene, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tertulia.governance.actions import offboarding

    real = offboarding.end_sessions

    def sign_out_then_fail(actor: Actor, user: User) -> int:
        real(actor, user)
        raise RuntimeError("something failed after the sign-out")

    monkeypatch.setattr(offboarding, "end_sessions", sign_out_then_fail)
    with pytest.raises(RuntimeError):
        offboard(Actor(user=team.admin, via="web"), leaver_member(scene), Handover(posts_to=scene.colleague))
    assert leaver_member(scene).is_active
    assert BrandAccess.objects.filter(membership=leaver_member(scene)).exists()
    assert ChannelOperator.objects.filter(user=scene.leaver).count() == 3
    assert ApiToken.objects.get(user=scene.leaver).revoked_at is None
    assert Conversation.objects.get(key="c1").assignee == scene.leaver
    assert list(scene.step.people.all()) == [scene.leaver]
    assert Post.objects.get(pk=scene.scheduled.pk).created_by == scene.leaver
    assert not AuditEntry.objects.filter(
        action__in=["member.offboard", "member.deactivate", "post.owner"]
    ).exists()
    # Even the sign-out was undone with the rest: their session still works.
    assert scene.leaver_client.get(reverse("web:team")).status_code == 200
    assert Session.objects.exists()


def test_the_person_stays_in_their_other_organizations(scene: Scene, team: Team) -> None:
    elsewhere = make_org("Otra casa")
    Membership.objects.create(organization=elsewhere, user=scene.leaver, role=Role.ADMIN)
    other_brand = make_brand(elsewhere, "Fuera")
    other_channel = connect_channel(SYSTEM, other_brand, "sandbox", "@fuera", "Fuera")
    set_channel_operators(SYSTEM, other_channel, [scene.leaver])
    _token, other_secret = create_token(SYSTEM, scene.leaver, elsewhere, "otra", ["inbox:read"])
    outside = conversation(other_channel, "fuera", scene.leaver)
    offboard(Actor(user=team.admin, via="web"), leaver_member(scene), Handover(posts_to=scene.colleague))
    assert Membership.objects.get(organization=elsewhere, user=scene.leaver).is_active
    assert ChannelOperator.objects.filter(channel=other_channel, user=scene.leaver).exists()
    assert resolve(other_secret).token.organization == elsewhere
    outside.refresh_from_db()
    assert outside.assignee == scene.leaver
    # Signed out, they sign in again and work in the other organization only.
    client = signed_in(scene.leaver)
    assert client.get(reverse("web:team")).status_code == 200
    assert "Otra casa" in client.get(reverse("web:team")).content.decode()


def test_conversations_can_go_back_to_the_queue_and_automatic_assignment(scene: Scene, team: Team) -> None:
    InboxSettings.objects.update_or_create(brand=team.brand, defaults={"assignment": "balanced"})
    offboard(Actor(user=team.admin, via="web"), leaver_member(scene), Handover(posts_to=scene.colleague))
    by_key = {c.key: c for c in Conversation.objects.all()}
    # Nobody holds a grant on @solo_sale any more: automatic assignment falls back to owners and admins.
    assert by_key["c1"].assignee in {team.owner, team.admin}
    assert (
        by_key["c2"].assignee is None
    )  # pending: it waits in the queue (automatic assignment takes open ones)


def test_the_last_owner_cannot_be_offboarded(team: Team) -> None:
    owner_member = Membership.objects.get(organization=team.org, user=team.owner)
    with pytest.raises(OffboardingRefused, match="last owner"):
        offboard(Actor.system("tests"), owner_member)
    page = signed_in(team.admin).get(reverse("web:member-offboard", args=[owner_member.pk])).content.decode()
    assert 'id="offboard-problem"' in page
    response = signed_in(team.admin).post(reverse("web:member-offboard", args=[owner_member.pk]), {})
    assert response.status_code == 400
    owner_member.refresh_from_db()
    assert owner_member.is_active
    assert not AuditEntry.objects.filter(action="member.offboard").exists()


def test_who_may_offboard_whom(scene: Scene, team: Team) -> None:
    member = leaver_member(scene)
    # Nobody offboards themselves; only owners offboard owners; only member managers offboard at all.
    with pytest.raises(OffboardingRefused, match="yourself"):
        offboard(Actor(user=team.admin, via="web"), Membership.objects.get(user=team.admin))
    second_owner = make_member(team.org, Role.OWNER)
    with pytest.raises(OffboardingRefused, match="Only an owner"):
        offboard(Actor(user=team.admin, via="web"), Membership.objects.get(user=second_owner))
    offboard(Actor(user=team.owner, via="web"), Membership.objects.get(user=second_owner))
    manager = make_member(team.org, Role.BRAND_MANAGER)
    client = signed_in(manager)
    assert client.get(reverse("web:member-offboard", args=[member.pk])).status_code == 403
    assert client.post(reverse("web:member-offboard", args=[member.pk]), {}).status_code == 403
    with pytest.raises(OffboardingRefused):
        offboard(Actor(user=manager, via="web"), member, Handover(posts_to=scene.colleague))
    assert leaver_member(scene).is_active


def test_members_of_another_organization_are_out_of_reach(scene: Scene) -> None:
    outsider = make_member(make_org("Ajena"), Role.OWNER)
    client = signed_in(outsider)
    member = leaver_member(scene)
    assert client.get(reverse("web:member-offboard", args=[member.pk])).status_code == 404
    assert client.post(reverse("web:member-offboard", args=[member.pk]), {}).status_code == 404
    assert client.get(reverse("web:member-offboarded", args=[member.pk])).status_code == 404
    assert leaver_member(scene).is_active


def test_successors_must_be_able_to_take_the_work(scene: Scene, team: Team) -> None:
    stranger = make_member(make_org("Ajena"), Role.OWNER)
    actor = Actor(user=team.admin, via="web")
    for handover, says in [
        (Handover(posts_to=scene.author), "may not publish"),  # a contributor
        (Handover(posts_to=scene.colleague, approvals_to=stranger), "may not approve"),
        (Handover(posts_to=scene.colleague, conversations_to=scene.leaver), "do not operate"),
        (Handover(), "scheduled posts"),
    ]:
        with pytest.raises(OffboardingRefused, match=says):
            offboard(actor, leaver_member(scene), handover)
    assert leaver_member(scene).is_active
    response = signed_in(team.admin).post(
        reverse("web:member-offboard", args=[leaver_member(scene).pk]), {"posts_to": str(stranger.pk)}
    )
    assert response.status_code == 400
    assert leaver_member(scene).is_active


def test_a_departing_admins_invitations_die_with_their_access(team: Team, smtp_server: StartSmtp) -> None:
    smtp_server()
    leaving_admin = make_member(team.org, Role.ADMIN, email="admin2@example.com")
    invitations.invite(
        Actor(user=leaving_admin, via="web"), team.org, "my-own@example.net", Role.ADMIN, site_url="http://x"
    )
    entry = offboard(Actor(user=team.owner, via="web"), Membership.objects.get(user=leaving_admin))
    assert entry is not None and entry.changes["offboarding"][1]["invitations"] == ["my-own@example.net"]
    assert Invitation.objects.get().revoked_at is not None


def test_a_post_nobody_is_left_to_decide_on_gets_the_successor(scene: Scene, team: Team) -> None:
    # An "every approver" step by role: the colleague already approved, only the leaver was missing.
    set_workflow(
        Actor(user=team.admin, via="web"),
        team.brand,
        "normal",
        [StepSpec(name="Todos", mode="all", roles=[Role.COMMUNITY_MANAGER])],
    )
    step = ApprovalStep.objects.get()
    post = Post.objects.create(
        organization=team.org,
        brand=team.brand,
        created_by=scene.author,
        text="Todos",
        state=PostState.IN_REVIEW,
        workflow=step.workflow,
        current_step=1,
    )
    from tertulia.publishing.models import ApprovalDecision

    ApprovalDecision.objects.create(
        post=post, version=1, step_position=1, step_name="Todos", user=scene.colleague, decision="approve"
    )
    plan = plan_for(leaver_member(scene))
    assert post in plan.awaiting
    entry = offboard(
        Actor(user=team.admin, via="web"),
        leaver_member(scene),
        Handover(posts_to=scene.colleague, approvals_to=team.admin),
    )
    assert entry is not None
    awaiting = {a["id"]: a for a in entry.changes["offboarding"][1]["awaiting"]}
    assert awaiting[post.pk]["pending"] == [team.admin.email] and not awaiting[post.pk]["stuck"]
    assert team.admin in step.people.all()
