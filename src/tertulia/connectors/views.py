"""`/hooks/<network>/`: where networks push events. Verify, store, acknowledge; nothing else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tertulia.connectors.base import Capability
from tertulia.connectors.registry import UnknownNetwork, connector_class
from tertulia.connectors.webhooks import MAX_BODY_BYTES, store_events
from tertulia.core.permissions import Access, declare
from tertulia.vault.actions import app_client


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


@declare(Access.PUBLIC)  # a network's push: verified by its signature, not by a person
@csrf_exempt  # signed by the network instead; there is no session here
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest, network: str) -> HttpResponse:
    try:
        cls = connector_class(network)
    except UnknownNetwork:
        return _error(404, _("Unknown network."))
    if not cls.supports(Capability.WEBHOOKS):
        return _error(404, _("This network does not send webhooks."))
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _error(413, _("The request body is too large."))
    with app_client(network) as app:
        secret = app[1].get("webhook_secret", "") if app else ""
        if not secret:
            return _error(404, _("Webhooks are not configured for this network."))
        if request.method == "GET":
            reply = cls.webhook_challenge(request.GET.dict(), secret)
            if reply is None:
                return _error(400, _("This is not a verification request."))
            return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            return _error(413, _("The request body is too large."))
        if not cls.verify_webhook(request.headers, body, secret):
            return _error(401, _("The signature is missing or wrong."))
    try:
        events = cls.parse_webhook(body)
    except ValueError:
        return _error(400, _("The body could not be read."))
    intake = store_events(network, events)
    return JsonResponse({"stored": len(intake.stored), "duplicates": intake.duplicates})
