from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.utils.translation import gettext_lazy as _

from tertulia.accounts.models import JOIN_ROLES


class LoginForm(AllauthLoginForm):
    """allauth's e-mail + password form with Tertulia's labels."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("E-mail address")
        login.widget.attrs.update({"autocomplete": "email", "autofocus": True, "placeholder": ""})
        self.fields["password"].widget.attrs.update({"placeholder": ""})
        self.fields["password"].help_text = ""
        if "remember" in self.fields:
            self.fields["remember"].label = _("Keep me signed in on this device")


class SsoEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Work e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SecondFactorPolicyForm(forms.Form):
    require_second_factor = forms.BooleanField(
        label=_("Require a second factor (authenticator app or security key) of every member"),
        required=False,
    )


class SsoConnectionForm(forms.Form):
    name = forms.CharField(
        label=_("Name on the sign-in button"), max_length=80, help_text=_("For example “Acme login”.")
    )
    issuer = forms.CharField(
        label=_("Issuer URL"),
        max_length=500,
        help_text=_("Your identity provider's issuer, such as https://login.example.com/realms/acme."),
    )
    client_id = forms.CharField(label=_("Client id"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=2000,
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text=_("Stored encrypted; never shown again. Leave empty to keep the current one."),
    )
    domains = forms.CharField(
        label=_("E-mail domains it covers"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, such as example.com. Each domain works once the operator verifies it."),
    )
    enabled = forms.BooleanField(label=_("Offer single sign-on"), required=False, initial=True)
    sso_only = forms.BooleanField(
        label=_("Single sign-on only: refuse passwords for addresses in these domains"), required=False
    )
    auto_join = forms.BooleanField(
        label=_("Let people from these domains join on their own when the provider vouches for them"),
        required=False,
    )
    join_role = forms.ChoiceField(
        label=_("Their role"), choices=[(role.value, role.label) for role in JOIN_ROLES]
    )

    def domain_list(self) -> tuple[str, ...]:
        text = str(self.cleaned_data.get("domains") or "")
        return tuple(part for line in text.splitlines() for part in line.replace(",", " ").split())
