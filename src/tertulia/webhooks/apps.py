from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "tertulia.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # The built-in event types; other apps register theirs in their own ready().
        from tertulia.webhooks import events  # noqa: F401
