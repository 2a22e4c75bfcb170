from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrisisConfig(AppConfig):
    name = "tertulia.crisis"
    label = "crisis"
    verbose_name = _("Crisis")

    def ready(self) -> None:
        # Alerts: the webhook event types crisis.alert, .escalated, .acknowledged, .resolved.
        from tertulia.crisis.escalation import register_events

        register_events()
        # Crisis mode: its webhook events, and the holding statements pinned in the inbox.
        from tertulia.crisis.pins import register as register_mode

        register_mode()
