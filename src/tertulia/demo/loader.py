from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tertulia.core.actions import brands as brand_actions
from tertulia.core.actions import channels as channel_actions
from tertulia.core.actions import contacts as contact_actions
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member, create_organization
from tertulia.core.models import Brand, Channel, Organization, User
from tertulia.demo import content
from tertulia.demo.crisis import load_crisis
from tertulia.demo.listening import load_listening
from tertulia.demo.publishing import load_publishing
from tertulia.inbox.actions import settings as inbox_settings
from tertulia.inbox.models import SavedReply, SlaPolicy
from tertulia.moderation.actions.rules import create_rule
from tertulia.moderation.models import ModerationRule

PASSWORD_FILE = "demo_password"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def _password_path() -> Path:
    return Path(settings.CONFIG.data_dir) / PASSWORD_FILE


def _demo_password(user: User) -> str:
    """The demo password: random per data directory, kept there (owner-only) so it survives restarts."""
    path = _password_path()
    if path.exists() and user.pk and user.check_password(path.read_text().strip()):
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    user.set_password(password)
    user.save()
    record(Actor.system("demo loader"), None, "person.password", user, {"password": ["…", "…"]})
    return password


def _person(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, display_name=name)
        user.set_unusable_password()  # team members are illustrative; only the owner signs in
        user.save()
    return user


@transaction.atomic
def _build_organization(actor: Actor, progress: Callable[[str], None]) -> Organization:
    owner = User.objects.filter(email=content.OWNER_EMAIL).first()
    if owner is None:
        owner = User.objects.create_user(
            email=content.OWNER_EMAIL, password=None, display_name=content.OWNER_NAME
        )
    organization = create_organization(actor, content.ORGANIZATION, owner=owner)
    progress(f"organization {organization.name}")
    people = {owner.email: owner}
    for email, name, role in content.TEAM:
        people[email] = _person(email, name)
        add_member(actor, organization, people[email], role)
    brands = {
        "main": brand_actions.create_brand(actor, organization, **content.MAIN_BRAND),
        "second": brand_actions.create_brand(actor, organization, **content.SECOND_BRAND),
    }
    progress(f"brands {', '.join(b.name for b in brands.values())}")
    for competitor in content.COMPETITORS:
        brand_actions.add_competitor(actor, brands["main"], **competitor)
    for objective in content.objectives(timezone.localdate()):
        brand_actions.add_objective(actor, brands["main"], **objective)
    for brand_key, handle, display_name, operators in content.CHANNELS:
        channel = channel_actions.connect_channel(actor, brands[brand_key], "sandbox", handle, display_name)
        channel_actions.set_channel_operators(actor, channel, [people[e] for e in operators])
    progress(f"{len(content.CHANNELS)} sandbox channels")
    for name, customer, notes, handles in content.CONTACTS:
        contact = contact_actions.create_contact(
            actor, organization, display_name=name, is_customer=customer, notes=notes
        )
        for network, handle, followers in handles:
            contact_actions.add_handle(actor, contact, network, handle, followers_count=followers)
    return organization


def _moderation_policy(actor: Actor, organization: Organization) -> None:
    """The main brand's moderation rules, once (also for a demo loaded before moderation existed)."""
    brand = Brand.objects.filter(organization=organization, name=content.MAIN_BRAND["name"]).first()
    if brand is None or ModerationRule.objects.filter(brand=brand).exists():
        return
    for name, enabled, stop, conditions, actions in content.MODERATION_RULES:
        create_rule(
            actor,
            brand,
            name=name,
            conditions=conditions,
            actions=actions,
            enabled=enabled,
            stop_processing=stop,
        )


def _inbox_setup(actor: Actor, organization: Organization) -> None:
    """The main brand's SLA policy and saved replies, once (also for a demo loaded before they existed)."""
    brand = Brand.objects.filter(organization=organization, name=content.MAIN_BRAND["name"]).first()
    if brand is None:
        return
    if not SlaPolicy.objects.filter(brand=brand).exists():
        inbox_settings.update_sla_policy(actor, brand, **content.SLA_POLICY)
    existing = set(SavedReply.objects.filter(brand=brand).values_list("shortcut", "language"))
    for shortcut, language, title, body in content.SAVED_REPLIES:
        if (shortcut, language) not in existing:
            inbox_settings.save_saved_reply(
                actor, brand, shortcut=shortcut, language=language, title=title, body=body
            )


def _start_traffic(organization: Organization, rate_per_minute: int, seed: int) -> None:
    from tertulia.connectors.sandbox.simulator import control

    for brand in Brand.objects.filter(organization=organization):
        handles = list(
            Channel.objects.filter(brand=brand, network="sandbox").values_list("handle", flat=True)
        )
        if not handles:
            continue
        # The second brand is quieter, as a smaller client of the same team would be.
        rate = rate_per_minute if brand.name == content.MAIN_BRAND["name"] else max(rate_per_minute // 4, 0)
        if rate:
            control.ensure_simulation(handles, seed=seed + brand.pk, rate_per_minute=rate)
        else:
            control.stop_simulation(handles)


def load_demo(
    rate_per_minute: int = 12, seed: int = 2026, progress: Callable[[str], None] = lambda _m: None
) -> DemoLogin:
    """Create the demo organization once; on later runs only refresh the traffic settings."""
    actor = Actor.system("demo loader")
    organization = Organization.objects.filter(name=content.ORGANIZATION).first()
    if organization is None:
        organization = _build_organization(actor, progress)
    else:
        progress(f"organization {organization.name} (already loaded)")
    _moderation_policy(actor, organization)
    _inbox_setup(actor, organization)
    from tertulia.demo.teamops import seed_teamops  # on-call rotation (docs/team-operations.md)

    seed_teamops(organization)
    main = Brand.objects.filter(organization=organization, name=content.MAIN_BRAND["name"]).first()
    if main is not None:
        load_publishing(main)
        load_listening(main, User.objects.get(email=content.OWNER_EMAIL))
        progress(load_crisis(main, User.objects.get(email=content.OWNER_EMAIL), rate_per_minute))
        from tertulia.demo.portal import seed_portal  # the contributor portal (docs/contributor-portal.md)

        progress(seed_portal(main, User.objects.get(email=content.OWNER_EMAIL)))
        from tertulia.demo.analytics import roll_up_history  # the dashboards' history (docs/analytics.md)

        progress(roll_up_history(main))
    _start_traffic(organization, rate_per_minute, seed)
    progress(
        f"simulated traffic: {rate_per_minute} messages per minute"
        if rate_per_minute
        else "no simulated traffic"
    )
    owner = User.objects.get(email=content.OWNER_EMAIL)
    return DemoLogin(email=owner.email, password=_demo_password(owner))
