"""Personal access tokens for the REST API, managed by their owner."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.api.actions import TokenRefused, create_token, revoke_token
from tertulia.api.models import ApiToken
from tertulia.api.scopes import SCOPE_DESCRIPTION, Scope, allowed_scopes
from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

EXPIRY_CHOICES = [
    ("30", _lazy("30 days")),
    ("90", _lazy("90 days")),
    ("365", _lazy("1 year")),
    ("", _lazy("Never")),
]


class TokenForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=100)
    scopes = forms.MultipleChoiceField(label=_lazy("Scopes"), widget=forms.CheckboxSelectMultiple)
    expires_in = forms.ChoiceField(
        label=_lazy("Expires"), choices=EXPIRY_CHOICES, required=False, initial="90"
    )

    def __init__(self, *args: object, allowed: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Django's form signature
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(s, f"{s} — {SCOPE_DESCRIPTION[Scope(s)]}") for s in allowed]


def _page(
    request: HttpRequest, tenant: Tenant, form: TokenForm, created: str = "", status: int = 200
) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=signed_in_user(request), organization=tenant.organization).order_by(
        "-created_at"
    )
    response = render(
        request,
        "web/tokens.html",
        {"section": "settings", "form": form, "tokens": tokens, "created": created, "now": timezone.now()},
        status=status,
    )
    return response


@section("settings", write=Perm.VIEW)
@never_cache  # the page that shows a new token's secret must not be stored anywhere
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    allowed = allowed_scopes(tenant.perms)
    if request.method == "GET":
        return _page(request, tenant, TokenForm(allowed=allowed))
    form = TokenForm(request.POST, allowed=allowed)
    if not form.is_valid():
        return _page(request, tenant, form, status=400)
    days = form.cleaned_data["expires_in"]
    expires_at = timezone.now() + timedelta(days=int(days)) if days else None
    assert tenant.organization is not None
    try:
        _token, plaintext = create_token(
            Actor.from_request(request),
            signed_in_user(request),
            tenant.organization,
            form.cleaned_data["name"],
            form.cleaned_data["scopes"],
            expires_at,
        )
    except TokenRefused as exc:
        form.add_error(None, str(exc))
        return _page(request, tenant, form, status=400)
    # Rendered straight into this response, never put in the session or a message.
    return _page(request, tenant, TokenForm(allowed=allowed), created=plaintext)


@section("settings", write=Perm.VIEW)
@require_POST
def revoke(request: HttpRequest, tenant: Tenant, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user, organization=tenant.organization)
    revoke_token(Actor.from_request(request), token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("web:tokens")
