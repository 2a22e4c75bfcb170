"""What Django's error reports (the e-mails to ADMINS, the technical 500 page) may show.

Django's own filter hides settings and request headers whose names look secret, but shows every
POST field and every local variable of the failing frames unless each view says otherwise. Here
the same rule by name covers those too, everywhere: a form's `password` (the app password a person
gives to connect a channel), a connector's `access_token`, `client_secret`, `code_verifier`...
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.regex_helper import _lazy_re_compile
from django.views.debug import SafeExceptionReporterFilter


class SecretsReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = _lazy_re_compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|VERIFIER|CODE|CSRF|SESSION|"
        "OTP|TOTP|RECOVERY|DATABASE_URL|REDIS_URL|SMTP_URL|DSN|COOKIE",
        flags=re.IGNORECASE,
    )

    def _hide(self, values: Any) -> Any:
        """A copy of a QueryDict or dict with the values of secret-looking names replaced."""
        cleansed = values.copy()
        for key in list(cleansed):
            if self.hidden_settings.search(str(key)):
                cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_cleansed_multivaluedict(self, request: HttpRequest, multivaluedict: QueryDict) -> QueryDict:
        hidden: QueryDict = self._hide(super().get_cleansed_multivaluedict(request, multivaluedict))
        return hidden

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None:
            return {}
        hidden: dict[str, Any] = self._hide(super().get_post_parameters(request))
        return hidden

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, self.cleanse_setting(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
