"""What every listening action shares: the refusal it raises and the permission check."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization
from tertulia.core.permissions import Perm, has_perm
from tertulia.listening.query import QueryError


class ListeningRefused(Exception):
    """A listening change that cannot be made; `field` says which input to fix, `error` where in a query."""

    def __init__(self, message: str, field: str = "", error: QueryError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.error = error


def require_manage(actor: Actor, organization: Organization) -> None:
    # An actor without a person is Tertulia itself (the demo, the command line): trusted code.
    if actor.user is not None and not has_perm(actor.user, organization, Perm.MANAGE_LISTENING):
        raise ListeningRefused(_("You may not change listening queries, alerts or sources."))
