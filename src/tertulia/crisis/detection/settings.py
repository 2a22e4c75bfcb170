"""The detection settings people change: each watch's sensitivity (audited). Who may see a brand's watches
and surges: whoever may see the brand; who may change them: whoever manages the brand (Perm.MANAGE_BRANDS)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization, User
from tertulia.core.permissions import Perm, brands_for, has_perm, restrict
from tertulia.crisis.models import Sensitivity, Surge, Watch

RECENT_SURGES = 50
NOT_ALLOWED = gettext_lazy("Only people who manage the brand can change how sensitive detection is.")


class SensitivityRefused(ValueError):
    """Not allowed, or not a sensitivity."""


def watches_for(user: User | AnonymousUser, organization: Organization) -> QuerySet[Watch]:
    if not isinstance(user, User):
        return Watch.objects.none()
    return (
        restrict(Watch.objects.all(), user, organization, Perm.VIEW)
        .select_related("brand", "query")
        .order_by("brand__name", "kind", "query__name", "pk")
    )


def surges_for(user: User | AnonymousUser, organization: Organization) -> QuerySet[Surge]:
    if not isinstance(user, User):
        return Surge.objects.none()
    return (
        restrict(Surge.objects.all(), user, organization, Perm.VIEW)
        .select_related("brand", "watch", "watch__query")
        .order_by("-detected_at", "-pk")
    )


def changeable_brands(user: User, organization: Organization) -> set[int]:
    """The brands whose watches `user` may change, in one query (for a page that lists many watches)."""
    return set(brands_for(user, organization, Perm.MANAGE_BRANDS).values_list("pk", flat=True))


def may_change(user: User | AnonymousUser | None, watch: Watch) -> bool:
    return isinstance(user, User) and has_perm(
        user, watch.brand.organization, Perm.MANAGE_BRANDS, watch.brand
    )


@transaction.atomic
def set_sensitivity(actor: Actor, watch: Watch, sensitivity: str) -> Watch:
    if sensitivity not in Sensitivity.values:
        raise SensitivityRefused(_("Choose low, normal or high."))
    if not may_change(actor.user, watch):
        raise SensitivityRefused(str(NOT_ALLOWED))
    locked = Watch.objects.select_for_update().select_related("brand__organization").get(pk=watch.pk)
    before = locked.sensitivity
    if before == sensitivity:
        return locked
    locked.sensitivity = sensitivity
    locked.save(update_fields=["sensitivity"])
    record(
        actor,
        locked.brand.organization,
        "crisis.watch.sensitivity",
        locked,
        {"sensitivity": [before, sensitivity]},
    )
    return locked
