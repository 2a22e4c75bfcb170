"""Fixtures for the playbook and report tests (test_playbooks_*.py, test_report_*.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tertulia.api.actions import create_token
from tertulia.api.scopes import allowed_scopes
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member
from tertulia.core.models import Brand, BrandAccess, Membership, Organization, Role, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.crisis import playbooks as actions

HOSTILE = '<script>alert("x")</script>\u200b\u202e🔥 <img src=x onerror=alert(1)> **bold** [l](javascript:x)'


@dataclass
class Team:
    org: Organization
    brand: Brand
    other_brand: Brand
    owner: User
    manager: User  # brand manager: edits playbooks
    approver: User  # approves posts (and holding statements)
    cm: User  # community manager: reads only
    limited: User  # brand manager limited to the other brand
    contributor: User
    rival: User  # owner of another organization
    rival_org: Organization


def member(org: Organization, role: str, email: str) -> User:
    user = User.objects.create_user(email=email, display_name=email.split("@")[0].title())
    add_member(Actor.system("test"), org, user, role)
    return user


@pytest.fixture
def team(db: None) -> Team:
    owner = User.objects.create_user(email="duena@pb.example", display_name="Dueña")
    org = make_org("Plan SA", owner=owner)
    brand = make_brand(org, "Marca")
    other = make_brand(org, "Otra")
    manager = member(org, Role.BRAND_MANAGER, "gestora@pb.example")
    approver = member(org, Role.APPROVER, "aprueba@pb.example")
    cm = member(org, Role.COMMUNITY_MANAGER, "cm@pb.example")
    limited = member(org, Role.BRAND_MANAGER, "limitada@pb.example")
    limited_membership = Membership.objects.get(organization=org, user=limited)
    limited_membership.all_brands = False
    limited_membership.save(update_fields=["all_brands"])
    BrandAccess.objects.create(membership=limited_membership, brand=other)
    contributor = member(org, Role.CONTRIBUTOR, "aporta@pb.example")
    rival = User.objects.create_user(email="rival@pb.example")
    rival_org = make_org("Rival SA", owner=rival)
    return Team(org, brand, other, owner, manager, approver, cm, limited, contributor, rival, rival_org)


def web(user: User | None) -> Actor:
    return Actor(user=user, via="web", ip_address="203.0.113.10", user_agent="Firefox/133.0")


def token(user: User, org: Organization, scopes: list[str] | None = None) -> str:
    if scopes is None:
        scopes = allowed_scopes(permissions_of(membership(user, org)))
    return create_token(Actor.system("tests"), user, org, "t", scopes)[1]


def sample(name: str = "Caída del servicio", **extra: object) -> actions.PlaybookIn:
    data = actions.PlaybookIn(
        name=name,
        description="Cuando el servicio no funciona",
        steps=[
            actions.StepIn("Reúne al equipo", "Llama a la gestora", "lead"),
            actions.StepIn("Publica el mensaje de espera", "", "spokesperson"),
        ],
        contacts=[actions.ContactIn("Legal", "Abogada", "+34 600 000 000", "legal@pb.example")],
        rules=[
            actions.RuleIn("No borres comentarios negativos", "dont"),
            actions.RuleIn("Responde una vez en público", "do"),
        ],
        statements=[
            actions.StatementIn("espera", "es", "Espera", "Lo estamos revisando."),
            actions.StatementIn("espera", "en", "Holding", "We are looking into it."),
        ],
    )
    for key, value in extra.items():
        setattr(data, key, value)
    return data
