"""Saved listening queries: what a brand listens for, grouped as its own name, competitors and topics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization


class QueryGroup(models.TextChoices):
    BRAND = "brand", _("Brand")
    COMPETITOR = "competitor", _("Competitors")
    INDUSTRY = "industry", _("Industry topics")


class ListeningQuery(models.Model):
    """A boolean query (docs/listening.md#query-language), stored as written; parsed when saved and loaded."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="listening_queries")
    name = models.CharField(_("name"), max_length=120)
    group = models.CharField(_("group"), max_length=16, choices=QueryGroup.choices, default=QueryGroup.BRAND)
    text = models.TextField(_("query"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking for edits

    class Meta:
        verbose_name = _("listening query")
        verbose_name_plural = _("listening queries")
        ordering = ("group", "name")
        constraints = [models.UniqueConstraint(fields=("brand", "name"), name="listening_query_name_unique")]
        indexes = [models.Index(fields=("is_active", "updated_at"), name="listening_query_active")]

    def __str__(self) -> str:
        return self.name
