"""Changing how watchful the guard is (Perm.MANAGE_ORGANIZATION), audited."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import apply_changes, record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization
from tertulia.core.permissions import Perm, has_perm
from tertulia.guard.actions.common import GuardRefused, NotPermitted
from tertulia.guard.checks.domains import normalize_domain
from tertulia.guard.gate import settings_key
from tertulia.guard.models import GuardSettings, Sensitivity

FIELDS = (
    "enabled",
    "sensitivity",
    "check_device",
    "check_hour",
    "check_burst",
    "check_domains",
    "check_vocabulary",
    "trusted_domains",
)
MAX_TRUSTED = 200


def clean_trusted(text: str) -> str:
    """One domain per line, normalised ("https://www.Example.com/x" → "example.com"); refused if odd."""
    found: dict[str, None] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        host = line.split("://", 1)[-1].split("/", 1)[0]
        domain = normalize_domain(host)
        if not domain or "." not in domain or any(ch.isspace() for ch in domain):
            raise GuardRefused(_("“%(line)s” is not a domain.") % {"line": line[:80]})
        found.setdefault(domain, None)
    if len(found) > MAX_TRUSTED:
        raise GuardRefused(_("At most %(n)d trusted domains.") % {"n": MAX_TRUSTED})
    return "\n".join(found)


@transaction.atomic
def update_settings(actor: Actor, organization: Organization, **values: Any) -> GuardSettings:
    if actor.user is None or not has_perm(actor.user, organization, Perm.MANAGE_ORGANIZATION):
        raise NotPermitted(_("You may not change the hijack guard's settings."))
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise GuardRefused(_("Unknown setting: %(name)s.") % {"name": sorted(unknown)[0]})
    if "sensitivity" in values and values["sensitivity"] not in Sensitivity.values:
        raise GuardRefused(_("Choose low, normal or high sensitivity."))
    if "trusted_domains" in values:
        values["trusted_domains"] = clean_trusted(str(values["trusted_domains"]))
    config, _created = GuardSettings.objects.select_for_update().get_or_create(organization=organization)
    changes = apply_changes(config, values)
    if changes:
        config.updated_by = actor.user
        config.save()
        record(actor, organization, "guard.settings", config, changes)
        key = settings_key(organization.pk)
        cache.delete(key)
        transaction.on_commit(lambda: cache.delete(key))
    return config
