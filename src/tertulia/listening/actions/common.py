"""What every listening action shares: the refusal it raises and the permission check."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization
from tertulia.core.permissions import Perm, covers_all_brands, has_perm
from tertulia.listening.query import QueryError


class ListeningRefused(Exception):
    """A listening change that cannot be made; `field` says which input to fix, `error` where in a query."""

    def __init__(
        self, message: str, field: str = "", error: QueryError | None = None, *, denied: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.error = error
        self.denied = denied  # who is asking, not what was sent, is the problem


def require_manage(
    actor: Actor, organization: Organization, brand: Brand | None = None, *, every_brand: bool = False
) -> None:
    """The actor may change listening in `organization` (in `brand`, given one; in all of its brands for
    what they share, such as sources)."""
    # An actor without a person is Tertulia itself (the demo, the command line): trusted code.
    if actor.user is None:
        return
    if not has_perm(actor.user, organization, Perm.MANAGE_LISTENING, brand):
        raise ListeningRefused(_("You may not change listening queries, alerts or sources."), denied=True)
    if every_brand and not covers_all_brands(actor.user, organization):
        raise ListeningRefused(
            _("Sources are shared by every brand: only people who work in every brand can change them."),
            denied=True,
        )
