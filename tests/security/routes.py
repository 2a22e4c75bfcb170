"""Every URL the project answers, found by walking Django's URL resolver.

Shared by the project-wide security tests (CSRF on every form, escaping on every page, the
route walk per role). Nothing here lists routes by hand: `all_routes()` walks
`django.urls.get_resolver()` recursively, so a route added anywhere (web, API, allauth, hooks,
a new app's urls) is found the next time the tests run.

What a test needs to *call* a route is a value for each of its URL parameters. `sample_values()`
picks one object of the right kind from an organization for every parameter named in `PARAMS`
(or, for `<thing>_id`, the one model called Thing). A route whose parameter has no source makes
`Route.url()` raise `MissingValue`, and the tests fail saying which parameter to add here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

API_PREFIX = "api/v1/"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class MissingValue(LookupError):
    """A route has a URL parameter that `sample_values()` knows nothing about."""

    def __init__(self, route: Route, param: str) -> None:
        super().__init__(
            f"route /{route.template} ({route.name or 'unnamed'}) has the URL parameter {param!r} and the "
            f"security tests have no value for it: add it to PARAMS in tests/security/routes.py"
        )
        self.param = param


@dataclass(frozen=True)
class Route:
    """One URL pattern, with the prefixes of every resolver above it."""

    template: str  # as Django writes it, without the leading slash: "inbox/c/<int:conversation_id>/"
    name: str  # namespaced ("web:conversation"); "" when unnamed
    callback: Callable[..., Any] = field(compare=False)
    params: tuple[str, ...]
    converters: Mapping[str, str] = field(
        compare=False
    )  # param -> "int", "str", "slug", "uuid", "path", "re"
    _format: str = field(compare=False)  # "inbox/c/%(conversation_id)s/"

    @property
    def is_api(self) -> bool:
        return self.template.startswith(API_PREFIX)

    @property
    def csrf_exempt(self) -> bool:
        return bool(getattr(self.callback, "csrf_exempt", False))

    @property
    def view_name(self) -> str:
        """module.function of the view (the class for class-based views), for lists of exemptions."""
        target = getattr(self.callback, "view_class", None) or self.callback
        while hasattr(target, "__wrapped__") and not hasattr(target, "view_class"):
            target = target.__wrapped__
        return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"

    def url(self, values: Mapping[str, object]) -> str:
        """The path with each parameter filled from `values` (keyed by parameter name)."""
        filled: dict[str, str] = {}
        for param in self.params:
            if param not in values:
                raise MissingValue(self, param)
            filled[param] = str(values[param])
        return "/" + self._format % filled

    def resolves_to_itself(self, url: str) -> bool:
        """False for catch-all patterns whose example URL is taken by an earlier route."""
        try:
            match = resolve(url.split("?", 1)[0])
        except Resolver404:
            return False
        return match.func is self.callback


_CONVERTER_NAMES: dict[type[Any], str] = {
    IntConverter: "int",
    UUIDConverter: "uuid",
    SlugConverter: "slug",
    StringConverter: "str",
}


def _converter_name(converter: object) -> str:
    for cls, name in _CONVERTER_NAMES.items():
        if type(converter) is cls:
            return name
    return type(converter).__name__


def _walk(
    patterns: list[URLPattern | URLResolver],
    regex: str,
    text: str,
    namespace: str,
    converters: dict[str, Any],
) -> Iterator[tuple[str, str, str, URLPattern, dict[str, Any]]]:
    for pattern in patterns:
        own_regex = pattern.pattern.regex.pattern.lstrip("^")
        joined = regex + own_regex
        here = {**converters, **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            )
            yield from _walk(
                pattern.url_patterns,
                joined.rstrip("$"),
                text + str(pattern.pattern),
                inner or namespace,
                here,
            )
        else:
            name = pattern.name or ""
            if name and namespace:
                name = f"{namespace}:{name}"
            yield joined, text + str(pattern.pattern), name, pattern, here


@cache
def all_routes() -> tuple[Route, ...]:
    """Every URL pattern once (django-ninja registers one pattern per operation of a path)."""
    found: dict[str, Route] = {}
    for regex, text, name, pattern, converters in _walk(get_resolver().url_patterns, "", "", "", {}):
        if text in found:
            continue
        possibilities = normalize(regex.rstrip("$").replace(r"\Z", ""))
        fmt, params = possibilities[0] if possibilities else ("", [])
        found[text] = Route(
            template=text,
            name=name,
            callback=pattern.callback,
            params=tuple(params),
            converters={p: _converter_name(converters[p]) if p in converters else "re" for p in params},
            _format=fmt,
        )
    return tuple(found.values())


def web_routes() -> tuple[Route, ...]:
    return tuple(route for route in all_routes() if not route.is_api)


def api_routes() -> tuple[Route, ...]:
    return tuple(route for route in all_routes() if route.is_api)


@cache
def api_methods() -> dict[str, frozenset[str]]:
    """Route template (as in `Route.template`) -> the HTTP methods its operations take, from the
    OpenAPI document (the API's contract). Paths left out of the document are not in here."""
    methods: dict[str, set[str]] = {}
    for template, method in _openapi_operations():
        methods.setdefault(template, set()).add(method)
    return {template: frozenset(found) for template, found in methods.items()}


@cache
def _openapi_operations() -> dict[tuple[str, str], dict[str, Any]]:
    from tertulia.api.urls import api

    schema = api.get_openapi_schema()
    found = {}
    for path, operations in schema["paths"].items():
        template = re.sub(r"\{([^}:]+)(?::[^}]*)?\}", r"<\1>", path.lstrip("/"))
        for method, operation in operations.items():
            found[(template, method.upper())] = operation
    return found


def api_query(route: Route, method: str, values: Mapping[str, object]) -> dict[str, str]:
    """The query parameters the OpenAPI document marks required for this operation, filled: ids
    from `values` (`brand` takes `brand_id`), date-times around now, enums' first value."""
    from datetime import timedelta

    from django.utils import timezone

    operation = _openapi_operations().get((route.template, method.upper()), {})
    query: dict[str, str] = {}
    now = timezone.now().replace(microsecond=0)
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query" or not parameter.get("required"):
            continue
        name, schema = parameter["name"], parameter.get("schema", {})
        if schema.get("type") == "integer":
            query[name] = str(values.get(f"{name}_id", values.get(name, 1)))
        elif schema.get("format") == "date-time":
            shift = timedelta(days=-30) if name in {"start", "since", "from", "after"} else timedelta(days=30)
            query[name] = (now + shift).isoformat()
        elif schema.get("format") == "date":
            query[name] = timezone.localdate().isoformat()
        elif schema.get("enum"):
            query[name] = str(schema["enum"][0])
        elif schema.get("type") == "boolean":
            query[name] = "false"
        else:
            query[name] = str(values.get(name, "x"))
    return query


def api_formats(route: Route, method: str = "GET") -> list[str]:
    """The values of the operation's optional `format` query parameter (an export's CSV or JSON
    lines), from the OpenAPI document; empty when it has none."""
    operation = _openapi_operations().get((route.template, method.upper()), {})
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") == "format":
            return [str(value) for value in parameter.get("schema", {}).get("enum", [])]
    return []


# -- values for URL parameters -------------------------------------------------------------------

# Parameter -> model label, where `<thing>_id` is not simply the id of the one model called Thing.
PARAMS: dict[str, str] = {
    "member_id": "core.Membership",
    "handle_id": "core.ContactHandle",
    "target_id": "publishing.DeliveryTarget",
    "delivery_id": "publishing.DeliveryTarget",
    "asset_id": "publishing.MediaAsset",
    "query_id": "listening.ListeningQuery",
    "alert_id": "listening.QueryAlert",
    "source_id": "listening.ListeningSource",
    "token_id": "api.ApiToken",
    "reply_id": "inbox.SavedReply",
    "rule_id": "moderation.ModerationRule",
    "action_id": "moderation.ModerationAction",
    "choice_id": "connectors.PendingChoice",
    "user_session_id": "usersessions.UserSession",
    "hold_id": "guard.GuardHold",
    "crisis_alert_id": "crisis.Alert",  # alert_id is a listening alert's
    "item_id": "crisis.ChecklistItem",  # a crisis's checklist step (web:crisis-tick)
}

# Parameters that name an object by another field than its id: (model label, field).
BY_FIELD: dict[str, tuple[str, str]] = {
    "provider_id": ("accounts.SsoConnection", "provider_id"),  # an SSO connection's slug
}

# Parameters that are not ids: a fixed value that the route accepts.
CONSTANTS: dict[str, object] = {
    "kind": "normal",  # an approval workflow's kind (publishing.WorkflowKind)
    "network": "sandbox",  # /hooks/<network>/: a registered network
    "table": "channels",  # /analytics/export/<table>.csv: one of the dashboards' tables
    # Tokens from e-mails (allauth's e-mail confirmation and password reset) and cache keys: any value
    # (an unknown one answers as a stale link does); a WebAuthn key's pk (none in the seed: a 404).
    "key": "x-unknown-key",
    "uidb36": "1",
    "pk": 1,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def model_for(param: str) -> type[models.Model] | None:
    """The model whose id `param` carries: PARAMS first, else `<thing>_id` for the one model Thing."""
    if param in PARAMS:
        try:
            return apps.get_model(PARAMS[param])
        except LookupError:  # an app that is not installed
            return None
    if not param.endswith("_id"):
        return None
    wanted = param.removesuffix("_id")
    matches = [
        m for m in apps.get_models() if _snake(m.__name__) == wanted and m.__module__.startswith("tertulia")
    ]
    return matches[0] if len(matches) == 1 else None


@cache
def organization_path(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its Organization ("organization", "brand__organization",
    "conversation__channel__organization"...), shortest first; None for models outside any tenant."""
    from tertulia.core.models import Organization

    if model is Organization:
        return "pk"
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    seen = {model}
    for _depth in range(4):
        following: list[tuple[type[models.Model], str]] = []
        for current, prefix in frontier:
            for candidate in current._meta.concrete_fields:
                if not isinstance(candidate, models.ForeignKey):
                    continue
                target = candidate.related_model
                lookup = f"{prefix}{candidate.name}"
                if target is Organization:
                    return lookup
                if isinstance(target, type) and target not in seen:
                    seen.add(target)
                    following.append((target, lookup + "__"))
        frontier = following
    return None


def in_organization(model: type[models.Model], organization: models.Model) -> models.QuerySet[Any]:
    path = organization_path(model)
    manager = model._default_manager
    if path is None:
        return manager.all()
    return manager.filter(**{path: organization})


def sample_values(organization: models.Model, routes: tuple[Route, ...] | None = None) -> dict[str, object]:
    """A value for every URL parameter of `routes` (default: all) that this organization can give:
    the id (pk) of one of its objects of the right model, or a constant. Parameters with no object
    in the organization are left out, so `Route.url()` raises `MissingValue` for them."""
    values: dict[str, object] = {}
    for route in routes if routes is not None else all_routes():
        for param in route.params:
            if param in values:
                continue
            if param in CONSTANTS:
                values[param] = CONSTANTS[param]
                continue
            if param in BY_FIELD:
                label, name = BY_FIELD[param]
                try:
                    owner_model = apps.get_model(label)
                except LookupError:
                    continue
                found = in_organization(owner_model, organization).order_by("pk").values_list(name, flat=True)
                if found.first() is not None:
                    values[param] = found.first()
                continue
            model = model_for(param)
            if model is None:
                continue
            pk = in_organization(model, organization).order_by("pk").values_list("pk", flat=True).first()
            if pk is not None:
                values[param] = pk
    # A handle of the sampled contact, so /contacts/<contact_id>/handles/<handle_id> is one real pair.
    contact_id = values.get("contact_id")
    if contact_id is not None:
        handle = apps.get_model("core.ContactHandle").objects.filter(contact_id=contact_id).first()
        if handle is not None:
            values["handle_id"] = handle.pk
    return values
