"""Reading responses for the security suites: HTML parsed for markup that came from user text and
for POST forms without the CSRF token, JSON checked for payloads returned verbatim, CSV for cells a
spreadsheet would run. Shared by test_escaping.py and test_csrf.py."""

from __future__ import annotations

import csv
import io
import json
import re
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client

from tests.security.seed import MARKER_WIDTH, World

MARKER = re.compile(rf"xq\d{{{MARKER_WIDTH}}}z")
WORD = re.compile(r"[@#]?\w+")
TEMPLATE_RAN = re.compile(rf"XQ\d{{{MARKER_WIDTH}}}Z")
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "data",
    "background",
    "srcset",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Reflected input: the same kind of payload in every query parameter a page might read.
REFLECTED = "xq9999z\"'><b tertulia-xss=xq9999z>{{ 'xq9999z'|upper }}"
QUERY_PARAMETERS = (
    "q",
    "status",
    "period",
    "page",
    "brand",
    "channel",
    "tag",
    "next",
    "view",
    "sort",
    "kind",
)


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)  # marker -> responses it appeared in
    pages: int = 0
    forms: int = 0
    json_strings: int = 0
    csv_cells: int = 0
    not_found: list[str] = field(default_factory=list)


class PageChecker(HTMLParser):
    """Walks one HTML page and reports what a payload turned into markup."""

    def __init__(self, where: str, findings: Findings) -> None:
        super().__init__(convert_charrefs=True)
        self.where = where
        self.findings = findings
        self.in_script: str | None = None  # the type of the <script> being read
        self.script_text: list[str] = []
        self.htmx_token = False  # an element (base.html's <body>) sends X-CSRFToken with htmx requests
        self.form: dict[str, Any] | None = None

    def problem(self, text: str) -> None:
        self.findings.problems.append(f"{self.where}: {text}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, attrs)
        values = {name: value or "" for name, value in attrs}
        if "X-CSRFToken" in values.get("hx-headers", ""):
            self.htmx_token = True
        if tag == "script":
            self.in_script = values.get("type", "text/javascript")
            self.script_text = []
        if tag == "form":
            self.form = {
                "post": values.get("method", "get").lower() == "post",
                "htmx": any(k in values for k in ("hx-post", "hx-put", "hx-patch", "hx-delete")),
                "token": False,
                "action": values.get("action", ""),
            }
        elif self.form is not None and tag == "input" and values.get("name") == "csrfmiddlewaretoken":
            self.form["token"] = bool(values.get("value"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.in_script is not None:
            body = "".join(self.script_text)
            if MARKER.search(body) and ("json" not in self.in_script or "<" in body):
                self.problem(f"user text inside a <script> element: {body[:160]!r}")
            self.in_script = None
        if tag == "form" and self.form is not None:
            form, self.form = self.form, None
            if form["post"] or form["htmx"]:
                self.findings.forms += 1
                if not form["token"] and not (form["htmx"] and self.htmx_token):
                    self.problem(f"a POST form (action {form['action']!r}) without the CSRF token")

    def handle_data(self, data: str) -> None:
        if self.in_script is not None:
            self.script_text.append(data)

    def _check_tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name == "tertulia-xss" or MARKER.search(name) or MARKER.search(tag):
                self.problem(f"a payload became markup: <{tag} {name}={value!r}>")
            elif name.startswith("on") and MARKER.search(value):
                self.problem(f"user text in an event handler: <{tag} {name}={value!r}>")
            elif name in URL_ATTRIBUTES and MARKER.search(value):
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squeezed.startswith(DANGEROUS_SCHEMES):
                    self.problem(f"a dangerous address from user text: <{tag} {name}={value!r}>")


def check_html(where: str, body: str, findings: Findings) -> None:
    checker = PageChecker(where, findings)
    checker.feed(body)
    checker.close()
    ran = TEMPLATE_RAN.search(body)
    if ran:
        findings.problems.append(f"{where}: template syntax from user text was run ({ran.group()} appears)")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def check_json(where: str, body: bytes, world: World, findings: Findings) -> None:
    try:
        data = json.loads(body)
    except ValueError as exc:
        findings.problems.append(f"{where}: a JSON answer that does not parse ({exc})")
        return
    for text in _strings(data):
        findings.json_strings += 1
        for mark in set(MARKER.findall(text)):
            stored = world.poisoned.fields.get(mark)
            if stored is None:
                continue
            label, payloads = stored
            if WORD.fullmatch(text):
                continue  # a term or a name picked out of the text (insight's top terms), not the text
            cut = text.removesuffix("…")
            if not any(payload in text or payload.startswith(cut) for payload in payloads):
                findings.problems.append(
                    f"{where}: {label} is not verbatim in the JSON: {text[:120]!r} "
                    f"(stored {min(payloads)[:120]!r})"
                )


def check_csv(where: str, body: str, findings: Findings) -> None:
    for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))):
        for cell in row:
            findings.csv_cells += 1
            if MARKER.search(cell) and cell.startswith(FORMULA_START):
                findings.problems.append(f"{where}: a CSV cell a spreadsheet would run: {cell[:80]!r}")


def _content(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]  # sync iterator in tests
    return response.content  # type: ignore[attr-defined, no-any-return]  # typed as HttpResponseBase


def inspect(
    client: Client, url: str, where: str, world: World, findings: Findings, **headers: str
) -> int | None:
    try:
        response = client.get(url, headers=headers)
    except Exception:
        findings.problems.append(f"{where}: raised\n{traceback.format_exc(limit=-20)}")
        return None
    status = response.status_code
    kind = response.get("Content-Type", "")
    if status >= 500:
        findings.problems.append(f"{where}: answered {status}")
        return status
    if "text/event-stream" in kind:
        # The live stream never ends (it carries ids only). Closing it sends request_finished, which
        # would close the database connection (and the test's transaction) on PostgreSQL: as
        # Django's test client does, not while closing.
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        return status
    body = _content(response)
    findings.pages += 1
    for mark in set(MARKER.findall(body.decode(errors="replace"))):
        findings.seen[mark] += 1
    if "html" in kind:
        check_html(where, body.decode(), findings)
    elif "ndjson" in kind or "jsonl" in kind:  # JSON lines (an export)
        for number, line in enumerate(body.splitlines(), 1):
            if line.strip():
                check_json(f"{where} line {number}", line, world, findings)
    elif "json" in kind:
        check_json(where, body, world, findings)
    elif "csv" in kind:
        check_csv(where, body.decode("utf-8"), findings)
    return status
