from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class RateWindow(models.Model):
    """How much of a network's budget one account has used in the current window.

    One row per (network, account, bucket). Every worker on every machine spends from
    the same row, in a transaction, so together they never exceed the network's limit.
    """

    network = models.CharField(max_length=32)
    account = models.CharField(max_length=255)
    bucket = models.CharField(max_length=128)
    limit = models.PositiveIntegerField(default=0)  # 0: not known yet
    used = models.PositiveIntegerField(default=0)
    resets_at = models.DateTimeField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rate-limit window")
        verbose_name_plural = _("rate-limit windows")
        constraints = [
            models.UniqueConstraint(fields=("network", "account", "bucket"), name="rate_window_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.account}:{self.bucket} {self.used}/{self.limit}"


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    READY = "ready", _("Ready for ingestion")
    IGNORED = "ignored", _("Ignored (unknown kind)")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InboundEvent(models.Model):
    """A verified webhook event, stored before the network is told we have it.

    Unique per (network, event id), so a redelivery or a replay is stored once.
    """

    network = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=128)
    account_id = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        constraints = [models.UniqueConstraint(fields=("network", "event_id"), name="inbound_event_once")]
        indexes = [models.Index(fields=("status", "received_at"), name="inbound_event_todo")]

    def __str__(self) -> str:
        return f"{self.network}:{self.kind}:{self.event_id}"


class PendingAuthorization(models.Model):
    """An OAuth sign-in under way: created when a person is sent to the network, used once on return.

    Kept in the database (not the session) so a flow started from the API can be finished in
    the same person's browser. The code verifier alone grants nothing without the network's
    one-time code, and the row lives ten minutes at most.
    """

    state = models.CharField(max_length=128, unique=True)
    code_verifier = models.CharField(max_length=128)
    network = models.CharField(max_length=32)
    base_url = models.CharField(max_length=255, blank=True)
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE)
    brand = models.ForeignKey("core.Brand", on_delete=models.CASCADE)
    user = models.ForeignKey("core.User", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pending sign-in")
        verbose_name_plural = _("pending sign-ins")

    def __str__(self) -> str:
        return f"{self.network} sign-in for {self.brand_id}"


class PendingChoice(models.Model):
    """Accounts a sign-in can connect, waiting for the person to pick one (a login with several Pages).

    Their credentials are sealed like any other in the vault; only the handles and names the
    person chooses among are kept in clear. Ten minutes, one use, for the person who signed in.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.CharField(max_length=32)
    base_url = models.CharField(max_length=255, blank=True)
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE)
    brand = models.ForeignKey("core.Brand", on_delete=models.CASCADE)
    user = models.ForeignKey("core.User", on_delete=models.CASCADE)
    options = models.JSONField(default=list)  # [{"handle": ..., "display_name": ...}], in clear
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pending choice of account")
        verbose_name_plural = _("pending choices of account")

    def __str__(self) -> str:
        return f"{self.network} choice for {self.brand_id}"
