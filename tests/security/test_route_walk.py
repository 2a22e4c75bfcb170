"""The route walker: every URL of the project, requested as every role, as someone signed out, as an
outsider and as a member limited to another brand. See docs/permissions.md ("How a new route is covered").

Routes are found by walking Django's resolver (the API's operations included, through the path views
django-ninja registers). Each must declare who may reach it, or this test fails:

- web views: `section(name, perm, write=...)` (web/views/sections.py), or
  `declare(Access.PUBLIC | Access.SIGNED_IN)` from tertulia.core.permissions;
- API operations: the `Scope` they check with `require(request, Scope.X)` (read from their code and the
  module's helpers they call), or `declare(...)` for one that needs no scope.

Each route is requested, with real ids of a seeded organization, by every subject, with GET and with
the other methods it accepts (CSRF checks off: tests/security has its own CSRF test), inside a savepoint
rolled back after each request. The checks:

- no 5xx, ever;
- a role without the declared permission is refused (403/404; anonymous: sign-in redirect or 401),
  and a refused request writes nothing to the audit trail;
- the outsider (another organization's owner) gets 404 for organization A's ids, never sees A's data
  and never writes into A's audit trail (IDOR);
- the member limited to brand A2 gets 404 for brand A1's objects, never sees A1's data and never changes
  it, and cannot change what every brand shares (tags, listening sources);
- nobody sees what they must not: every response is searched for the seeded objects' markers.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import json
import logging
import re
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation, PathView

from tertulia.api.scopes import SCOPE_PERMISSION, Scope
from tertulia.api.urls import api
from tertulia.core.models import AuditEntry, Role
from tertulia.core.permissions import ACCESS_ATTRIBUTE, ORG_WIDE_PERMS, ROLE_PERMISSIONS, Access, Perm

from .route_world import (
    ANONYMOUS,
    LIMITED,
    MARKER,
    OUTSIDER,
    PARAMETERS,
    Subject,
    World,
    body_ids,
    build_world,
    prepare_parameters,
)

# Each test runs in a savepoint of the module's transaction (see the `world` fixture).
pytestmark = pytest.mark.django_db

SUBJECTS = (*(role.value for role in Role), ANONYMOUS, OUTSIDER, LIMITED)
# A public route asks nobody's role: signed out, signed in here, another organization's, limited.
PUBLIC_SUBJECTS = (Role.OWNER.value, ANONYMOUS, OUTSIDER, LIMITED)
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
REFUSED = frozenset({403, 404})
# Routes of other projects, by the module their view comes from: who may reach them. Their pages are
# still walked (no 5xx, no data of anyone's organization in them).
THIRD_PARTY = {
    "ninja.openapi.": Access.PUBLIC,  # the API's OpenAPI document
    "allauth.": Access.PUBLIC,  # sign-in, MFA and account pages
}
# Objects organization A shares among all its brands: a member limited to some brands may not change them.
SHARED_BY_ALL_BRANDS = {"tag", "source"}


# ---------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    kind: str  # "web" or "api"
    path: str  # Django's pattern, e.g. "inbox/c/<int:conversation_id>/"
    name: str
    view: Callable[..., Any]
    methods: tuple[str, ...]
    access: Perm | Access | None  # None: undeclared
    write: frozenset[Perm] = frozenset()  # web: any one of these for an unsafe method
    operation: Operation | None = None

    @property
    def id(self) -> str:
        return f"{self.kind} {'/'.join(self.methods)} /{self.path}"

    @property
    def parameters(self) -> list[str]:
        return [m.group("name") or m.group("regex") for m in _PARAMETER.finditer(self.path)]


# A parameter in a route: <name>, <converter:name>, or a regular expression's (?P<name>...).
_PARAMETER = re.compile(r"<(?:[^:>]+:)?(?P<name>[^>]+)>|\(\?P<(?P<regex>\w+)>[^)]*\)")


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _path_view(callback: Callable[..., Any]) -> PathView | None:
    inner = inspect.unwrap(callback)
    if not inspect.isfunction(inner):
        return None
    found = inspect.getclosurevars(inner).nonlocals.get("self")
    return found if isinstance(found, PathView) else None


def _scopes_in(function: Callable[..., Any]) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Scope"
    }


def api_scopes(function: Callable[..., Any]) -> frozenset[Scope]:
    """The scopes an endpoint checks: in its own code, else in the module's helpers it calls."""
    function = inspect.unwrap(function)
    names = _scopes_in(function)
    if not names:
        module = inspect.getmodule(function)
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        called = {
            n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        for name in called:
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == function.__module__:
                names |= _scopes_in(helper)
    return frozenset(Scope[name] for name in names)


def _declared(view: Callable[..., Any]) -> Perm | Access | None:
    found = getattr(view, ACCESS_ATTRIBUTE, None)
    if found is None:
        target: Any = getattr(view, "view_class", None) or inspect.unwrap(view)  # a class-based view's class
        target = target.func if isinstance(target, functools.partial) else target
        module = getattr(target, "__module__", "") or ""
        for prefix, access in THIRD_PARTY.items():
            if module.startswith(prefix):
                return access
    return found


def all_routes() -> list[Route]:
    routes: list[Route] = []
    seen_operations: set[int] = set()
    for path, pattern in _walk(get_resolver().url_patterns):
        view = pattern.callback
        path_view = _path_view(view)
        if path_view is not None:
            for operation in path_view.operations:
                if id(operation) in seen_operations:
                    continue
                seen_operations.add(id(operation))
                declared = getattr(operation.view_func, ACCESS_ATTRIBUTE, None)
                scopes = api_scopes(operation.view_func)
                access: Perm | Access | None = declared
                if access is None and scopes:
                    access = Access.SIGNED_IN  # the scopes carry the permissions (see _api_needs)
                routes.append(
                    Route(
                        "api",
                        path,
                        operation.view_func.__name__,  # the operation id (several share a path view)
                        operation.view_func,
                        tuple(operation.methods),
                        access,
                        operation=operation,
                    )
                )
            continue
        access = _declared(view)
        write = frozenset(getattr(view, "tertulia_write", frozenset()))
        routes.append(Route("web", path, pattern.name or "", view, ("GET", "POST"), access, write))
    return routes


ROUTES = all_routes()


def _api_needs(route: Route) -> frozenset[Perm]:
    """Any one of these permissions lets a request through the scope check."""
    assert route.operation is not None
    return frozenset(SCOPE_PERMISSION[scope] for scope in api_scopes(route.operation.view_func))


def perms_of(subject: Subject) -> frozenset[Perm]:
    if subject.role is None:
        return frozenset()
    perms = ROLE_PERMISSIONS[subject.role]
    return perms - ORG_WIDE_PERMS if subject.name == LIMITED else perms


# ---------------------------------------------------------------- the seeded world, once per module


@pytest.fixture(scope="module")
def world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Built once in a transaction that stays open while the module runs, rolled back at its end; each
    test (and each request in it) runs in a savepoint inside it. Uploads go to a folder of its own."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("route-walk-media")))
    with django_db_blocker.unblock(), media:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            prepare_parameters(world, {name for route in ROUTES for name in route.parameters})
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


_checks = {"count": 0, "requests": 0, "cpu": 0.0}


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    # Thousands of refusals are the point here: Django logging each one would only slow the walk.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    yield
    request_log.setLevel(level)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not _checks["count"]:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"route walker: {_checks['count']} route-by-subject checks on {len(ROUTES)} routes "
            f"and {len(SUBJECTS)} subjects ({_checks['requests']} requests, "
            f"{_checks['cpu']:.1f}s of CPU in them)"
        )


# ---------------------------------------------------------------- requests


@dataclass
class Outcome:
    status: int
    text: str
    location: str
    audit: list[AuditEntry]
    touched_a1: list[str]
    invalid_input: bool = False
    error: str = ""


_invalid_flag = "_walker_invalid_input"
_original_handler = api._exception_handlers[NinjaValidationError]


def _flag_invalid(request: Any, exc: Any) -> Any:
    setattr(request, _invalid_flag, True)
    return _original_handler(request, exc)


def _brand_of(entry: AuditEntry) -> int | None:
    """The brand of the object an audit entry is about, when it still exists and has one."""
    if not entry.object_type or not entry.object_id.isdigit():
        return None
    try:
        model = apps.get_model(entry.object_type)
    except (LookupError, ValueError):
        return None
    obj = model._default_manager.filter(pk=int(entry.object_id)).first()
    if obj is None:
        return None
    if model._meta.label_lower == "core.brand":
        return int(obj.pk)
    for path in ("brand_id", "channel.brand_id", "conversation.brand_id", "post.brand_id", "query.brand_id"):
        value: Any = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, int):
            return value
    return None


def send(world: World, subject: Subject, route: Route, method: str, url: str, body: Any) -> Outcome:
    started = time.process_time()
    try:
        return _send(world, subject, route, method, url, body)
    finally:
        _checks["requests"] += 1
        _checks["cpu"] += time.process_time() - started


def _send(world: World, subject: Subject, route: Route, method: str, url: str, body: Any) -> Outcome:
    client = subject.client
    # Refusals answer JSON instead of rendering the whole error page: the same checks, less time.
    extra: dict[str, Any] = {"HTTP_ACCEPT": "application/json"}
    if route.kind == "api" and subject.token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {subject.token}"
    # Requests leave nothing behind: not in the database (a savepoint), not in the cookies (a flash
    # message, a rotated session key).
    cookies = copy.deepcopy(client.cookies)
    try:
        return _sent(world, client, route, method, url, body, extra)
    finally:
        client.cookies = cookies


def _sent(
    world: World, client: Client, route: Route, method: str, url: str, body: Any, extra: dict[str, Any]
) -> Outcome:
    with transaction.atomic():
        last_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        cache.clear()
        try:
            if route.kind == "api" and isinstance(body, dict) and body.get("__multipart__"):
                data = {k: v for k, v in body.items() if k != "__multipart__"}
                response = client.generic(method, url, **_multipart(data), **extra)
            elif route.kind == "api":
                response = client.generic(
                    method, url, json.dumps(body) if body is not None else "", "application/json", **extra
                )
            elif method == "GET":
                response = client.get(url, **extra)
            else:
                response = client.generic(method, url, "", "application/x-www-form-urlencoded", **extra)
        except Exception as exc:  # the test client re-raises what a view raised: that is a 500
            transaction.set_rollback(True)
            return Outcome(500, "", "", [], [], error=f"{type(exc).__name__}: {exc}")
        text = _content(response)
        audit = list(AuditEntry.objects.filter(pk__gt=last_audit))
        touched = [f"{e.action} {e.object_type}:{e.object_id}" for e in audit if _brand_of(e) == world.a1.pk]
        invalid = bool(getattr(response.wsgi_request, _invalid_flag, False))
        transaction.set_rollback(True)
    return Outcome(response.status_code, text, response.get("Location", ""), audit, touched, invalid)


def _multipart(data: dict[str, Any]) -> dict[str, Any]:
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


def _content(response: HttpResponseBase) -> str:
    # The test client closes a plain answer itself, and a streamed one once it is read to the end.
    if getattr(response, "streaming", False):
        if getattr(response, "is_async", False):  # an endless event stream: its headers are enough
            _close_quietly(response)
            return ""
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]  # typed as HttpResponseBase
    else:
        content = response.content  # type: ignore[attr-defined]  # typed as HttpResponseBase
    return content.decode("utf-8", errors="replace")


def _close_quietly(response: HttpResponseBase) -> None:
    # Closing an answer sends request_finished, and close_old_connections then closes a connection
    # that is inside a transaction: on PostgreSQL that is the walker's whole world (SQLite's in-memory
    # database ignores the close, which is why only the PostgreSQL lane saw it). The test client
    # disconnects the handler around its own closes for the same reason.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


# ---------------------------------------------------------------- bodies for the API


_FIELD_VALUES: dict[str, Any] = {
    "network": "sandbox",
    "handle": "walkerhandle",
    "email": "new.person@walker.test",
    "scopes": ["brands:read"],
    "role": Role.CONTRIBUTOR.value,
    "url": "https://feeds.example.org/walker.xml",
    "text": "walker",
    "name": "walker",
    "reason": "walker",
    "comment": "walker",
    "language": "es",
    "timezone": "Europe/Madrid",
    "kpi": "sla_met",
    "action_type": "hide",
    "action": "close",
}
_SOON = timezone.now() + timedelta(days=3)
_MOMENTS = {"start": _SOON, "end": _SOON + timedelta(days=7), "since": _SOON - timedelta(days=30)}


def _sample(schema: dict[str, Any], name: str, ids: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A valid value for `schema` (JSON Schema, as pydantic writes it): ids of the seeded world where
    the field names one, the required fields of objects, the smallest allowed of everything else."""
    if "$ref" in schema:
        return _sample(defs[schema["$ref"].rsplit("/", 1)[1]], name, ids, defs)
    if name in ids:
        return ids[name]
    if name in _FIELD_VALUES and "enum" not in schema:
        return _FIELD_VALUES[name]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _sample(options[0], name, ids, defs)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _sample(props[k], k, ids, defs) for k in schema.get("required", [])}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [_sample(schema.get("items", {}), name, ids, defs) for _ in range(count)]
    if kind == "string":
        fmt = schema.get("format", "")
        if fmt == "date-time":
            return _MOMENTS.get(name, _SOON).isoformat()
        if fmt == "date":
            return _MOMENTS.get(name, _SOON).date().isoformat()
        if fmt in {"uri", "url"}:
            return "https://example.org/walker"
        if fmt == "email":
            return "new.person@walker.test"
        return "walker".ljust(schema.get("minLength", 0), "x")[: schema.get("maxLength", 100)]
    if kind in {"integer", "number"}:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return max(low, 1)
    if kind == "boolean":
        return False
    return None


def api_request(world: World, route: Route, url: str) -> tuple[str, Any]:
    """The URL (with the required query parameters) and the body the walker sends to an API route, made
    from the operation's own parameter models (what ninja validates)."""
    assert route.operation is not None
    ids = body_ids(world)
    query: dict[str, Any] = {}
    body: Any = None
    for model in route.operation.models:
        source = getattr(model, "__ninja_param_source__", "")
        schema = model.model_json_schema()
        defs = schema.get("$defs", {})
        props = schema.get("properties", {})
        required = schema.get("required", [])
        if source == "query":
            for name in required:
                value = _sample(props[name], name, ids, defs)
                query.update(value if isinstance(value, dict) else {name: value})
        elif source == "body":
            values = {name: _sample(props[name], name, ids, defs) for name in required}
            body = next(iter(values.values())) if len(values) == 1 else values
        elif source in {"form", "file"}:
            from django.core.files.uploadedfile import SimpleUploadedFile

            from .route_world import _image

            body = body if isinstance(body, dict) else {"__multipart__": True}
            for name in required:
                if props[name].get("format") == "binary":
                    body[name] = SimpleUploadedFile("walker.png", _image(30), "image/png")
                else:
                    body[name] = _sample(props[name], name, ids, defs)
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url, body


# ---------------------------------------------------------------- expectations


def _url(world: World, route: Route) -> str:
    def value(match: re.Match[str]) -> str:
        param = match.group("name") or match.group("regex")
        found = world.parameters.get(param)
        assert found is not None, (
            f"{route.id}: URL parameter <{param}> is new to the route walker: add it to PARAMETERS in "
            "tests/security/route_world.py with an object of the seeded world (or name it <model>_id)"
        )
        return found.value

    path = _PARAMETER.sub(value, route.path)
    # What is left of a regular expression: anchors.
    return "/" + path.replace("^", "").replace("$", "")


def _login_redirect(outcome: Outcome) -> bool:
    return outcome.status in {301, 302, 303} and outcome.location.split("?")[0] == resolve_url(
        settings.LOGIN_URL
    )


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def judge(
    world: World, route: Route, subject: Subject, method: str, outcome: Outcome, verdict: Verdict
) -> None:
    where = f"{method} {route.path} as {subject.name}"
    _checks["count"] += 1
    verdict.check(outcome.status < 500, f"{where}: {outcome.status} {outcome.error}")
    if outcome.status >= 500 or outcome.status == 405:
        return
    seen = sorted({m.group(0) for m in MARKER.finditer(outcome.text) if m.group(1) in subject.forbidden})
    verdict.check(not seen, f"{where}: shows what {subject.name} must not see: {seen[:5]}")

    kinds = {PARAMETERS.get(p) for p in route.parameters}
    scopes = {world.parameters[p].scope for p in route.parameters}
    a1_ids = "a1" in scopes
    # Ids of organization A's objects (personal ones are checked by what they show and write, below).
    org_a_ids = bool(scopes & {"a1", "org"})
    perms = perms_of(subject)
    access = route.access
    refused_expected = False

    if subject.name == ANONYMOUS:
        if access != Access.PUBLIC:
            if route.kind == "api":
                verdict.check(outcome.status == 401, f"{where}: {outcome.status}, expected 401")
            else:
                verdict.check(
                    _login_redirect(outcome) or outcome.status in REFUSED | {401},
                    f"{where}: {outcome.status}, expected the sign-in page",
                )
            refused_expected = True
    elif subject.name == OUTSIDER:
        # An API route's access is in its scopes; a public or signed-in web route looks at no organization.
        by_id = org_a_ids and (route.kind == "api" or access not in {Access.PUBLIC, Access.SIGNED_IN})
        if by_id:
            verdict.check(
                outcome.status in REFUSED, f"{where}: {outcome.status} for another organization's id"
            )
        a_audit = [e for e in outcome.audit if e.organization_id == world.org.pk]
        verdict.check(
            not a_audit, f"{where}: wrote into organization A's audit trail: {[e.action for e in a_audit]}"
        )
    elif route.kind == "api":
        needs = _api_needs(route)
        if needs and not needs & perms:
            refused_expected = True
            verdict.check(
                outcome.status in REFUSED, f"{where}: {outcome.status}, needs one of {sorted(needs)}"
            )
    elif isinstance(access, Perm):
        lacks = access not in perms or (method in UNSAFE and not (route.write or {access}) & perms)
        if lacks:
            refused_expected = True
            verdict.check(
                outcome.status in REFUSED,
                f"{where}: {outcome.status}, needs {access.value}"
                + (f" and to write one of {sorted(route.write)}" if method in UNSAFE else ""),
            )

    if subject.name == LIMITED and not refused_expected:
        if a1_ids and (route.kind == "api" or access not in {Access.PUBLIC, Access.SIGNED_IN}):
            verdict.check(outcome.status in REFUSED, f"{where}: {outcome.status} for another brand's object")
        if method in UNSAFE and kinds & SHARED_BY_ALL_BRANDS:
            verdict.check(
                not outcome.audit,
                f"{where}: changed what every brand shares: {[e.action for e in outcome.audit]}",
            )
        verdict.check(
            not outcome.touched_a1, f"{where}: changed another brand's objects: {outcome.touched_a1}"
        )
    if refused_expected:
        verdict.check(not outcome.audit, f"{where}: refused, yet audited {[e.action for e in outcome.audit]}")


# ---------------------------------------------------------------- the tests


def test_every_route_declares_who_may_reach_it() -> None:
    undeclared = [route.id for route in ROUTES if route.access is None]
    assert not undeclared, (
        "New routes: declare their permission (section(name, perm) or declare(Access.PUBLIC/SIGNED_IN) for "
        "a web view; require(request, Scope.X) in an API endpoint). See docs/permissions.md.\n"
        + "\n".join(undeclared)
    )


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route(route: Route, world: World) -> None:
    if route.access is None:
        pytest.fail(f"{route.id}: declare who may reach it (see test_every_route_declares_who_may_reach_it)")
    verdict = Verdict()
    url = _url(world, route)
    if route.kind == "api":
        api._exception_handlers[NinjaValidationError] = _flag_invalid
        try:
            for method in route.methods:
                full_url, body = api_request(world, route, url)
                for name in SUBJECTS:
                    subject = world.subject(name)
                    outcome = send(world, subject, route, method, full_url, body)
                    if name == Role.OWNER.value:
                        verdict.check(
                            not outcome.invalid_input,
                            f"{method} {route.path}: the walker's request is not valid input "
                            f"({outcome.text[:300]}): teach _sample/_FIELD_VALUES a valid value",
                        )
                    judge(world, route, subject, method, outcome, verdict)
        finally:
            api._exception_handlers[NinjaValidationError] = _original_handler
    else:
        # The methods the route accepts (for the owner, whose answers count as their checks): the others
        # answer 405 to everyone.
        owner = world.subject(Role.OWNER.value)
        first = {m: send(world, owner, route, m, url, None) for m in ("GET", *UNSAFE)}
        methods = [m for m, outcome in first.items() if outcome.status != 405]
        if route.access == Perm.VIEW and any(m in UNSAFE for m in methods):
            verdict.check(
                bool(route.write),
                f"{route.path} accepts {'/'.join(m for m in methods if m in UNSAFE)} and every member may "
                "see it: declare what writing needs, section(..., write=Perm.X) (Perm.VIEW if that is so)",
            )
        for method in methods:
            for name in PUBLIC_SUBJECTS if route.access == Access.PUBLIC else SUBJECTS:
                subject = world.subject(name)
                outcome = (
                    first[method] if subject is owner else send(world, subject, route, method, url, None)
                )
                judge(world, route, subject, method, outcome, verdict)
    assert not verdict.problems, "\n".join(verdict.problems)


def _route(name: str) -> Route:
    return next(r for r in ROUTES if r.name == name)


def test_the_checks_catch_what_they_look_for(world: World) -> None:
    """Each rule of `judge`, fed the mistake it is there to catch (and one request that is fine)."""
    post_page, brand_api = _route("post-detail"), _route("get_brand")
    update_brand, inbox_page = _route("update_brand"), _route("inbox")
    audited = [AuditEntry(organization_id=world.org.pk, action="post.cancelled")]
    cases = [
        # (subject, route, method, outcome, how many problems)
        (Role.OWNER.value, inbox_page, "GET", Outcome(200, "a1markbrand", "", [], []), 0),
        (Role.OWNER.value, inbox_page, "GET", Outcome(500, "", "", [], [], error="boom"), 1),
        (ANONYMOUS, inbox_page, "GET", Outcome(200, "", "", [], []), 1),
        (LIMITED, post_page, "GET", Outcome(200, "a1markproposal", "", [], []), 2),
        (OUTSIDER, brand_api, "GET", Outcome(200, "{}", "", [], []), 1),
        (OUTSIDER, brand_api, "GET", Outcome(404, "", "", audited, []), 1),
        (Role.CONTRIBUTOR.value, update_brand, "PATCH", Outcome(200, "{}", "", [], []), 1),
        (Role.CONTRIBUTOR.value, update_brand, "PATCH", Outcome(403, "{}", "", audited, []), 1),
        (LIMITED, update_brand, "PATCH", Outcome(404, "", "", [], ["brand.update core.brand:1"]), 1),
    ]
    for name, route, method, outcome, expected in cases:
        verdict = Verdict()
        judge(world, route, world.subject(name), method, outcome, verdict)
        assert len(verdict.problems) == expected, (name, route.path, verdict.problems)
