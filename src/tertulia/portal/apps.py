from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "tertulia.portal"
    label = "portal"
    verbose_name = _("Contributor portal")
