"""Audit actions grouped by area, for the audit page's filter and the API's `area=`.

An area is a list of patterns: an action name, or a prefix ending in "*". An action belongs to the
first area that matches it (sign-in comes before people and permissions, so "person.password" is a
sign-in matter), and to "other" when none does. The catalogue of recorded actions is in docs/audit.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Area:
    key: str
    label: str | Promise
    patterns: tuple[str, ...]

    def matches(self, action: str) -> bool:
        return any(_matches(pattern, action) for pattern in self.patterns)

    def q(self) -> Q:
        query = Q(pk__in=[])
        for pattern in self.patterns:
            query |= Q(action__startswith=pattern[:-1]) if pattern.endswith("*") else Q(action=pattern)
        return query


def _matches(pattern: str, action: str) -> bool:
    return action.startswith(pattern[:-1]) if pattern.endswith("*") else action == pattern


AREAS: tuple[Area, ...] = (
    Area(
        "signin",
        _("Sign-in and security"),
        (
            "signin*",
            "signout*",
            "session*",
            "sso*",
            "mfa*",
            "person.password*",
            "person.second_factor*",
            "person.recovery_code*",
            "person.session*",
            "person.signin*",
            "person.mfa*",
            "person.sso*",
            "security.*",
        ),
    ),
    Area(
        "permissions",
        _("People and permissions"),
        (
            "member.*",
            "person.*",
            "organization.*",
            "brand_access*",
            "channel.operators*",
            "channel.grant*",
            "channel_grant*",
            "api_token.*",
            "invitation.*",
            "offboarding.*",
            "governance.*",
            "channel.coverage*",
        ),
    ),
    Area(
        "credentials",
        _("Credentials"),
        ("credential.*", "network_app.*", "channel.connect*", "channel.reconnect*", "vault.*", "webhook.*"),
    ),
    Area(
        "publishing",
        _("Publishing"),
        ("post.*", "media.*", "queue_slots.*", "approval_workflow.*", "delivery.*"),
    ),
    Area("moderation", _("Moderation"), ("moderation.*",)),
    Area(
        "crisis",
        _("Crisis and pauses"),
        (
            "publishing.*",
            "rehearsal.*",
            "guard.*",
            "incident.*",
            "channel.compromised*",
            "compromised*",
            "playbook.*",
            "crisis.watch.*",
            "crisis.alert.*",
            "crisis.escalation.*",
            "crisis.started",
            "crisis.ended",
            "crisis.role_*",
            "crisis.step_*",
            "crisis.note",
            "crisis.report_*",
        ),
    ),
    Area(
        "audit",
        _("The audit trail itself"),
        ("audit.*",),
    ),
    Area("listening", _("Listening"), ("listening.*",)),
    Area("inbox", _("Inbox and contacts"), ("conversation.*", "inbox.*", "contact.*")),
    Area(
        "brands",
        _("Brands and channels"),
        ("brand.*", "competitor.*", "objective.*", "channel.*", "report.*"),
    ),
    Area("team", _("Team operations"), ("teamops.*",)),
    Area("portal", _("Contributions and guidelines"), ("contribution.*", "guideline.*")),
)
OTHER = "other"
AREA_KEYS = (*(area.key for area in AREAS), OTHER)


def area_of(action: str) -> str:
    for area in AREAS:
        if area.matches(action):
            return area.key
    return OTHER


def area_label(key: str) -> str | Promise:
    for area in AREAS:
        if area.key == key:
            return area.label
    return _("Other")


def area_choices() -> list[tuple[str, str | Promise]]:
    return [(area.key, area.label) for area in AREAS] + [(OTHER, _("Other"))]


def area_q(key: str) -> Q:
    """The entries of one area: its patterns, minus those of the areas before it."""
    if key == OTHER:
        query = Q()
        for area in AREAS:
            query &= ~area.q()
        return query
    earlier = Q(pk__in=[])
    for area in AREAS:
        if area.key == key:
            return area.q() & ~earlier
        earlier |= area.q()
    raise KeyError(key)
