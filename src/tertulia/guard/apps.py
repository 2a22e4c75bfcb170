from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuardConfig(AppConfig):
    name = "tertulia.guard"
    label = "guard"
    verbose_name = _("Hijack guard")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from tertulia.guard.learning import learn_at_sign_in

        # A completed sign-in (password, second factor where the organization asks for one, or SSO)
        # vouches for the device and network it came from.
        user_logged_in.connect(learn_at_sign_in, dispatch_uid="guard.learn_at_sign_in")
