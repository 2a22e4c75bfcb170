"""Invitations end to end: the e-mail (through a real SMTP server), the link, accepting it with a new
or an existing account, and everything that must not work: reused, expired, revoked, forged links,
the wrong person, another organization, roles that may not invite."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, BrandAccess, ChannelOperator, Membership, Role, User
from tertulia.core.tests.factories import PASSWORD, make_brand, make_member, make_org, make_user
from tertulia.governance.actions import invitations
from tertulia.governance.actions.invitations import InvitationInvalid, InvitationRefused, digest_of
from tertulia.governance.models import Invitation, InvitationState
from tertulia.governance.tests.conftest import SmtpServer, StartSmtp, Team, free_port
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SITE = "http://testserver"
NEW_PASSWORD = "una clave bastante larga 42"
LINK = re.compile(r"http://testserver/invitation/([A-Za-z0-9_-]+)/")


def key_in(server: SmtpServer, index: int = -1) -> str:
    body = server.messages[index].message.get_content()
    found = LINK.search(body)
    assert found is not None, body
    return found.group(1)


def invite(team: Team, email: str = "nueva@example.com", role: str = Role.COMMUNITY_MANAGER, **extra: Any):
    return invitations.invite(
        Actor(user=team.admin, via="web"), team.org, email, role, site_url=SITE, **extra
    )


def accept_page(key: str) -> str:
    return reverse("web:invitation", args=[key])


# --- sending ---------------------------------------------------------------------------------------


def test_an_admin_invites_from_the_team_page_and_the_email_arrives(
    team: Team, smtp_server: StartSmtp
) -> None:
    server = smtp_server()
    channel = connect_channel(Actor.system(), team.brand, "sandbox", "@marca_cm", "Marca")
    response = signed_in(team.admin).post(
        reverse("web:team"),
        {
            "email": "Nueva@Example.com",
            "role": "community_manager",
            "brands": [team.brand.pk],
            "channels": [channel.pk],
        },
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.all_brands) == (
        "nueva@example.com",
        "community_manager",
        False,
    )
    assert list(invitation.brands.all()) == [team.brand]
    assert list(invitation.channels.all()) == [channel]
    assert invitation.sent_count == 1 and invitation.send_error == ""
    assert len(server.messages) == 1
    arrived = server.messages[0]
    assert arrived.rcpt_tos == ["nueva@example.com"]
    assert arrived.message["Subject"] == "Join Gobierno SA on Tertulia"
    body = arrived.message.get_content()
    assert "Admin invited you to work in Gobierno SA on Tertulia, as Community manager." in body
    key = key_in(server)
    # Only a digest of the secret is stored: the link exists in the e-mail alone.
    assert invitation.token_digest == digest_of(key) and key not in invitation.token_digest
    assert not AuditEntry.objects.filter(changes__icontains=key).exists()
    assert AuditEntry.objects.filter(action="invitation.create", organization=team.org).exists()
    page = signed_in(team.admin).get(reverse("web:team")).content.decode()
    assert f'id="invitation-{invitation.pk}"' in page and "Not sent" not in page


def test_the_email_is_in_the_inviters_language(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    team.admin.language = "es"
    team.admin.save()
    client = signed_in(team.admin)
    client.post(reverse("web:team"), {"email": "x@example.com", "role": "analyst", "all_brands": "on"})
    assert Invitation.objects.get().language == "es"
    assert "Analista" in server.messages[0].message.get_content()  # the role, as the Spanish catalog says it


def test_a_mail_server_that_is_down_keeps_the_invitation_to_resend(
    team: Team, smtp_server: StartSmtp, settings
) -> None:
    server = smtp_server()
    settings.EMAIL_PORT = free_port()  # nothing listens there
    delivery = invite(team)
    assert not delivery.sent and "connection" in delivery.error
    invitation = Invitation.objects.get()
    assert invitation.send_error and invitation.sent_count == 0
    page = signed_in(team.admin).get(reverse("web:team")).content.decode()
    assert "Not sent:" in page
    settings.EMAIL_PORT = server.port
    response = signed_in(team.admin).post(reverse("web:invitation-resend", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.send_error == "" and invitation.sent_count == 1
    assert len(server.messages) == 1


# --- accepting with a new account ----------------------------------------------------------------


def test_accepting_creates_the_account_with_its_grants_once(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    channel = connect_channel(Actor.system(), team.brand, "sandbox", "@marca_x", "Marca")
    invite(team, all_brands=False, brands=[team.brand], channels=[channel])
    key = key_in(server)
    person = Client()
    page = person.get(accept_page(key))
    assert page.status_code == 200
    assert 'id="invitation-form"' in page.content.decode()
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    # A weak password or two that differ: nothing is created.
    weak = person.post(accept_page(key), {"display_name": "Nueva", "password1": "123", "password2": "123"})
    assert weak.status_code == 400
    differ = person.post(accept_page(key), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert differ.status_code == 400
    assert not User.objects.filter(email="nueva@example.com").exists()

    done = person.post(
        accept_page(key),
        {"display_name": "Nueva Persona", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    user = User.objects.get(email="nueva@example.com")
    assert user.display_name == "Nueva Persona" and user.check_password(NEW_PASSWORD)
    member = Membership.objects.get(organization=team.org, user=user)
    assert (member.role, member.is_active, member.all_brands) == (Role.COMMUNITY_MANAGER, True, False)
    assert list(BrandAccess.objects.filter(membership=member).values_list("brand_id", flat=True)) == [
        team.brand.pk
    ]
    assert ChannelOperator.objects.filter(channel=channel, user=user).exists()
    # Signed in, in the organization they joined.
    assert person.get(reverse("web:team")).status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.state == InvitationState.ACCEPTED and invitation.accepted_by == user
    actions = set(AuditEntry.objects.filter(organization=team.org).values_list("action", flat=True))
    assert {
        "person.create",
        "member.add",
        "member.brands",
        "channel.operators",
        "invitation.accept",
    } <= actions
    assert AuditEntry.objects.get(action="invitation.accept").actor == user

    # The link works once.
    again = Client().get(accept_page(key))
    assert again.status_code == 410
    assert 'data-state="accepted"' in again.content.decode()
    reuse = Client().post(
        accept_page(key), {"password1": "otra clave muy larga 1", "password2": "otra clave muy larga 1"}
    )
    assert reuse.status_code == 410
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_hostile_names_are_kept_as_typed_and_shown_inert(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    invite(team)
    hostile = "<script>alert(1)</script> \u202eevil\u202c Zé\u200bro 🧀"
    response = Client().post(
        accept_page(key_in(server)),
        {"display_name": hostile, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.get(email="nueva@example.com").display_name == hostile
    page = signed_in(team.admin).get(reverse("web:team")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_hostile_organization_or_inviter_name_cannot_add_email_headers(
    team: Team, smtp_server: StartSmtp
) -> None:
    server = smtp_server()
    team.org.name = "Evil\r\nBcc: victim@example.com \u202e<b>"
    team.org.save()
    team.admin.display_name = "Mallory\nReply-To: thief@example.com"
    team.admin.save()
    invite(team)
    arrived = server.messages[0]
    assert arrived.rcpt_tos == ["nueva@example.com"]
    assert arrived.message["Bcc"] is None and arrived.message["Reply-To"] is None
    assert arrived.message["Subject"] == "Join Evil Bcc: victim@example.com <b> on Tertulia"
    assert "Mallory Reply-To: thief@example.com invited you" in arrived.message.get_content()


# --- links that must not work ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["nope", "A" * 43, "A" * 500, "%00", "..%2F..%2Fetc", "ñandú", "<script>", "0" * 101]
)
def test_a_forged_link_finds_nothing(team: Team, smtp_server: StartSmtp, key: str) -> None:
    smtp_server()
    invite(team)
    response = Client().get(f"/invitation/{key}/")
    assert response.status_code == 404
    assert "<script>" not in response.content.decode()
    with pytest.raises(InvitationInvalid):
        invitations.find(key)


def test_an_expired_link_creates_nothing(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    invite(team)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    key = key_in(server)
    assert Client().get(accept_page(key)).status_code == 410
    response = Client().post(accept_page(key), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert 'data-state="expired"' in response.content.decode()
    assert not User.objects.filter(email="nueva@example.com").exists()
    # An expired invitation is listed (to resend) and a new one for the same address replaces it.
    invite(team)
    assert [i.state for i in Invitation.objects.order_by("pk")] == [
        InvitationState.REVOKED,
        InvitationState.PENDING,
    ]


def test_a_revoked_link_stops_working(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    invitation = invite(team).invitation
    response = signed_in(team.admin).post(reverse("web:invitation-revoke", args=[invitation.pk]))
    assert response.status_code == 302
    assert Client().get(accept_page(key_in(server))).status_code == 410
    assert AuditEntry.objects.filter(action="invitation.revoke").count() == 1
    # Revoking again changes nothing; an accepted invitation cannot be revoked.
    invitations.revoke(Actor(user=team.admin, via="web"), invitation)
    assert AuditEntry.objects.filter(action="invitation.revoke").count() == 1


def test_resending_makes_a_new_link_and_the_old_one_dies(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    invitation = invite(team).invitation
    first = key_in(server)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
    signed_in(team.admin).post(reverse("web:invitation-resend", args=[invitation.pk]))
    second = key_in(server)
    assert first != second and len(server.messages) == 2
    assert Client().get(accept_page(first)).status_code == 404
    assert Client().get(accept_page(second)).status_code == 200
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING and invitation.sent_count == 2


def test_the_same_link_cannot_be_accepted_twice_even_in_a_race(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    invite(team)
    key = key_in(server)
    invitations.accept_new_account(Actor(user=None, via="web"), key, display_name="A", password=NEW_PASSWORD)
    with pytest.raises(InvitationInvalid) as caught:
        invitations.accept_new_account(
            Actor(user=None, via="web"), key, display_name="B", password=NEW_PASSWORD
        )
    assert caught.value.state == InvitationState.ACCEPTED
    assert User.objects.filter(email="nueva@example.com").count() == 1


# --- an existing account -----------------------------------------------------------------------------


def test_an_existing_account_signs_in_and_joins_but_the_link_cannot_change_its_password(
    team: Team, smtp_server: StartSmtp
) -> None:
    server = smtp_server()
    existing = make_user("nueva@example.com")
    other_org = make_org("Otra org")
    Membership.objects.create(organization=other_org, user=existing, role=Role.ANALYST)
    invite(team, role=Role.ANALYST)
    key = key_in(server)
    anonymous = Client().get(accept_page(key)).content.decode()
    assert 'id="invitation-sign-in"' in anonymous and 'id="invitation-form"' not in anonymous
    # Whoever has the link cannot set a password on someone's existing account.
    attempt = Client().post(accept_page(key), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert attempt.status_code in {200, 400}
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD) and not existing.check_password(NEW_PASSWORD)
    with pytest.raises(InvitationRefused):
        invitations.accept_new_account(
            Actor(user=None, via="web"), key, display_name="x", password=NEW_PASSWORD
        )

    # Signed in as someone else: told to sign out; nothing happens.
    stranger = signed_in(make_user("otra@example.com"))
    wrong = stranger.post(accept_page(key))
    assert 'id="invitation-wrong-account"' in wrong.content.decode()
    assert not Membership.objects.filter(organization=team.org, user__email="otra@example.com").exists()
    with pytest.raises(InvitationRefused):
        invitations.accept_as(Actor(user=None, via="web"), key, User.objects.get(email="otra@example.com"))

    # Signed in as the invited address: they join.
    client = signed_in(existing)
    assert 'id="invitation-join"' in client.get(accept_page(key)).content.decode()
    assert client.post(accept_page(key)).status_code == 302
    assert Membership.objects.get(organization=team.org, user=existing).role == Role.ANALYST
    assert Membership.objects.get(
        organization=other_org, user=existing
    ).is_active  # the other one is untouched


def test_someone_offboarded_before_can_be_invited_back(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    person = make_member(team.org, Role.ANALYST, email="vuelve@example.com")
    Membership.objects.filter(user=person).update(is_active=False)
    invite(team, email="vuelve@example.com", role=Role.COMMUNITY_MANAGER)
    invitations.accept_as(Actor(user=person, via="web"), key_in(server), person)
    member = Membership.objects.get(organization=team.org, user=person)
    assert (member.is_active, member.role) == (True, Role.COMMUNITY_MANAGER)


def test_single_sign_on_sends_new_people_to_the_identity_provider(
    team: Team, smtp_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server()
    monkeypatch.setattr(invitations, "sso_sign_in_url", lambda org, nxt: f"/sso/start/?next={nxt}")
    invite(team)
    key = key_in(server)
    page = Client().get(accept_page(key)).content.decode()
    assert 'id="invitation-sso"' in page and f"/sso/start/?next=/invitation/{key}/" in page
    assert 'id="invitation-form"' not in page
    with pytest.raises(InvitationRefused, match="identity provider"):
        invitations.accept_new_account(
            Actor(user=None, via="web"), key, display_name="x", password=NEW_PASSWORD
        )
    assert not User.objects.filter(email="nueva@example.com").exists()


# --- who may invite what ---------------------------------------------------------------------------


def test_only_member_managers_invite_and_only_owners_invite_owners(
    team: Team, smtp_server: StartSmtp
) -> None:
    smtp_server()
    manager = make_member(team.org, Role.BRAND_MANAGER)
    response = signed_in(manager).post(
        reverse("web:team"), {"email": "x@example.com", "role": "analyst", "all_brands": "on"}
    )
    assert response.status_code == 403
    with pytest.raises(InvitationRefused):
        invitations.invite(
            Actor(user=manager, via="web"), team.org, "x@example.com", Role.ANALYST, site_url=SITE
        )
    response = signed_in(team.admin).post(
        reverse("web:team"), {"email": "boss@example.com", "role": "owner", "all_brands": "on"}
    )
    assert response.status_code == 400 and "Only an owner" in response.content.decode()
    assert not Invitation.objects.exists()
    invitations.invite(
        Actor(user=team.owner, via="web"), team.org, "boss@example.com", Role.OWNER, site_url=SITE
    )
    assert Invitation.objects.get().role == Role.OWNER


def test_invitations_of_another_organization_are_out_of_reach(team: Team, smtp_server: StartSmtp) -> None:
    smtp_server()
    invitation = invite(team).invitation
    outsider_org = make_org("Ajena")
    outsider = make_member(outsider_org, Role.ADMIN)
    client = signed_in(outsider)
    assert client.post(reverse("web:invitation-resend", args=[invitation.pk])).status_code == 404
    assert client.post(reverse("web:invitation-revoke", args=[invitation.pk])).status_code == 404
    assert invitation.email not in client.get(reverse("web:team")).content.decode()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING
    # Brands and channels of another organization cannot be granted.
    foreign = make_brand(outsider_org, "Ajena")
    with pytest.raises(InvitationRefused):
        invite(team, email="y@example.com", all_brands=False, brands=[foreign])
    foreign_channel = connect_channel(Actor.system(), foreign, "sandbox", "@ajena", "Ajena")
    connect_channel(Actor.system(), team.brand, "sandbox", "@propio", "Propio")  # so the form lists channels
    response = signed_in(team.admin).post(
        reverse("web:team"),
        {
            "email": "z@example.com",
            "role": "community_manager",
            "all_brands": "on",
            "channels": [foreign_channel.pk],
        },
    )
    assert response.status_code == 400
    assert not Invitation.objects.filter(email__in=["y@example.com", "z@example.com"]).exists()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"role": Role.ANALYST, "channels": "mine"}, "does not operate channels"),
        ({"all_brands": False}, "at least one brand"),
        ({"all_brands": False, "brands": "other", "channels": "mine"}, "brand they would not work in"),
        ({"role": "emperor"}, "role"),
        ({"email": "not an address"}, "valid e-mail"),
        ({"email": "a@" + "x" * 260 + ".com"}, "valid e-mail"),
        ({"email": "an\u200ba@example.com"}, "valid e-mail"),  # zero-width, would look like ana@
        ({"email": "\u202emoc.elpmaxe@ana"}, "valid e-mail"),  # right-to-left override
        ({"email": "<script>@example.com"}, "valid e-mail"),
    ],
)
def test_invitations_that_make_no_sense_are_refused(
    team: Team, smtp_server: StartSmtp, extra: dict, says: str
) -> None:
    smtp_server()
    channel = connect_channel(Actor.system(), team.brand, "sandbox", "@marca_y", "Marca")
    values: dict[str, object] = {"email": "n@example.com", "role": Role.COMMUNITY_MANAGER, **extra}
    if values.get("channels") == "mine":
        values["channels"] = [channel]
    if values.get("brands") == "other":
        values["brands"] = [team.other_brand]
    email, role = values.pop("email"), values.pop("role")
    with pytest.raises(InvitationRefused, match=says):
        invitations.invite(Actor(user=team.admin, via="web"), team.org, email, role, site_url=SITE, **values)  # type: ignore[arg-type]  # a test passes a deliberately loose value
    assert not Invitation.objects.exists()


def test_a_member_or_an_address_already_invited_is_refused(team: Team, smtp_server: StartSmtp) -> None:
    smtp_server()
    with pytest.raises(InvitationRefused, match="already a member"):
        invite(team, email="ADMIN@example.com")
    invite(team)
    with pytest.raises(InvitationRefused, match="already has a pending invitation"):
        invite(team, email="Nueva@example.com")
    assert Invitation.objects.count() == 1
