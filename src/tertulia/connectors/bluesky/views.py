"""Tertulia's atproto OAuth client metadata document: its URL is our client id."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from tertulia.connectors.bluesky import oauth
from tertulia.core.permissions import Access, declare


@declare(Access.PUBLIC)  # the atproto OAuth client metadata: public by design
@require_GET
def client_metadata(request: HttpRequest) -> JsonResponse:
    """Public, no sign-in: authorization servers fetch it (and cache it) to learn who we are.

    Built from the address it is served at, like the redirect address Tertulia sends, so
    the two always agree; behind a proxy, Django must know the public scheme and host
    (ALLOWED_HOSTS, SECURE_PROXY_SSL_HEADER).
    """
    redirect_uri = request.build_absolute_uri(reverse("web:channel-callback"))
    client_id = oauth.metadata_url(redirect_uri)
    document = oauth.client_metadata(
        client_id,
        redirect_uri,
        client_name=str(getattr(settings, "TERTULIA_BLUESKY_CLIENT_NAME", "Tertulia")),
    )
    response = JsonResponse(document)
    response["Cache-Control"] = "public, max-age=600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
