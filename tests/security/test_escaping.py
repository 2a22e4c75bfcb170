"""Escaping of every piece of user-generated content, on every page and every API read route.

The seeded organization (tests/security/seed.py) holds a hostile payload in every text field of every
model that a person or a network can write, each with a marker unique to its field. Then, as the
owner, every route of the project is requested with real ids (from the URL resolver, so new pages are
included), as a normal page load, as an htmx request, and with hostile query parameters:

- HTML: parsed with html.parser; no element or attribute may come from a payload (the payloads
  carry an attribute named `tertulia-xss`), no on* attribute, javascript: address or <script> body
  may hold a marker, and no template syntax from a payload may have run (its marker upper-cased).
  Every POST form on the page carries the CSRF token (or is htmx with the X-CSRFToken header).
- JSON: every string that holds a marker holds the stored payload verbatim, or its start (an
  excerpt), or a single word of it (a term picked out): nothing escaped, stripped or altered.
- CSV: no cell with user text starts with =, +, -, @, tab or carriage return (formula injection).
- Nothing answers 500.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils.html import escape

from tests.security.pages import (
    QUERY_PARAMETERS,
    REFLECTED,
    Findings,
    check_csv,
    check_html,
    check_json,
    inspect,
)
from tests.security.routes import (
    MissingValue,
    Route,
    api_formats,
    api_methods,
    api_query,
    api_routes,
    web_routes,
)
from tests.security.seed import World, poisonable, project_models

pytestmark = pytest.mark.django_db


def _url(route: Route, world: World, findings: Findings) -> str | None:
    try:
        url = route.url(world.values)
    except MissingValue as missing:
        findings.problems.append(str(missing))
        return None
    return url if route.resolves_to_itself(url) else None


@pytest.fixture
def owner_client(hostile_world: World, db: None) -> Client:
    client = Client()
    client.force_login(hostile_world.owner)
    return client


def _report(findings: Findings, what: str) -> None:
    assert not findings.problems, f"{len(findings.problems)} problems:\n" + "\n".join(findings.problems[:60])
    print(
        f"\n{what}: {findings.pages} responses, {findings.forms} POST forms, "
        f"{findings.json_strings} JSON strings, {findings.csv_cells} CSV cells, "
        f"{len(findings.seen)} poisoned fields seen"
    )


def test_every_page_escapes_user_text(hostile_world: World, owner_client: Client, db: None) -> None:
    findings = Findings()
    routes = 0
    for route in web_routes():
        url = _url(route, hostile_world, findings)
        if url is None:
            continue
        routes += 1
        status = inspect(owner_client, url, f"GET {url}", hostile_world, findings)
        if status == 404:
            findings.not_found.append(url)
        inspect(owner_client, url, f"GET {url} (htmx)", hostile_world, findings, HX_Request="true")
        query = "&".join(f"{name}={REFLECTED}" for name in QUERY_PARAMETERS)
        inspect(owner_client, f"{url}?{query}", f"GET {url}?<hostile>", hostile_world, findings)
    _report(findings, f"{routes} web routes")
    print(f"{len(findings.not_found)} answered 404 with the seeded ids: {findings.not_found}")


def test_every_api_read_route_returns_user_text_verbatim(hostile_world: World, db: None) -> None:
    findings = Findings()
    client = Client(headers={"Authorization": f"Bearer {hostile_world.token}"})
    documented = api_methods()
    routes = 0
    for route in api_routes():
        if "GET" not in documented.get(route.template, frozenset()):
            continue
        url = _url(route, hostile_world, findings)
        if url is None:
            continue
        routes += 1
        query = urlencode(api_query(route, "GET", hostile_world.values))
        status = inspect(
            client, f"{url}?{query}&limit=200", f"GET {url}?{query}&limit=200", hostile_world, findings
        )
        if status == 422:  # not a list: no limit to give
            status = inspect(client, f"{url}?{query}", f"GET {url}?{query}", hostile_world, findings)
        if status == 404:
            findings.not_found.append(url)  # the seed's object is not one this route shows
        elif status not in (200, None):
            findings.problems.append(f"GET {url} answered {status} to the owner's token")
        for chosen in api_formats(route):  # each format of an export (JSON lines, CSV)
            with_format = (
                f"{url}?{urlencode({**api_query(route, 'GET', hostile_world.values), 'format': chosen})}"
            )
            inspect(client, with_format, f"GET {with_format}", hostile_world, findings)
    _report(findings, f"{routes} API read routes")
    print(f"{len(findings.not_found)} answered 404 with the seeded ids: {findings.not_found}")


def test_every_user_text_field_is_poisoned(hostile_world: World) -> None:
    """The seed covers every model: each field that holds people's or networks' text got a payload,
    and each such model has rows (else build_world() failed with "add a factory for model X")."""
    poisoned = {label for label, _payloads in hostile_world.poisoned.fields.values()}
    expected = {f"{m._meta.label}.{f.name}" for m in project_models() for f in poisonable(m)}
    missing = expected - poisoned - set(hostile_world.poisoned.skipped)
    assert not missing, f"fields left without a payload: {sorted(missing)}"
    print(
        f"\n{len(poisoned)} fields poisoned in {len({p.rsplit('.', 1)[0] for p in poisoned})} models; "
        f"{len(hostile_world.poisoned.skipped)} left alone with a reason; "
        f"generic rows for {hostile_world.generic}"
    )


def test_the_checks_catch_what_they_look_for(hostile_world: World) -> None:
    """Each check fails on the mistake it is there for (a test that cannot fail proves nothing)."""
    mark, (label, payloads) = next(iter(hostile_world.poisoned.fields.items()))
    payload = min(payloads)
    unescaped = Findings()
    check_html("unescaped", f"<p>{payload}</p>", unescaped)
    assert any("became markup" in p for p in unescaped.problems), unescaped.problems
    link = Findings()
    check_html("link", f"<a href=\"javascript:alert('{mark}')\">x</a>", link)
    assert any("dangerous address" in p for p in link.problems), link.problems
    script = Findings()
    check_html("script", f"<script>var x = '{mark}<b>';</script>", script)
    assert script.problems
    ran = Findings()
    check_html("template", f"<p>{mark.upper()}</p>", ran)
    assert any("template syntax" in p for p in ran.problems)
    form = Findings()
    check_html("form", '<form method="post" action="/x"><button>Go</button></form>', form)
    assert any("without the CSRF token" in p for p in form.problems)
    escaped = Findings()
    check_html("escaped", f'<p>{escape(payload)}</p><a href="https://example.com/{mark}">x</a>', escaped)
    assert not escaped.problems, escaped.problems
    mangled = Findings()
    check_json("json", json.dumps({"text": escape(payload)}).encode(), hostile_world, mangled)
    assert any(label in p for p in mangled.problems), mangled.problems
    formula = Findings()
    check_csv("csv", f'text\r\n=HYPERLINK("{mark}")\r\n', formula)
    assert formula.problems
