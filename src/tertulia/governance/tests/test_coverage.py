"""Backup coverage: every kind of gap, who counts as an operator, the page, its badge, the waiver and
the reconnect button, and that nothing crosses organizations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tertulia.connectors.registry import connector_class, networks
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import (
    AuditEntry,
    BrandAccess,
    Channel,
    ChannelOperator,
    ChannelStatus,
    Membership,
    Role,
)
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.governance.coverage import GapKind, channels_with_gaps, gaps, personal_networks
from tertulia.governance.models import CoverageWaiver
from tertulia.governance.tests.conftest import Team
from tertulia.web.tenant import SESSION_BRAND
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def kinds(team: Team) -> dict[str, set[GapKind]]:
    found: dict[str, set[GapKind]] = {}
    for gap in gaps(team.org):
        found.setdefault(gap.channel.handle, set()).add(gap.kind)
    return found


def sandbox(team: Team, handle: str, brand=None) -> Channel:
    return connect_channel(SYSTEM, brand or team.brand, "sandbox", handle, handle)


def test_which_networks_depend_on_a_persons_own_login() -> None:
    assert personal_networks() == {"facebook", "instagram", "linkedin"}
    for name in networks():
        assert isinstance(connector_class(name).credentials_belong_to_person, bool)


def test_every_kind_of_gap(team: Team) -> None:
    cm1 = make_member(team.org, Role.COMMUNITY_MANAGER)
    cm2 = make_member(team.org, Role.COMMUNITY_MANAGER)
    analyst = make_member(team.org, Role.ANALYST)
    gone = make_member(team.org, Role.COMMUNITY_MANAGER)
    limited = make_member(team.org, Role.COMMUNITY_MANAGER)
    Membership.objects.filter(user=limited).update(all_brands=False)
    BrandAccess.objects.create(membership=Membership.objects.get(user=limited), brand=team.other_brand)

    sandbox(team, "nadie")
    one = sandbox(team, "uno")
    two = sandbox(team, "dos")
    left = sandbox(team, "inactivos")
    analyst_too = sandbox(team, "analista")
    outside_brand = sandbox(team, "fuera_de_marca")
    admin_granted = sandbox(team, "con_admin")
    set_channel_operators(SYSTEM, one, [cm1])
    set_channel_operators(SYSTEM, two, [cm1, cm2])
    set_channel_operators(SYSTEM, left, [gone])
    set_channel_operators(SYSTEM, analyst_too, [cm1, analyst])  # an analyst does not operate channels
    set_channel_operators(SYSTEM, outside_brand, [cm1, limited])  # limited works in the other brand only
    set_channel_operators(SYSTEM, admin_granted, [cm1, team.admin])  # an admin with a grant counts
    Membership.objects.filter(user=gone).update(is_active=False)
    # Not looked at: disconnected channels, channels of archived brands.
    off = sandbox(team, "desconectado")
    Channel.objects.filter(pk=off.pk).update(status=ChannelStatus.DISCONNECTED)
    archived = make_brand(team.org, "Archivada")
    sandbox(team, "archivado", archived)
    type(archived).objects.filter(pk=archived.pk).update(is_archived=True)

    found = kinds(team)
    assert found == {
        "nadie": {GapKind.NO_OPERATOR},
        "uno": {GapKind.ONE_OPERATOR},
        "inactivos": {GapKind.OPERATORS_INACTIVE},
        "analista": {GapKind.ONE_OPERATOR},
        "fuera_de_marca": {GapKind.ONE_OPERATOR},
        # "dos" and "con_admin" have two operators each
    }
    ordered = [gap.kind for gap in gaps(team.org)]
    assert ordered == sorted(ordered, key=list(GapKind).index)  # most urgent first
    inactive_gap = next(g for g in gaps(team.org) if g.kind == GapKind.OPERATORS_INACTIVE)
    assert inactive_gap.people == (gone,)
    assert channels_with_gaps(team.org) == 5


def test_personal_logins_and_people_who_left(team: Team) -> None:
    cm1, cm2 = make_member(team.org, Role.COMMUNITY_MANAGER), make_member(team.org, Role.COMMUNITY_MANAGER)
    page = Channel.objects.create(
        organization=team.org, brand=team.brand, network="facebook", handle="pagina", connected_by=team.admin
    )
    departed = make_member(team.org, Role.ADMIN)
    rotated = Channel.objects.create(
        organization=team.org,
        brand=team.brand,
        network="mastodon",
        handle="@m@example.social",
        connected_by=departed,
    )
    unknown = Channel.objects.create(
        organization=team.org, brand=team.brand, network="linkedin", handle="empresa"
    )
    for channel in (page, rotated, unknown):
        set_channel_operators(SYSTEM, channel, [cm1, cm2])
    Membership.objects.filter(user=departed).update(is_active=False)
    found = kinds(team)
    assert found == {
        "pagina": {GapKind.PERSONAL_ACCOUNT},
        "@m@example.social": {GapKind.CONNECTED_BY_DEPARTED},
        "empresa": {GapKind.PERSONAL_ACCOUNT},  # nobody knows whose login it is
    }
    # Someone records how the page is covered: the gap goes while the same person stays connected.
    response = signed_in(team.admin).post(
        reverse("web:coverage-waiver", args=[page.pk]), {"note": "<b>Ana</b> también administra la página"}
    )
    assert response.status_code == 302
    assert "pagina" not in kinds(team)
    assert AuditEntry.objects.filter(action="channel.coverage_waiver", object_id=str(page.pk)).exists()
    coverage_page = signed_in(team.admin).get(reverse("web:coverage")).content.decode()
    assert "&lt;b&gt;Ana&lt;/b&gt; también" in coverage_page and "<b>Ana</b>" not in coverage_page
    # Reconnected by someone else: the note no longer applies.
    Channel.objects.filter(pk=page.pk).update(connected_by=cm1)
    assert kinds(team)["pagina"] == {GapKind.PERSONAL_ACCOUNT}
    Channel.objects.filter(pk=page.pk).update(connected_by=team.admin)
    assert "pagina" not in kinds(team)
    # That person leaves: the page depends on a departed person's login.
    Membership.objects.filter(user=team.admin).update(is_active=False)
    assert kinds(team)["pagina"] == {GapKind.PERSONAL_ACCOUNT, GapKind.CONNECTED_BY_DEPARTED}


def test_waivers_need_a_note_a_personal_channel_and_a_manager(team: Team) -> None:
    cm = make_member(team.org, Role.COMMUNITY_MANAGER)
    page = Channel.objects.create(
        organization=team.org, brand=team.brand, network="instagram", handle="insta", connected_by=cm
    )
    plain = sandbox(team, "plano")
    client = signed_in(team.admin)
    client.post(reverse("web:coverage-waiver", args=[page.pk]), {"note": "   "})
    client.post(reverse("web:coverage-waiver", args=[plain.pk]), {"note": "no aplica"})
    assert not CoverageWaiver.objects.exists()
    assert (
        signed_in(cm).post(reverse("web:coverage-waiver", args=[page.pk]), {"note": "yo"}).status_code == 403
    )
    client.post(reverse("web:coverage-waiver", args=[page.pk]), {"note": "x" * 600})
    assert not CoverageWaiver.objects.exists()
    client.post(reverse("web:coverage-waiver", args=[page.pk]), {"note": "Luis también"})
    assert CoverageWaiver.objects.get().note == "Luis también"
    client.post(reverse("web:coverage-waiver", args=[page.pk]), {"remove": "1"})
    assert not CoverageWaiver.objects.exists()


def test_the_page_its_badge_and_who_sees_them(team: Team) -> None:
    sandbox(team, "sin_nadie")
    admin_page = signed_in(team.admin).get(reverse("web:coverage"))
    assert admin_page.status_code == 200
    text = admin_page.content.decode()
    assert "sin_nadie" in text and 'id="coverage-gap-count"' in text
    team_page = signed_in(team.admin).get(reverse("web:team")).content.decode()
    assert 'id="coverage-summary"' in team_page and "sin_nadie" in team_page
    manager = make_member(team.org, Role.BRAND_MANAGER)
    assert signed_in(manager).get(reverse("web:coverage")).status_code == 200
    for role in (Role.COMMUNITY_MANAGER, Role.ANALYST, Role.APPROVER, Role.CONTRIBUTOR):
        client = signed_in(make_member(team.org, role))
        assert client.get(reverse("web:coverage")).status_code == 403
        assert 'id="coverage-gap-count"' not in client.get(reverse("web:team")).content.decode()
    limited = make_member(team.org, Role.BRAND_MANAGER)
    Membership.objects.filter(user=limited).update(all_brands=False)
    BrandAccess.objects.create(membership=Membership.objects.get(user=limited), brand=team.brand)
    assert signed_in(limited).get(reverse("web:coverage")).status_code == 403


def test_nothing_crosses_organizations(team: Team) -> None:
    sandbox(team, "de_a")
    other = make_org("B")
    other_admin = make_member(other, Role.ADMIN)
    theirs = connect_channel(SYSTEM, make_brand(other, "MB"), "sandbox", "de_b", "B")
    assert {g.channel.handle for g in gaps(team.org)} == {"de_a"}
    page = signed_in(other_admin).get(reverse("web:coverage")).content.decode()
    assert "de_a" not in page and "de_b" in page
    mine = Channel.objects.get(handle="de_a")
    client = signed_in(other_admin)
    assert client.post(reverse("web:channel-reconnect", args=[mine.pk])).status_code == 404
    assert client.post(reverse("web:coverage-waiver", args=[mine.pk]), {"note": "x"}).status_code == 404
    assert Channel.objects.get(pk=mine.pk).status == ChannelStatus.ACTIVE
    assert theirs.status == ChannelStatus.ACTIVE


def test_reconnect_marks_the_channel_and_opens_its_brands_channels_page(team: Team) -> None:
    page = Channel.objects.create(
        organization=team.org,
        brand=team.other_brand,
        network="facebook",
        handle="pag",
        connected_by=team.admin,
    )
    client = signed_in(team.owner)
    response = client.post(reverse("web:channel-reconnect", args=[page.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:channels") + "#connect-facebook"
    assert client.session[SESSION_BRAND] == team.other_brand.pk
    page.refresh_from_db()
    assert page.status == ChannelStatus.NEEDS_RECONNECT
    assert AuditEntry.objects.filter(action="channel.status", object_id=str(page.pk)).exists()
    assert client.get(reverse("web:channel-reconnect", args=[page.pk])).status_code == 405
    # A member who does not manage channels, or not in that brand, cannot.
    cm = make_member(team.org, Role.COMMUNITY_MANAGER)
    assert signed_in(cm).post(reverse("web:channel-reconnect", args=[page.pk])).status_code == 403
    limited = make_member(team.org, Role.BRAND_MANAGER)
    Membership.objects.filter(user=limited).update(all_brands=False)
    BrandAccess.objects.create(membership=Membership.objects.get(user=limited), brand=team.brand)
    assert signed_in(limited).post(reverse("web:channel-reconnect", args=[page.pk])).status_code == 404


def test_an_owner_alone_sees_gaps_everywhere_until_grants_exist(db: None) -> None:
    owner = make_user()
    org = make_org(owner=owner)
    channel = connect_channel(SYSTEM, make_brand(org), "sandbox", "solo", "Solo")
    assert [g.kind for g in gaps(org)] == [GapKind.NO_OPERATOR]
    set_channel_operators(SYSTEM, channel, [owner])
    assert [g.kind for g in gaps(org)] == [GapKind.ONE_OPERATOR]
    assert ChannelOperator.objects.count() == 1
