"""On the Team page: which brands each member works in, and who operates each channel.

The page itself is `team.team`; these views take the two forms (docs/permissions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import GrantRefused, brand_access_of, set_brand_access, set_operators
from tertulia.core.models import Brand, Channel, ChannelOperator, Membership, Organization, User
from tertulia.core.permissions import FULL_ACCESS_ROLES, Perm, brand_members, is_limited
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import section


class BrandAccessForm(forms.Form):
    all_brands = forms.BooleanField(label=_lazy("Every brand"), required=False)
    brands = forms.ModelMultipleChoiceField(
        label=_lazy("Only these brands"),
        queryset=Brand.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brands"].queryset = Brand.objects.filter(organization=organization).order_by("name")  # type: ignore[attr-defined]  # a ModelMultipleChoiceField


class OperatorsForm(forms.Form):
    people = forms.ModelMultipleChoiceField(
        label=_lazy("Operators"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, channel: Channel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = candidates(channel)  # type: ignore[attr-defined]  # a ModelMultipleChoiceField


def candidates(channel: Channel) -> QuerySet[User]:
    """Who may be made an operator of `channel`: active members who work in its brand."""
    return (
        User.objects.filter(memberships__in=brand_members(channel.brand), is_active=True)
        .distinct()
        .order_by("display_name", "email")
    )


@dataclass
class MemberAccess:
    member: Membership
    brands: list[Brand]  # of a limited member: those the viewer may see too
    limited: bool
    always_all: bool  # owners and administrators
    form: BrandAccessForm | None


@dataclass
class ChannelRow:
    channel: Channel
    operators: list[User]
    form: OperatorsForm | None


def access_context(tenant: Tenant) -> dict[str, Any]:
    """What the Team page shows of brands and channels, for the person looking at it."""
    organization = tenant.organization
    assert organization is not None
    manages_members = tenant.can(Perm.MANAGE_MEMBERS)
    members = Membership.objects.filter(organization=organization, is_active=True).select_related("user")
    rows = []
    visible = set(tenant.all_brands().values_list("pk", flat=True))
    for member in members.order_by("user__email"):
        brands = brand_access_of(member)
        limited = is_limited(member)
        form = None
        if manages_members:
            form = BrandAccessForm(
                organization=organization,
                prefix=f"member-{member.pk}",
                initial={"all_brands": not limited, "brands": [b.pk for b in brands]},
            )
        always = member.role in FULL_ACCESS_ROLES
        shown = [b for b in brands if b.pk in visible]
        rows.append(MemberAccess(member, shown, limited, always, form))
    channels = (
        tenant.restrict(Channel.objects.all()).select_related("brand").order_by("brand__name", "handle")
    )
    manages_channels = tenant.can(Perm.MANAGE_CHANNELS)
    grants: dict[int, list[User]] = {}
    for grant in ChannelOperator.objects.filter(channel__in=channels).select_related("user"):
        grants.setdefault(grant.channel_id, []).append(grant.user)
    channel_rows = [
        ChannelRow(
            channel,
            grants.get(channel.pk, []),
            OperatorsForm(
                channel=channel,
                prefix=f"channel-{channel.pk}",
                initial={"people": [u.pk for u in grants.get(channel.pk, [])]},
            )
            if manages_channels
            else None,
        )
        for channel in channels
    ]
    return {"member_access": rows, "channel_rows": channel_rows}


def _back(anchor: str) -> HttpResponse:
    return redirect(reverse("web:team") + anchor)


@section("team", Perm.MANAGE_MEMBERS)
@require_POST
def member_brands(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    """Every brand, or only some, for one member."""
    assert tenant.organization is not None
    member = get_object_or_404(Membership, pk=member_id, organization=tenant.organization)
    form = BrandAccessForm(request.POST, organization=tenant.organization, prefix=f"member-{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose brands of this organization."))
        return _back("#brand-access")
    try:
        set_brand_access(
            Actor.from_request(request),
            member,
            all_brands=form.cleaned_data["all_brands"],
            brands=form.cleaned_data["brands"],
        )
    except GrantRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Brands of %(person)s saved.") % {"person": member.user})
    return _back("#brand-access")


@section("team", Perm.MANAGE_CHANNELS)
@require_POST
def channel_operators(request: HttpRequest, tenant: Tenant, channel_id: int) -> HttpResponse:
    """Who operates one channel (of the person's own brands)."""
    channel = get_object_or_404(
        tenant.restrict(Channel.objects.select_related("brand", "organization")), pk=channel_id
    )
    form = OperatorsForm(request.POST, channel=channel, prefix=f"channel-{channel.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose people who work in the brand of this channel."))
        return _back("#operators")
    try:
        set_operators(Actor.from_request(request), channel, form.cleaned_data["people"])
    except GrantRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Operators of @%(handle)s saved.") % {"handle": channel.handle})
    return _back("#operators")
