"""A brand's moderation rules: create, change, switch on or off, delete. Each change audited.

Conditions and actions are checked by `tertulia.moderation.schema` and stored in its normal form;
besides the shape, a rule's channels must be its brand's and the person it assigns to must be an
active member of the organization. Errors are ValidationErrors keyed by field ("conditions",
"actions", "name"), so a form or the API shows them where they belong.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import apply_changes, jsonable, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Membership
from tertulia.moderation.actions.log import changed
from tertulia.moderation.choices import ActionType
from tertulia.moderation.models import ModerationRule
from tertulia.moderation.schema import parse_actions, parse_conditions

FIELDS = ["name", "enabled", "position", "conditions", "actions", "stop_processing"]
OBJECT_TYPE = "moderation.rule"


def _normalized(brand: Brand, conditions: Any, actions: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    errors: dict[str, list[str]] = {}
    parsed_conditions = parsed_actions = None
    try:
        parsed_conditions = parse_conditions(conditions)
    except ValidationError as error:
        errors["conditions"] = error.messages
    try:
        parsed_actions = parse_actions(actions)
    except ValidationError as error:
        errors["actions"] = error.messages
    if parsed_conditions is not None and parsed_conditions.channels:
        mine = set(
            Channel.objects.filter(brand=brand, pk__in=parsed_conditions.channels).values_list(
                "pk", flat=True
            )
        )
        if set(parsed_conditions.channels) - mine:
            errors.setdefault("conditions", []).append(_("channels: only this brand's channels can be used."))
    if parsed_actions is not None:
        for spec in parsed_actions:
            if (
                spec.type == ActionType.ASSIGN
                and not Membership.objects.filter(
                    organization_id=brand.organization_id, user_id=spec.user or 0, is_active=True
                ).exists()
            ):
                errors.setdefault("actions", []).append(
                    _("assign: the person must be an active member of the organization.")
                )
    if errors:
        raise ValidationError(errors)
    assert parsed_conditions is not None and parsed_actions is not None
    return parsed_conditions.to_json(), [spec.to_json() for spec in parsed_actions]


def _audit(actor: Actor, rule: ModerationRule, event: str, changes: dict[str, Any]) -> None:
    record(actor, rule.organization, event, rule, changes, object_type=OBJECT_TYPE)


@transaction.atomic
def create_rule(
    actor: Actor,
    brand: Brand,
    *,
    name: str,
    conditions: Any,
    actions: Any,
    enabled: bool = False,
    stop_processing: bool = False,
    position: int | None = None,
) -> ModerationRule:
    """A new rule, last in the brand's order unless `position` says otherwise; off unless `enabled`."""
    normal_conditions, normal_actions = _normalized(brand, conditions, actions)
    if position is None:
        last = ModerationRule.objects.filter(brand=brand).aggregate(m=Max("position"))["m"]
        position = 0 if last is None else last + 10
    rule = ModerationRule(
        organization_id=brand.organization_id,
        brand=brand,
        name=name.strip(),
        enabled=enabled,
        position=position,
        conditions=normal_conditions,
        actions=normal_actions,
        stop_processing=stop_processing,
        created_by=actor.user,
    )
    rule.full_clean()
    rule.save()
    _audit(actor, rule, "moderation.rule.create", snapshot(rule, FIELDS))
    changed(brand.organization_id)
    return rule


@transaction.atomic
def update_rule(actor: Actor, rule: ModerationRule, **values: Any) -> ModerationRule:
    """Change some of name, enabled, position, conditions, actions, stop_processing."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(_("Unknown field: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    rule = ModerationRule.objects.select_for_update().select_related("brand", "organization").get(pk=rule.pk)
    if "conditions" in values or "actions" in values:
        values["conditions"], values["actions"] = _normalized(
            rule.brand, values.get("conditions", rule.conditions), values.get("actions", rule.actions)
        )
    if "name" in values:
        values["name"] = str(values["name"]).strip()
    changes = apply_changes(rule, values)
    if not changes:
        return rule
    rule.full_clean()
    rule.save()
    _audit(actor, rule, "moderation.rule.update", changes)
    changed(rule.organization_id)
    return rule


def set_enabled(actor: Actor, rule: ModerationRule, enabled: bool) -> ModerationRule:
    return update_rule(actor, rule, enabled=enabled)


@transaction.atomic
def delete_rule(actor: Actor, rule: ModerationRule) -> None:
    """The rule goes; what it did stays in the log (with its name)."""
    _audit(actor, rule, "moderation.rule.delete", {f: [jsonable(getattr(rule, f)), None] for f in FIELDS})
    organization_id = rule.organization_id
    rule.delete()
    changed(organization_id)
