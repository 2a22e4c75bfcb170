"""What crisis mode plugs into other apps when Tertulia starts (called from CrisisConfig.ready()):
its webhook event types, and its approved holding statements pinned first in the inbox's saved
replies while a crisis lasts (tertulia.inbox.saved_replies.pinned_for). The inbox has no link to the
crisis tables: it asks, and gets nothing once the crisis is over."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.core.models import Brand
from tertulia.inbox import saved_replies
from tertulia.webhooks import events


def pinned(brand: Brand) -> list[saved_replies.Pinned]:
    from tertulia.crisis.mode import pinned_statements

    return [
        saved_replies.Pinned(
            shortcut=statement.shortcut,
            language=statement.language,
            title=statement.title,
            body=statement.body,
            label=_("Crisis holding statement"),
        )
        for statement in pinned_statements(brand)
    ]


def register() -> None:
    events.register(
        "crisis.started",
        _lazy("Crisis mode on"),
        _lazy(
            "Crisis mode started for a brand or the whole organization: publishing is paused and replies "
            "wait for a crisis approver."
        ),
    )
    events.register(
        "crisis.ended",
        _lazy("Crisis mode off"),
        _lazy("A crisis was closed: publishing resumed, or stays paused on purpose."),
    )
    saved_replies.add_pinned_source(pinned)
