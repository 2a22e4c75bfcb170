"""CSRF on every form: every route of the project, found by walking the URL resolver.

- Every route that is not on the explicit list of exemptions refuses a state-changing request
  (POST, PUT, PATCH, DELETE) that has the session and the CSRF cookie but no CSRF token, with the
  CSRF failure page (403), and the database stays as it was.
- A view marked csrf_exempt that is not on `CSRF_EXEMPT` (with the reason it is safe) fails.
- The API (/api/v1/) is csrf-exempt because it takes bearer tokens only: a request with the session
  cookie (and even a valid CSRF token) but no token is refused (401) on every write route.
- Every template's POST form carries {% csrf_token %}, or is an htmx form that sends the token in
  the X-CSRFToken header that base.html sets for signed-in pages.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.utils.crypto import get_random_string

from tests.security.pages import Findings, inspect
from tests.security.routes import (
    UNSAFE_METHODS,
    MissingValue,
    Route,
    all_routes,
    api_methods,
    api_routes,
    web_routes,
)
from tests.security.seed import World, project_models

pytestmark = pytest.mark.django_db

# View (module.qualname) -> why it may take a cross-site request. A new csrf_exempt view fails
# test_every_csrf_exemption_is_listed until it is added here with its reason.
CSRF_EXEMPT: dict[str, str] = {
    "tertulia.connectors.views.receive": (
        "networks' webhooks: no session or cookie is involved; each request is verified by the "
        "network's signature (connectors/webhooks.py) before anything is stored"
    ),
    "tertulia.api.urls._not_found": "a JSON 404 for unknown paths under /api/v1/; it changes nothing",
}
# django-ninja's views are csrf-exempt: the API authenticates bearer tokens only (api/auth.py), which
# test_the_api_ignores_the_session_cookie proves for every write route.
NINJA_VIEW = "ninja.operation.PathView.get_view.<locals>.sync_view_wrapper"

REFUSED_HEADER = "X-Test-CSRF-Refused"


def refused_by_csrf(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Stands in for Django's CSRF failure page, so a 403 from a permission check cannot pass for it."""
    response = HttpResponse(f"CSRF refused: {reason}", status=403)
    response[REFUSED_HEADER] = reason or "yes"
    return response


@pytest.fixture
def csrf_failure_marked(settings) -> None:
    settings.CSRF_FAILURE_VIEW = f"{__name__}.refused_by_csrf"


# Tables the session machinery writes on every request before the CSRF check runs (the session's
# expiry, allauth's "last seen" of each session): only which sessions exist counts (a forged sign-out
# would delete one).
BOOKKEEPING: dict[str, tuple[str, ...]] = {
    "sessions.Session": ("session_key",),
    "usersessions.UserSession": ("session_key", "user_id"),
}


def fingerprint() -> dict[str, str]:
    """A digest of every row of every project table (and sessions, users' tokens...): any insert,
    update or delete changes it."""
    digests = {}
    for model in [*project_models(), apps.get_model("sessions", "Session")]:
        only = BOOKKEEPING.get(model._meta.label, ())
        rows = model._default_manager.order_by("pk").values_list(*only)
        digests[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))


def _example_url(route: Route, world: World) -> str:
    url = route.url(world.values)
    if not route.resolves_to_itself(url):
        url = url.rstrip("/") + "/no-such-route-x"  # a catch-all pattern (the API's JSON 404)
    return url


def _client(world: World, signed_in: bool) -> Client:
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(world.owner)
        client.get("/healthz")  # the session machinery records the session (allauth's list of sessions)
    # A browser that visited the site has the CSRF cookie; the forged request lacks only the token.
    client.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(32)
    return client


def _exempt_web_routes() -> Iterator[Route]:
    return (route for route in web_routes() if route.csrf_exempt)


def test_every_csrf_exemption_is_listed() -> None:
    exempt = [route for route in all_routes() if route.csrf_exempt]
    unlisted = [
        f"/{route.template} -> {route.view_name}"
        for route in exempt
        if route.view_name not in CSRF_EXEMPT and not (route.is_api and route.view_name == NINJA_VIEW)
    ]
    assert not unlisted, (
        "views that skip the CSRF check, not on CSRF_EXEMPT in tests/security/test_csrf.py (add the "
        "reason it is safe, or protect them):\n" + "\n".join(unlisted)
    )
    outside_api = [f"/{r.template}" for r in exempt if r.view_name == NINJA_VIEW and not r.is_api]
    assert not outside_api, f"django-ninja views outside /api/v1/: {outside_api}"
    stale = set(CSRF_EXEMPT) - {route.view_name for route in exempt}
    assert not stale, f"CSRF_EXEMPT lists views that are no longer exempt (remove them): {sorted(stale)}"
    web = len(list(_exempt_web_routes()))
    print(f"\n{len(exempt)} csrf-exempt routes, all justified ({web} outside the API)")


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
def test_every_route_refuses_writes_without_the_csrf_token(
    world: World, csrf_failure_marked: None, signed_in: bool
) -> None:
    client = _client(world, signed_in)
    checked = 0
    failures: list[str] = []
    before = fingerprint()
    for route in web_routes():
        if route.csrf_exempt:
            continue  # each is justified on CSRF_EXEMPT (test above)
        try:
            url = _example_url(route, world)
        except MissingValue as missing:
            failures.append(str(missing))
            continue
        # Signed out, POST is enough: the check does not depend on the method (signed in: all four).
        for method in UNSAFE_METHODS if signed_in else ("POST",):
            response = client.generic(
                method, url, data="state=x&name=x", content_type="application/x-www-form-urlencoded"
            )
            checked += 1
            if response.status_code != 403 or REFUSED_HEADER not in response:
                failures.append(
                    f"{method} {url} ({route.name}) without a CSRF token answered {response.status_code}, "
                    f"not the CSRF failure page"
                )
    after = fingerprint()
    assert not failures, "\n".join(failures)
    assert not changed_tables(before, after), f"refused requests changed {changed_tables(before, after)}"
    print(f"\n{checked} requests without a CSRF token refused ({len(web_routes())} web routes)")


def test_the_same_request_with_the_token_gets_through(world: World, csrf_failure_marked: None) -> None:
    """The control: the refusals above come from the missing token, not from something else."""
    client = _client(world, signed_in=True)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    url = "/switch/language/"
    refused = client.post(url, {"language": "es"})
    assert refused.status_code == 403 and REFUSED_HEADER in refused
    with_field = client.post(url, {"language": "es", "csrfmiddlewaretoken": token})
    assert with_field.status_code == 302 and REFUSED_HEADER not in with_field
    with_header = client.post(url, {"language": "en"}, headers={"X-CSRFToken": token})
    assert with_header.status_code == 302 and REFUSED_HEADER not in with_header
    # A token from another session is worth nothing.
    other = _client(world, signed_in=True)
    stolen = other.cookies[settings.CSRF_COOKIE_NAME].value
    mixed = client.post(url, {"language": "es"}, headers={"X-CSRFToken": "x" + stolen[1:]})
    assert mixed.status_code == 403 and REFUSED_HEADER in mixed


def test_the_api_ignores_the_session_cookie(world: World, csrf_failure_marked: None) -> None:
    """Cookie-authenticated, with a valid CSRF token even, but no bearer token: refused everywhere."""
    client = _client(world, signed_in=True)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    documented = api_methods()
    checked = 0
    failures: list[str] = []
    before = fingerprint()
    for route in api_routes():
        methods = documented.get(route.template)
        if methods is None:
            if not route.csrf_exempt or route.view_name != NINJA_VIEW:
                continue  # openapi.json (GET only, CSRF-checked) and the JSON 404 (listed as exempt)
            failures.append(f"/{route.template} is an API route missing from the OpenAPI document")
            continue
        try:
            url = route.url(world.values)
        except MissingValue as missing:
            failures.append(str(missing))
            continue
        for method in UNSAFE_METHODS:
            response = client.generic(
                method, url, data="{}", content_type="application/json", headers={"X-CSRFToken": token}
            )
            checked += 1
            expected = 401 if method in methods else 405
            if response.status_code != expected:
                failures.append(f"{method} {url} with a session cookie and no token: {response.status_code}")
    after = fingerprint()
    assert not failures, "\n".join(failures)
    assert not changed_tables(before, after), f"refused API requests changed {changed_tables(before, after)}"
    # The control: with the bearer token the same client gets in.
    read = client.post(
        "/api/v1/notifications/read",
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {world.token}"},
    )
    assert read.status_code in {200, 204}, read.content
    print(f"\n{checked} API write requests with a session cookie and no token refused")


# -- templates --------------------------------------------------------------------------------------------

FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.IGNORECASE | re.DOTALL)
METHOD = re.compile(r"""\bmethod\s*=\s*["']?(?P<method>[^"'\s>]+)""", re.IGNORECASE)
HTMX_WRITE = re.compile(r"\bhx-(post|put|patch|delete)\s*=", re.IGNORECASE)
CSRF_TAG = re.compile(r"{%\s*csrf_token\s*%}")


def project_templates() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "src" / "tertulia"
    return sorted(p for p in root.glob("**/templates/**/*") if p.is_file() and p.suffix in {".html", ".txt"})


def test_every_post_form_in_the_templates_carries_the_token() -> None:
    forms = dynamic = 0
    failures = []
    for template in project_templates():
        text = template.read_text()
        for found in FORM.finditer(text):
            attrs, body = found.group("attrs"), found.group("body")
            method = METHOD.search(attrs)
            said = method.group("method").lower() if method else "get"
            if said.startswith("{"):
                dynamic += 1  # method="{{ ... }}" (allauth's form element): checked where it renders
                continue
            if said != "post" and not HTMX_WRITE.search(attrs):
                continue
            forms += 1
            if CSRF_TAG.search(body) or HTMX_WRITE.search(attrs):
                continue
            line = text[: found.start()].count("\n") + 1
            failures.append(f"{template}:{line}: <form{attrs[:80]}> has no {{% csrf_token %}}")
    assert forms > 0
    assert not failures, "\n".join(failures)
    print(
        f"\n{forms} POST forms in {len(project_templates())} templates carry the CSRF token; {dynamic} with "
        f"a method set at render time are checked on the rendered pages"
    )


def test_every_rendered_post_form_carries_the_token_for_visitors(world: World) -> None:
    """Pages a visitor (signed out) sees: sign-in, second factor, password reset... Signed-in pages
    are checked the same way by test_escaping.py, which renders every page as the owner."""
    findings = Findings()
    client = Client()
    for route in web_routes():
        try:
            url = _example_url(route, world)
        except MissingValue as missing:
            findings.problems.append(str(missing))
            continue
        inspect(client, url, f"GET {url} (signed out)", world, findings)
    assert not findings.problems, "\n".join(findings.problems)
    print(f"\n{findings.forms} POST forms on {findings.pages} pages seen signed out carry the CSRF token")


def test_htmx_requests_send_the_token_on_signed_in_pages() -> None:
    """htmx forms without {% csrf_token %} rely on base.html's hx-headers for X-CSRFToken."""
    base = next(p for p in project_templates() if p.name == "base.html" and p.parent.name == "web")
    text = base.read_text()
    assert re.search(r"""hx-headers='\{"X-CSRFToken": "{{ csrf_token }}"\}'""", text), (
        "base.html no longer sends the CSRF token with htmx requests"
    )
