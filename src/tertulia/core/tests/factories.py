"""Small builders for tests, going through the actions layer like real code does."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from tertulia.core.actions import brands as brand_actions
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member, create_organization
from tertulia.core.models import Brand, Organization, Role, User

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_user(email: str | None = None, password: str = PASSWORD, **extra: Any) -> User:
    email = email or f"person{next(_counter)}@example.com"
    return User.objects.create_user(email=email, password=password, **extra)


def make_org(name: str | None = None, owner: User | None = None) -> Organization:
    owner = owner or make_user()
    return create_organization(Actor.system("test"), name or f"Org {next(_counter)}", owner=owner)


def make_member(organization: Organization, role: str = Role.COMMUNITY_MANAGER, **extra: Any) -> User:
    user = make_user(**extra)
    add_member(Actor.system("test"), organization, user, role)
    return user


def make_brand(organization: Organization, name: str | None = None) -> Brand:
    return brand_actions.create_brand(
        Actor.system("test"), organization, name=name or f"Brand {next(_counter)}"
    )


def objective_values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "title": "Answer on time",
        "kpi": "sla_met",
        "direction": "at_least",
        "target": Decimal("95"),
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 12, 31),
    }
    values.update(overrides)
    return values
