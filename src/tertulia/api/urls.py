"""The versioned REST API (django-ninja), mounted at /api/v1/.

The OpenAPI document at /api/v1/openapi.json is the contract. There is no
interactive documentation page: Swagger UI would load its code from a CDN.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from tertulia.api import errors
from tertulia.api.auth import TokenAuth
from tertulia.api.routers import (
    audit,
    brands,
    channels,
    contacts,
    inbox,
    me,
    members,
    organization,
    publishing_admin,
    publishing_flow,
    publishing_media,
    publishing_posts,
    rehearsals,
    tokens,
)
from tertulia.api.routers import crisis_alerts as crisis_alerts_router
from tertulia.api.routers import crisis_detection as crisis_detection_router
from tertulia.api.routers import crisis_mode as crisis_mode_router
from tertulia.api.routers import crisis_playbooks as crisis_playbooks_router
from tertulia.api.routers import governance as governance_router
from tertulia.api.routers import guard as guard_router
from tertulia.api.routers import inbox_settings as inbox_settings_router
from tertulia.api.routers import listening as listening_router
from tertulia.api.routers import listening_insight as listening_insight_router
from tertulia.api.routers import listening_settings as listening_settings_router
from tertulia.api.routers import moderation as moderation_router
from tertulia.api.routers import publishing_calendar as publishing_calendar_router
from tertulia.api.routers import webhooks as webhooks_router
from tertulia.core.permissions import Access, declare

DESCRIPTION = """\
The Tertulia REST API: brands, channels, contacts, members and the audit trail of one organization.
Publishing too: posts with a variant per channel, their checks, review, scheduling and delivery results,
the media library, pauses (crisis mode) and approval workflows.
Listening: boolean queries per brand (validated with positioned errors), what they found, insight,
share of voice, backtests, alerts and sources.
Webhooks: the organization's outgoing webhook endpoints (signed JSON, Slack, Mattermost), their
deliveries, test events and secret rotation.
The hijack guard: what it held for a second person (release or reject), the "compromised account"
action on a channel, its incidents and checklists, and the guard's settings.
Governance: invitations by e-mail, one-step offboarding (its preview first), the access review and
backup coverage gaps.

Authenticate with a personal access token: `Authorization: Bearer trt_...`. A token acts in one
organization, carries scopes, and is never worth more than its owner: each request needs the scope
*and* a role that grants it. Errors are JSON: `{"detail": "...", "code": "..."}` (422 adds `errors`).
Lists are paginated with `limit` (at most 200) and `offset`, and answer `{"items": [...], "count": n}`.
"""


@declare(Access.PUBLIC)
@csrf_exempt
def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return errors.json_error(404, _("There is no such API endpoint."), "not_found")


def _json_method_not_allowed(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """ninja answers a wrong method with a plain-text 405; keep the status and Allow header, answer JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = errors.json_error(
                405,
                _("Method not allowed. Allowed: %(allowed)s.") % {"allowed": allowed},
                "method_not_allowed",
            )
            response["Allow"] = allowed
        return response

    return wrapper


MAX_CACHED_SCHEMAS = 16  # path prefixes times languages: a handful in practice


class TertuliaAPI(NinjaAPI):
    # The OpenAPI document is public and costs ~0.3 s of CPU to build (seconds under load): built once
    # per prefix and language (descriptions are translatable), then served from memory.
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        key = (path_prefix, repr(sorted((path_params or {}).items())), get_language() or "")
        schemas: dict[tuple[str | None, str, str], OpenAPISchema] = self.__dict__.setdefault("_schemas", {})
        if key not in schemas:
            if len(schemas) >= MAX_CACHED_SCHEMAS:
                schemas.clear()
            schemas[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return schemas[key]

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Short, stable ids (the endpoint function's name) for generated clients; tests keep them unique.
        return operation.view_func.__name__

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if not isinstance(pattern, URLPattern):
                continue
            if pattern.name == "api-root":
                # ninja's root view raises Http404, which Django would render as an HTML page.
                pattern.callback = _not_found
            else:
                pattern.callback = _json_method_not_allowed(pattern.callback)
        # Anything else under /api/v1/ is a JSON 404 too, never the web UI's HTML page.
        return [*patterns, re_path(r"^.*$", _not_found, name="api-not-found")]


def build_api() -> NinjaAPI:
    instance = TertuliaAPI(
        title="Tertulia API",
        version="1.0",
        description=DESCRIPTION,
        urls_namespace="api-v1",
        docs_url=None,
        auth=TokenAuth(),
    )
    errors.install(instance)
    for module in (me, organization, members, brands, channels, contacts, inbox, audit, tokens, rehearsals):
        instance.add_router("", module.router)
    instance.add_router("", inbox_settings_router.router)
    instance.add_router("", moderation_router.router)
    instance.add_router("", guard_router.router)
    for publishing in (publishing_posts, publishing_flow, publishing_media, publishing_admin):
        instance.add_router("", publishing.router)
    instance.add_router("", publishing_calendar_router.router)
    instance.add_router("", governance_router.router)
    for listening in (listening_router, listening_insight_router, listening_settings_router):
        instance.add_router("", listening.router)
    instance.add_router("", webhooks_router.router)
    instance.add_router("", crisis_alerts_router.router)
    instance.add_router("", crisis_detection_router.router)
    instance.add_router("", crisis_mode_router.router)
    instance.add_router("", crisis_playbooks_router.router)
    return instance


api = build_api()
