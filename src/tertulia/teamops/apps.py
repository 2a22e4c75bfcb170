from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamOpsConfig(AppConfig):
    name = "tertulia.teamops"
    label = "teamops"
    verbose_name = _("Team operations")

    def ready(self) -> None:
        # The ticker jobs: hand-over notices and gap warnings (docs/team-operations.md).
        from tertulia.teamops import tasks  # noqa: F401  # imported for its ticker jobs
