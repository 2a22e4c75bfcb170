"""Invitations on the web: the form on the Team page, resend and revoke, and the page the link opens.

The logic is in `tertulia.governance.actions.invitations`; these views parse, check and render.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Organization, Role, User
from tertulia.core.permissions import Access, Perm, declare
from tertulia.governance.actions import invitations
from tertulia.governance.actions.invitations import Delivery, InvitationInvalid, InvitationRefused
from tertulia.governance.models import Invitation
from tertulia.web.tenant import SESSION_BRAND, SESSION_ORG, Tenant
from tertulia.web.views.sections import section


class InviteForm(forms.Form):
    days = invitations.INVITATION_DAYS  # how long the link works, for the form's explanation
    email = forms.EmailField(label=_lazy("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=_lazy("Role"), choices=Role.choices, initial=Role.COMMUNITY_MANAGER)
    all_brands = forms.BooleanField(
        label=_lazy("All brands"),
        required=False,
        initial=True,
        help_text=_lazy(
            "Untick to limit them to the brands chosen below (owners and administrators see all)."
        ),
    )
    brands = forms.ModelMultipleChoiceField(
        label=_lazy("Brands"),
        queryset=Brand.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.ModelMultipleChoiceField(
        label=_lazy("Channels they operate"),
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Shown as a group of checkboxes (a fieldset) rather than one field.
    grouped = ("brands", "channels")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brands = self.fields["brands"]
        channels = self.fields["channels"]
        assert isinstance(brands, forms.ModelMultipleChoiceField)
        assert isinstance(channels, forms.ModelMultipleChoiceField)
        brands.queryset = Brand.objects.filter(organization=organization, is_archived=False).order_by("name")
        channels.queryset = (
            Channel.objects.filter(organization=organization, brand__is_archived=False)
            .select_related("brand")
            .order_by("brand__name", "network", "handle")
        )
        for name in self.grouped:  # nothing to choose from (a new organization): not shown at all
            field = self.fields[name]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            if field.queryset is None or not field.queryset.exists():
                del self.fields[name]


def site_url(request: HttpRequest) -> str:
    """The address people use to reach this site (links in e-mails start with it)."""
    return request.build_absolute_uri("/").rstrip("/")


def _report(request: HttpRequest, delivery: Delivery, done: str) -> None:
    if delivery.sent:
        messages.success(request, done % {"email": delivery.invitation.email})
    else:
        messages.warning(
            request,
            _(
                "The invitation for %(email)s is saved, but its e-mail could not be sent "
                "(%(reason)s): resend it."
            )
            % {"email": delivery.invitation.email, "reason": delivery.error},
        )


def handle_invite(request: HttpRequest, tenant: Tenant, form: InviteForm) -> bool:
    """Invite from a bound form; False (with the reason on the form) when it cannot be done."""
    assert tenant.organization is not None
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        delivery = invitations.invite(
            Actor.from_request(request),
            tenant.organization,
            data["email"],
            data["role"],
            site_url=site_url(request),
            all_brands=data["all_brands"],
            brands=list(data.get("brands") or []),
            channels=list(data.get("channels") or []),
        )
    except InvitationRefused as exc:
        form.add_error(None, str(exc))
        return False
    _report(request, delivery, _("Invitation sent to %(email)s."))
    return True


def _invitation(tenant: Tenant, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id, organization=tenant.organization)


@section("team", Perm.MANAGE_MEMBERS, write=Perm.MANAGE_MEMBERS)
@require_POST
def resend(request: HttpRequest, tenant: Tenant, invitation_id: int) -> HttpResponse:
    invitation = _invitation(tenant, invitation_id)
    try:
        delivery = invitations.resend(Actor.from_request(request), invitation, site_url=site_url(request))
    except InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        _report(request, delivery, _("Invitation sent again to %(email)s; the earlier link no longer works."))
    return redirect(reverse("web:team") + "#invitations")


@section("team", Perm.MANAGE_MEMBERS, write=Perm.MANAGE_MEMBERS)
@require_POST
def revoke(request: HttpRequest, tenant: Tenant, invitation_id: int) -> HttpResponse:
    invitation = _invitation(tenant, invitation_id)
    try:
        invitations.revoke(Actor.from_request(request), invitation)
    except InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The invitation for %(email)s is revoked.") % {"email": invitation.email})
    return redirect(reverse("web:team") + "#invitations")


# --- the page the link opens ---------------------------------------------------------------------


class NewAccountForm(forms.Form):
    display_name = forms.CharField(label=_lazy("Your name"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_lazy("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_lazy("Password (again)"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords do not match."))
        return data


def _invalid(request: HttpRequest, state: str) -> HttpResponse:
    return render(
        request,
        "web/governance/invitation_invalid.html",
        {"state": state},
        status=404 if state == "unknown" else 410,
    )


def _joined(request: HttpRequest, organization: Organization) -> HttpResponse:
    request.session[SESSION_ORG] = organization.pk
    request.session.pop(SESSION_BRAND, None)
    messages.success(request, _("Welcome to %(organization)s.") % {"organization": organization.name})
    return redirect("web:home")


@declare(Access.PUBLIC)
@never_cache
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, key: str) -> HttpResponse:
    """GET shows the invitation and what accepting takes; POST accepts it."""
    try:
        invitation = invitations.find(key)
    except InvitationInvalid as exc:
        return _invalid(request, exc.state)
    user = request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    sso = invitations.sso_url(invitation, key)
    account = invitations.account_for(invitation)
    context: dict[str, Any] = {
        "invitation": invitation,
        "inviter": format_html("<bdi>{}</bdi>", invitation.invited_by or invitation.organization.name),
        "organization": format_html("<bdi>{}</bdi>", invitation.organization.name),
        "role": Role(invitation.role).label,
        "sso_url": sso,
        "has_account": account is not None,
        "signed_in_as": user,
        "right_person": user is not None and invitations.normalize_email(user.email) == invitation.email,
        "login_url": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}",
        "form": None,
    }
    actor = Actor.from_request(request)
    if user is not None:
        if request.method == "POST" and context["right_person"]:
            try:
                invitations.accept_as(actor, key, user)
            except InvitationInvalid as exc:
                return _invalid(request, exc.state)
            except InvitationRefused as exc:
                messages.error(request, str(exc))
                return redirect(request.path)
            return _joined(request, invitation.organization)
        return render(
            request, "web/governance/invitation.html", context, status=200 if request.method == "GET" else 400
        )
    if account is not None or sso is not None:
        # They sign in first (with their password, or through the identity provider) and come back here.
        return render(request, "web/governance/invitation.html", context)
    form = NewAccountForm(request.POST if request.method == "POST" else None)
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        try:
            new_user = invitations.accept_new_account(
                actor,
                key,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
            )
        except InvitationInvalid as exc:
            return _invalid(request, exc.state)
        except InvitationRefused as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            login(request, new_user, backend=settings.AUTHENTICATION_BACKENDS[0])
            return _joined(request, invitation.organization)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/governance/invitation.html", context, status=status)
