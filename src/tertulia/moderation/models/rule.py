"""A brand's moderation rule: when a new message meets its conditions, its actions are taken."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization
from tertulia.moderation.schema import validate_actions, validate_conditions


class ModerationRule(models.Model):
    """Rules run in `position` order on every new inbound message of the brand's channels.

    `conditions` and `actions` are JSON in the shape `tertulia.moderation.schema` defines and
    checks. A new rule starts switched off, so it can be dry-run over the last 30 days first.
    The guardrails (tertulia.moderation.guardrails) apply to whatever a rule asks.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="moderation_rules")
    name = models.CharField(_("name"), max_length=120)
    enabled = models.BooleanField(_("on"), default=False)
    position = models.PositiveIntegerField(_("order"), default=0)
    conditions = models.JSONField(_("conditions"), default=dict, validators=[validate_conditions])
    actions = models.JSONField(_("actions"), default=list, validators=[validate_actions])
    stop_processing = models.BooleanField(
        _("stop here"),
        default=False,
        help_text=_("When this rule matches a message, later rules are not tried on it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("moderation rule")
        verbose_name_plural = _("moderation rules")
        ordering = ("position", "id")
        indexes = [models.Index(fields=("brand", "enabled", "position"), name="moderation_rules_of_brand")]

    def __str__(self) -> str:
        return self.name
