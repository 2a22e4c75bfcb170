"""Brands per member and operators per channel on the Team page; the brand switcher of a limited member."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import AuditEntry, BrandAccess, ChannelOperator, Membership, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.web.tenant import SESSION_BRAND
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def org() -> dict[str, object]:
    org = make_org("Agencia")
    north, south = make_brand(org, "Norte Marca"), make_brand(org, "Sur Marca")
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    cm = make_member(org, Role.COMMUNITY_MANAGER, display_name="Carla")
    return {
        "org": org,
        "north": north,
        "south": south,
        "owner": owner,
        "cm": cm,
        "member": Membership.objects.get(user=cm, organization=org),
        "north_channel": connect_channel(SYSTEM, north, "sandbox", "norte_tienda"),
        "south_channel": connect_channel(SYSTEM, south, "sandbox", "sur_tienda"),
    }


def test_an_owner_limits_a_member_to_some_brands(org: dict) -> None:
    member, south = org["member"], org["south"]
    set_channel_operators(SYSTEM, org["north_channel"], [org["cm"]])
    client = signed_in(org["owner"])
    page = client.get(reverse("web:team")).content.decode()
    assert f'id="brand-access-{member.pk}"' in page and 'id="channel-operators-' in page
    prefix = f"member-{member.pk}"
    response = client.post(reverse("web:member-brands", args=[member.pk]), {f"{prefix}-brands": [south.pk]})
    assert response.status_code == 302 and response["Location"].endswith("#brand-access")
    assert list(BrandAccess.objects.filter(membership=member).values_list("brand", flat=True)) == [south.pk]
    assert not Membership.objects.get(pk=member.pk).all_brands
    entry = AuditEntry.objects.get(action="member.brands")
    assert entry.changes["brands"] == ["*", ["Sur Marca"]]
    assert entry.actor == org["owner"] and entry.via == "web"
    # Their grant on the other brand's channel went with it.
    assert not ChannelOperator.objects.filter(user=org["cm"]).exists()
    # Back to every brand.
    client.post(reverse("web:member-brands", args=[member.pk]), {f"{prefix}-all_brands": "on"})
    assert Membership.objects.get(pk=member.pk).all_brands
    assert not BrandAccess.objects.filter(membership=member).exists()


def test_refusals_are_explained_and_change_nothing(org: dict) -> None:
    member = org["member"]
    client = signed_in(org["owner"])
    response = client.post(reverse("web:member-brands", args=[member.pk]), {}, follow=True)
    assert "Choose at least one brand, or every brand." in response.content.decode()
    admin = Membership.objects.get(user=make_member(org["org"], Role.ADMIN))
    response = client.post(
        reverse("web:member-brands", args=[admin.pk]),
        {f"member-{admin.pk}-brands": [org["north"].pk]},
        follow=True,
    )
    assert "Owners and administrators always work in every brand." in response.content.decode()
    foreign = make_brand(make_org("Otra"), "Ajena")
    client.post(reverse("web:member-brands", args=[member.pk]), {f"member-{member.pk}-brands": [foreign.pk]})
    assert Membership.objects.get(pk=member.pk).all_brands
    assert not AuditEntry.objects.filter(action="member.brands").exists()


def test_only_member_managers_change_brands(org: dict) -> None:
    manager = make_member(org["org"], Role.BRAND_MANAGER)
    member = org["member"]
    client = signed_in(manager)
    page = client.get(reverse("web:team")).content.decode()
    assert "brand-access-form" not in page
    response = client.post(
        reverse("web:member-brands", args=[member.pk]), {f"member-{member.pk}-brands": [org["south"].pk]}
    )
    assert response.status_code == 403
    assert Membership.objects.get(pk=member.pk).all_brands
    # Another organization's member is not found.
    stranger = Membership.objects.get(user=make_member(make_org("Otra"), Role.ANALYST))
    assert (
        signed_in(org["owner"]).post(reverse("web:member-brands", args=[stranger.pk]), {}).status_code == 404
    )


def test_channel_operators_are_chosen_among_people_of_its_brand(org: dict) -> None:
    cm, channel = org["cm"], org["south_channel"]
    outsider = make_member(org["org"], Role.COMMUNITY_MANAGER, display_name="Nora")
    set_brand_access(SYSTEM, Membership.objects.get(user=outsider), all_brands=False, brands=[org["north"]])
    client = signed_in(org["owner"])
    field = f"channel-{channel.pk}-people"
    page = client.get(reverse("web:team")).content.decode()
    assert f'action="{reverse("web:channel-operators", args=[channel.pk])}"' in page
    response = client.post(reverse("web:channel-operators", args=[channel.pk]), {field: [cm.pk]})
    assert response.status_code == 302 and response["Location"].endswith("#operators")
    assert list(ChannelOperator.objects.filter(channel=channel).values_list("user", flat=True)) == [cm.pk]
    assert AuditEntry.objects.filter(action="channel.operators", object_id=str(channel.pk)).exists()
    # Someone who does not work in the channel's brand is not a choice.
    response = client.post(reverse("web:channel-operators", args=[channel.pk]), {field: [cm.pk, outsider.pk]})
    assert list(ChannelOperator.objects.filter(channel=channel).values_list("user", flat=True)) == [cm.pk]
    # Nobody: the grants go.
    client.post(reverse("web:channel-operators", args=[channel.pk]), {})
    assert not ChannelOperator.objects.filter(channel=channel).exists()


def test_a_brand_manager_edits_operators_only_of_their_brands(org: dict) -> None:
    manager = make_member(org["org"], Role.BRAND_MANAGER)
    set_brand_access(SYSTEM, Membership.objects.get(user=manager), all_brands=False, brands=[org["south"]])
    client = signed_in(manager)
    page = client.get(reverse("web:team")).content.decode()
    assert "@sur_tienda" in page and "@norte_tienda" not in page and "Norte Marca" not in page
    north = org["north_channel"]
    response = client.post(
        reverse("web:channel-operators", args=[north.pk]), {f"channel-{north.pk}-people": []}
    )
    assert response.status_code == 404
    # Contributors may not change operators at all.
    contributor = make_member(org["org"], Role.CONTRIBUTOR)
    south = org["south_channel"]
    assert (
        signed_in(contributor).post(reverse("web:channel-operators", args=[south.pk]), {}).status_code == 403
    )


def test_a_limited_member_switches_only_among_their_brands(org: dict) -> None:
    member, north, south = org["member"], org["north"], org["south"]
    set_brand_access(SYSTEM, member, all_brands=False, brands=[south])
    client = signed_in(org["cm"])
    page = client.get(reverse("web:inbox")).content.decode()
    assert "Sur Marca" in page and "Norte Marca" not in page
    assert client.post(reverse("web:switch-brand"), {"brand": north.pk}).status_code == 400
    assert client.session.get(SESSION_BRAND) is None
    assert client.post(reverse("web:switch-brand"), {"brand": south.pk}).status_code == 302
    # A brand chosen before the limit is not used after it.
    set_brand_access(SYSTEM, member, all_brands=True)
    client.post(reverse("web:switch-brand"), {"brand": north.pk})
    set_brand_access(SYSTEM, member, all_brands=False, brands=[south])
    page = client.get(reverse("web:settings")).content.decode()
    assert "Norte Marca" not in page


def test_the_team_page_speaks_spanish(org: dict) -> None:
    member = org["member"]
    set_brand_access(SYSTEM, member, all_brands=False, brands=[org["south"]])
    owner = org["owner"]
    owner.language = "es"
    owner.save()
    page = signed_in(owner).get(reverse("web:team"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    translation.activate("en")
    assert "Operadores de canales" in page and "Todas las marcas" in page
