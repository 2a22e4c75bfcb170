"""The composer's link cards: loaded by htmx after the previews, so a slow page never holds up typing.

GET /publish/link-preview/?url=... answers a small fragment: the card, "loading" (another request
of the organization is fetching the same page: ask again in a moment) or "no preview". The page is
fetched here, on the server, through the SSRF-safe client (tertulia.publishing.previews); only
people who may write posts can make Tertulia fetch an address, and each at most
`FETCHES_PER_MINUTE` new pages a minute. The card's image is served by `link_preview_image`, to
members of the organization that fetched it.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tertulia.core import ratelimit
from tertulia.core.permissions import Perm
from tertulia.publishing import previews
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

FETCHES_PER_MINUTE = 30
LOADING_TRIES = 6  # "loading" fragments that ask again, a second apart, before giving up


def _fragment(request: HttpRequest, **context: object) -> HttpResponse:
    response = render(request, "web/partials/link_card.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@section("publish", Perm.PROPOSE_POSTS)
def link_preview(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    assert tenant.organization is not None
    link = request.GET.get("url", "").strip()
    tries = request.GET.get("try", "0")
    attempt = int(tries) if tries.isdigit() and len(tries) < 3 else 0
    if not link.lower().startswith(("http://", "https://")) or len(link) > previews.MAX_URL:
        return _fragment(request, card=None)
    organization_id = tenant.organization.pk
    url = previews.card_url(link)
    card = previews.cached_card(organization_id, url)
    if card is None:
        if not previews.claim_fetch(organization_id, url):
            if attempt >= LOADING_TRIES:
                return _fragment(request, card=None)
            return _fragment(request, card=None, loading=True, link=link, next_try=attempt + 1)
        if not ratelimit.allow("linkpreview", signed_in_user(request).pk, FETCHES_PER_MINUTE):
            previews.release_fetch(organization_id, url)
            return _fragment(request, card=None, busy=True)
        card = previews.build_card(organization_id, url)
    return _fragment(request, card=card)


@require_GET
@section("publish", Perm.PROPOSE_POSTS)
def link_preview_image(request: HttpRequest, tenant: Tenant, key: str) -> HttpResponse:
    assert tenant.organization is not None
    found = previews.card_image(tenant.organization.pk, key)
    if found is None:
        raise Http404
    data, media_type = found
    response = HttpResponse(data, content_type=media_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
