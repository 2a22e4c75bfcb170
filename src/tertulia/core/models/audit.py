from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models.organization import Organization


class Via(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("System")


class AuditEntry(models.Model):
    """Who changed what, when and from where. Rows are only ever inserted.

    Written only by `tertulia.core.actions.audit.record` (and `record_many`), which chain each entry to
    the one before it in its organization's chain: `sequence` is its number there, `previous_hash` the
    hash of entry `sequence - 1` and `hash` the SHA-256 of its canonical record
    (`tertulia.core.audit_chain`, docs/audit.md). The database refuses to change or delete rows
    (triggers, see `tertulia.core.audit_db`), except setting `actor` to NULL when a person is deleted.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_entries", null=True, blank=True
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=255)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    via = models.CharField(max_length=16, choices=Via.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    # Set by `record` under the chain's lock (never auto_now_add: the hash covers it to the microsecond).
    created_at = models.DateTimeField(db_index=True)
    sequence = models.PositiveBigIntegerField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("organization", "-created_at"), name="audit_org_recent"),
            # One object's history (a conversation's timeline, a contact's changes).
            models.Index(fields=("object_type", "object_id", "-created_at"), name="audit_object_history"),
        ]
        constraints = [
            # One entry per number in each chain (the unique index is also the verifier's walk).
            models.UniqueConstraint(fields=("organization", "sequence"), name="audit_chain_position"),
            models.UniqueConstraint(
                fields=("sequence",),
                condition=models.Q(organization__isnull=True),
                name="audit_installation_chain_position",
            ),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="audit_sequence_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("audit entries are never changed")
        if not self.hash:
            raise TypeError("audit entries are written by tertulia.core.actions.audit.record()")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit entries are never deleted")


INSTALLATION_CHAIN = "installation"


class AuditChain(models.Model):
    """The head of one chain: how many entries it has and the last one's hash.

    Appending locks this row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock covers the
    whole transaction), so concurrent writers take numbers one at a time. `key` is the
    organization's id, or "installation" for entries without an organization.
    """

    key = models.CharField(max_length=32, unique=True)
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="audit_chain", null=True, blank=True
    )
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")

    def __str__(self) -> str:
        return f"{self.key}: {self.length}"


def chain_key(organization_id: int | None) -> str:
    return INSTALLATION_CHAIN if organization_id is None else str(organization_id)
