from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor


class ChangePasswordView(PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        record(Actor.from_request(self.request), None, "person.password", form.user, {"password": ["…", "…"]})
        messages.success(self.request, _("Your password was changed."))
        return response
