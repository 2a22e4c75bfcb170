"""A brand's inbox settings: its SLA policy and business hours, how work is assigned and who hears
of escalations, its saved replies, and the organization's tags.

Callers check the permission (viewing: Perm.VIEW; changing: Perm.MANAGE_BRANDS) before calling;
these functions check the values, whatever the entry point (form, API, demo loader), and write
each change with its audit entry in one transaction. A changed policy applies to clocks started
after the change; running clocks keep the due time they were given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import apply_changes, jsonable, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.core.models.brand import validate_language_tag
from tertulia.core.permissions import Perm, brand_members, permissions_of
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.actions.tags import clean_tag
from tertulia.inbox.businesshours import BusinessHours
from tertulia.inbox.models import Assignment, InboxSettings, Intent, SavedReply, SlaPolicy, Tag
from tertulia.inbox.saved_replies import VARIABLES, unknown_variables
from tertulia.live.publish import notify_organization

SLA_FIELDS = [
    "first_response_minutes",
    "next_response_minutes",
    "intent_targets",
    "critical_response_minutes",
    "warn_before_minutes",
    "business_hours",
]
MAX_TARGET_MINUTES = 30 * 24 * 60  # a month: anything longer is not a service level
MAX_WARN_MINUTES = 7 * 24 * 60
MAX_SHORTCUT = 40
MAX_TITLE = 120
MAX_BODY = 5000


class InvalidSetting(ActionRefused):
    """A refused value, with the field it belongs to (so a form can show it next to the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- SLA policy and business hours


def _minutes(field: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidSetting(
            field, _("Use a whole number of minutes from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return value


def clean_intent_targets(value: object) -> dict[str, int]:
    """{intent: minutes}, only known intents; a missing or null intent has no target of its own."""
    if not isinstance(value, Mapping):
        raise InvalidSetting("intent_targets", _("Targets by intent must map an intent to minutes."))
    targets: dict[str, int] = {}
    for intent, minutes in value.items():
        if intent not in Intent.values:
            raise InvalidSetting(
                "intent_targets",
                _("Unknown intent %(name)s: use %(known)s.")
                % {"name": str(intent)[:40], "known": ", ".join(Intent.values)},
            )
        if minutes is None:
            continue
        targets[intent] = _minutes("intent_targets", minutes, 1, MAX_TARGET_MINUTES)
    return dict(sorted(targets.items()))


def clean_business_hours(value: object) -> dict[str, Any]:
    """The stored form of a schedule: {} (open around the clock, in the brand's time zone) or what
    BusinessHours.to_dict gives back. A schedule that never opens is refused: no SLA time could pass."""
    if value is None or value == {}:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidSetting(
            "business_hours", _("Business hours must be an object with a time zone and a week.")
        )
    try:
        hours = BusinessHours.from_dict(value)
    except (ValueError, TypeError) as exc:
        raise InvalidSetting("business_hours", str(exc)) from None
    if not hours.ever_open:
        raise InvalidSetting(
            "business_hours",
            _("Open at least one day a week, or count the time around the clock."),
        )
    return hours.to_dict()


@transaction.atomic
def update_sla_policy(actor: Actor, brand: Brand, **values: Any) -> SlaPolicy:
    """Change the brand's SLA policy (created with the defaults first if it had none)."""
    unknown = sorted(set(values) - set(SLA_FIELDS))
    if unknown:
        raise ActionRefused(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})
    cleaned: dict[str, Any] = {}
    for field in ("first_response_minutes", "next_response_minutes", "critical_response_minutes"):
        if field in values:
            cleaned[field] = _minutes(field, values[field], 1, MAX_TARGET_MINUTES)
    if "warn_before_minutes" in values:
        cleaned["warn_before_minutes"] = _minutes(
            "warn_before_minutes", values["warn_before_minutes"], 0, MAX_WARN_MINUTES
        )
    if "intent_targets" in values:
        cleaned["intent_targets"] = clean_intent_targets(values["intent_targets"])
    if "business_hours" in values:
        cleaned["business_hours"] = clean_business_hours(values["business_hours"])

    policy = SlaPolicy.objects.select_for_update().filter(brand=brand).first()
    created = policy is None
    if policy is None:
        policy = SlaPolicy(brand=brand)
    changes = apply_changes(policy, cleaned)
    if created:
        policy.save()
        record(actor, brand.organization, "inbox.sla_policy", policy, snapshot(policy, SLA_FIELDS))
    elif changes:
        policy.save()
        record(actor, brand.organization, "inbox.sla_policy", policy, changes)
    brand.sla_policy = policy  # the cached relation would otherwise keep the old values
    return policy


# ---------------------------------------------------------------- assignment and escalation


def may_receive_escalations(user: User, brand: Brand) -> bool:
    """Only active members who may see the brand can be the brand's escalation person."""
    member = brand_members(brand).filter(user=user, user__is_active=True).first()
    return Perm.VIEW in permissions_of(member)


def escalation_choices(brand: Brand) -> list[User]:
    """The people who may be named to hear of the brand's escalations."""
    members = brand_members(brand).filter(user__is_active=True).select_related("user")
    people = [m.user for m in members if Perm.VIEW in permissions_of(m)]
    return sorted(people, key=lambda u: (str(u).casefold(), u.pk))


_UNSET: Any = object()


@transaction.atomic
def update_inbox_settings(
    actor: Actor, brand: Brand, *, assignment: str | None = None, escalate_to: User | None = _UNSET
) -> InboxSettings:
    """Change how the brand's conversations are assigned and who hears of its escalations
    (escalate_to=None: its managers). Arguments left out keep their value."""
    values: dict[str, Any] = {}
    if assignment is not None:
        if assignment not in Assignment.values:
            raise InvalidSetting("assignment", _("Choose manual, round robin or balanced assignment."))
        values["assignment"] = assignment
    if escalate_to is not _UNSET:
        if escalate_to is not None and not may_receive_escalations(escalate_to, brand):
            raise InvalidSetting(
                "escalate_to", _("Only an active member who may see this brand can receive its escalations.")
            )
        values["escalate_to"] = escalate_to
    settings, created = InboxSettings.objects.select_for_update().get_or_create(brand=brand)
    changes = apply_changes(settings, values)
    if changes or created:
        settings.save()
        record(
            actor,
            brand.organization,
            "inbox.settings",
            settings,
            changes or snapshot(settings, ["assignment", "escalate_to"]),
        )
    return settings


# ---------------------------------------------------------------- saved replies


def _clean_reply(shortcut: str, language: str, title: str, body: str) -> tuple[str, str, str, str]:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not shortcut:
        raise InvalidSetting("shortcut", _("A shortcut needs at least one letter or digit."))
    if len(shortcut) > MAX_SHORTCUT:
        raise InvalidSetting("shortcut", _("A shortcut has at most %(n)d characters.") % {"n": MAX_SHORTCUT})
    if not all(ch.isalnum() or ch in "-_" for ch in shortcut) or not shortcut.isascii():
        raise InvalidSetting(
            "shortcut", _("Use only letters without accents, digits, hyphens and underscores, as in envio.")
        )
    base, dash, region = language.strip().partition("-")
    language = base.lower() + dash + region  # "ES" is es; the region keeps its case (pt-BR)
    try:
        validate_language_tag(language)
    except ValidationError:
        raise InvalidSetting("language", _("Use a language code such as es, en or pt-BR.")) from None
    title = " ".join(title.split())
    if not title:
        raise InvalidSetting("title", _("Give the saved reply a title."))
    if len(title) > MAX_TITLE:
        raise InvalidSetting("title", _("A title has at most %(n)d characters.") % {"n": MAX_TITLE})
    if not body.strip():
        raise InvalidSetting("body", _("A saved reply cannot be empty."))
    if len(body) > MAX_BODY:
        raise InvalidSetting("body", _("A saved reply has at most %(n)d characters.") % {"n": MAX_BODY})
    unknown = unknown_variables(body)
    if unknown:
        raise InvalidSetting(
            "body",
            _("Unknown variable %(names)s. Available: %(known)s.")
            % {
                "names": ", ".join(f"{{{w}}}" for w in unknown[:5]),
                "known": ", ".join(f"{{{w}}}" for w in VARIABLES),
            },
        )
    return shortcut, language, title, body


@transaction.atomic
def save_saved_reply(
    actor: Actor,
    brand: Brand,
    reply: SavedReply | None = None,
    *,
    shortcut: str,
    language: str,
    title: str,
    body: str,
) -> SavedReply:
    """Create a saved reply for `brand`, or change `reply` (which must be the brand's)."""
    shortcut, language, title, body = _clean_reply(shortcut, language, title, body)
    values = {"shortcut": shortcut, "language": language, "title": title, "body": body}
    taken = SavedReply.objects.filter(brand=brand, shortcut=shortcut, language=language)
    if reply is not None:
        if reply.brand_id != brand.pk:
            raise ActionRefused(_("This saved reply belongs to another brand."))
        taken = taken.exclude(pk=reply.pk)
    if taken.exists():
        raise InvalidSetting(
            "shortcut",
            _("There is already a saved reply /%(shortcut)s in %(language)s.")
            % {"shortcut": shortcut, "language": language},
        )
    try:
        with transaction.atomic():  # a concurrent twin loses on the unique constraint, cleanly
            if reply is None:
                reply = SavedReply.objects.create(brand=brand, **values)
                record(
                    actor,
                    brand.organization,
                    "inbox.saved_reply.create",
                    reply,
                    snapshot(reply, list(values)),
                )
            else:
                changes = apply_changes(reply, values)
                if changes:
                    reply.save()
                    record(actor, brand.organization, "inbox.saved_reply.update", reply, changes)
    except IntegrityError:
        raise InvalidSetting(
            "shortcut",
            _("There is already a saved reply /%(shortcut)s in %(language)s.")
            % {"shortcut": shortcut, "language": language},
        ) from None
    notify_organization(brand.organization_id, "saved-replies")
    return reply


@transaction.atomic
def delete_saved_reply(actor: Actor, reply: SavedReply) -> None:
    brand = reply.brand
    record(
        actor,
        brand.organization,
        "inbox.saved_reply.delete",
        reply,
        {f: [jsonable(getattr(reply, f)), None] for f in ("shortcut", "language", "title")},
    )
    reply.delete()
    notify_organization(brand.organization_id, "saved-replies")


# ---------------------------------------------------------------- tags


@transaction.atomic
def rename_tag(actor: Actor, tag: Tag, name: str) -> Tag:
    """Rename the tag everywhere it is used; a name another tag has is refused (no silent merge)."""
    try:
        new = clean_tag(name)
    except ActionRefused as exc:
        raise InvalidSetting("name", str(exc)) from None
    if new == tag.name:
        return tag
    if Tag.objects.filter(organization_id=tag.organization_id, name=new).exclude(pk=tag.pk).exists():
        raise InvalidSetting("name", _("There is already a tag called “%(name)s”.") % {"name": new})
    old = tag.name
    tag.name = new
    try:
        with transaction.atomic():
            tag.save(update_fields=["name"])
    except IntegrityError:
        tag.name = old
        raise InvalidSetting("name", _("There is already a tag called “%(name)s”.") % {"name": new}) from None
    record(actor, tag.organization, "inbox.tag.rename", tag, {"name": [old, new]})
    notify_organization(tag.organization_id, "inbox")
    return tag


@transaction.atomic
def delete_tag(actor: Actor, tag: Tag) -> None:
    """Delete the tag and take it off every conversation that had it."""
    organization = tag.organization
    used = tag.conversations.count()
    record(
        actor, organization, "inbox.tag.delete", tag, {"name": [tag.name, None], "conversations": [used, 0]}
    )
    tag.delete()
    notify_organization(organization.pk, "inbox")
