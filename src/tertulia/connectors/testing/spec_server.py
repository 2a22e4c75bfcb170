"""A real HTTP server on 127.0.0.1 that validates every request against an OpenAPI 3.x document.

Connector tests point their client at it instead of the network: the client
speaks real HTTP, every request is checked against the network's official spec
with `openapi-core` (method, path, path/query/header parameters, JSON, form and
multipart bodies, and the bearer token an OAuth2-secured operation needs), and
the answers come from responses the test registered, themselves validated
against the spec's response schemas. Nothing leaves the machine.

API
---

    spec = load_spec(path, patches=...)       # the document, as a dict (optionally patched)
    fixtures = SchemaFixtures(spec)
    status = fixtures.build("Status", id="1", content="<p>hi</p>")   # valid by construction, checked

    with SpecServer(spec) as server:          # binds 127.0.0.1 on a free port
        server.on("createStatus", SpecResponse(body=status))          # by operationId
        server.on("GET /api/v1/statuses/{id}", lambda req: SpecResponse(body=...))  # or method + template
        client = httpx.Client(base_url=server.url)
        ...
        server.assert_all_valid()             # no invalid request, no invalid response
        [req] = server.requests_for("createStatus")
        req.json(), req.headers["idempotency-key"], req.multipart()["file"]

- `SpecServer(spec, *, bracket_arrays=False, strict_query=True, accepted_tokens=None)`:
  `bracket_arrays` validates Rails-style `name[]=` query keys as the spec's
  `name` array parameter (Mastodon); `strict_query` rejects query parameters
  the operation does not declare (typos would otherwise pass unnoticed);
  `accepted_tokens`, if given, answers 401 to any other bearer token (a valid
  request: lets a test exercise the client's handling of expired credentials).
- A handler is a `SpecResponse` or a callable `RecordedRequest -> SpecResponse`.
  `SpecResponse(stream=iterable_of_bytes)` streams a body (Server-Sent Events)
  and closes the connection when the iterable ends.
- An invalid request gets 400 (401 for a missing bearer token) with the
  validation error as `{"error": ...}` and is kept in `server.invalid`. An
  operation with no registered handler gets 501 and is kept in `server.unhandled`.
  A registered JSON response that does not match the spec is still sent (so the
  client's behaviour can be observed) but kept in `server.invalid_responses`.
- `server.requests` lists every request received, in order, valid or not.

Known gaps in openapi-core 0.23 and how they are handled here:
- OAuth2 security schemes are not checked by openapi-core ("Unsupported scheme
  type"); the server checks for an `Authorization: Bearer ...` header itself.
- Under OpenAPI 3.1, multipart parts with `format: binary` are deserialized as
  bytes but validated as `type: string`, so every file upload would fail; the
  server presents `application/octet-stream` parts as latin-1 text.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import Headers, ImmutableMultiDict

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SPEC_URI = "urn:tertulia:openapi-spec"

SpecPatch = Callable[[dict[str, Any]], None]
# What `SchemaFixtures.build` and `.validate` raise for an instance outside its schema.
FixtureInvalid: type[Exception] = jsonschema.ValidationError


def load_spec(path: Path | str, patches: Iterable[SpecPatch] = ()) -> dict[str, Any]:
    """Read an OpenAPI document; `patches` mutate it in place (document why each one exists)."""
    spec: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    for patch in patches:
        patch(spec)
    return spec


# ---------------------------------------------------------------- requests and responses


@dataclass(frozen=True)
class RecordedRequest:
    method: str  # upper case
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # keys in lower case
    body: bytes
    operation: str | None  # operationId (or "METHOD /template") when the path matched
    path_params: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None  # why the request is invalid, if it is
    response_status: int = 0

    @property
    def valid(self) -> bool:
        return self.error is None

    def json(self) -> Any:
        return json.loads(self.body)

    def query_values(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def multipart(self) -> dict[str, bytes]:
        """The parts of a multipart/form-data body, by name (file parts as raw bytes)."""
        content_type = self.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + self.body
        )
        parts: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                parts[name] = payload
        return parts


@dataclass(frozen=True)
class SpecResponse:
    status: int = 200
    body: Any = None  # serialised as JSON unless bytes; None sends an empty body
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    stream: Iterable[bytes] | None = None  # if set, streamed instead of `body`


Handler = SpecResponse | Callable[[RecordedRequest], SpecResponse]


@dataclass(frozen=True)
class _Operation:
    key: str
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: Mapping[str, Any]
    literal_segments: int


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join(
        f"(?P<{re.sub(r'[^0-9A-Za-z_]', '_', part[1:-1])}>[^/]+)" if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


def _operations(spec: Mapping[str, Any]) -> list[_Operation]:
    found = []
    for template, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            found.append(
                _Operation(
                    key=operation.get("operationId") or f"{method.upper()} {template}",
                    method=method.upper(),
                    template=template,
                    pattern=_compile(template),
                    spec=operation,
                    literal_segments=sum(1 for s in template.split("/") if s and not s.startswith("{")),
                )
            )
    # A literal path (/accounts/verify_credentials) wins over a template (/accounts/{id}).
    found.sort(key=lambda op: -op.literal_segments)
    return found


@dataclass
class _OpenAPIRequest:
    """The shape openapi-core's `Request` protocol asks for."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class _OpenAPIResponse:
    status_code: int
    data: bytes
    headers: Headers
    content_type: str


def _octet_stream_as_text(value: bytes, **parameters: str) -> str:
    return value.decode("latin-1")


# ---------------------------------------------------------------- the server


class SpecServer:
    def __init__(
        self,
        spec: Mapping[str, Any],
        *,
        bracket_arrays: bool = False,
        strict_query: bool = True,
        accepted_tokens: Collection[str] | None = None,
    ) -> None:
        self.spec = deepcopy(dict(spec))
        self.bracket_arrays = bracket_arrays
        self.strict_query = strict_query
        self.accepted_tokens = accepted_tokens
        self.requests: list[RecordedRequest] = []
        self.invalid_responses: list[str] = []
        self._handlers: dict[str, Handler] = {}
        self._operations = _operations(self.spec)
        self._by_key = {op.key: op for op in self._operations}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._api: OpenAPI | None = None
        self.url = ""

    # -- lifecycle

    def start(self) -> SpecServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.spec["servers"] = [{"url": self.url}]
        config = Config(
            spec_validator_cls=None,  # the document is trusted; validating 1 MB of spec is slow
            extra_media_type_deserializers={"application/octet-stream": _octet_stream_as_text},
        )
        self._api = OpenAPI.from_dict(self.spec, config=config)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="spec-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def __enter__(self) -> SpecServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests use

    def on(self, operation: str, handler: Handler) -> None:
        """Answer `operation` (an operationId or "METHOD /template") with `handler`."""
        key = self._resolve_key(operation)
        with self._lock:
            self._handlers[key] = handler

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        key = self._resolve_key(operation)
        with self._lock:
            return [r for r in self.requests if r.operation == key]

    @property
    def invalid(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if not r.valid]

    @property
    def unhandled(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.valid and r.response_status == 501]

    def assert_all_valid(self) -> None:
        problems = [f"{r.method} {r.path}: {r.error}" for r in self.invalid] + self.invalid_responses
        assert not problems, "requests or responses outside the spec:\n" + "\n".join(problems)

    # -- internals

    def _resolve_key(self, operation: str) -> str:
        if operation in self._by_key:
            return operation
        method, _, template = operation.partition(" ")
        for op in self._operations:
            if op.method == method.upper() and op.template == template:
                return op.key
        raise KeyError(f"no operation {operation!r} in the spec")

    def _match(self, method: str, path: str) -> tuple[_Operation, dict[str, str]] | None:
        for op in self._operations:
            if op.method != method:
                continue
            matched = op.pattern.match(path)
            if matched:
                return op, matched.groupdict()
        return None

    def _check(
        self,
        op: _Operation,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        request: _OpenAPIRequest,
    ) -> str | None:
        parameters = [self._parameter(p) for p in op.spec.get("parameters") or []]
        declared = {p.get("name") for p in parameters if p.get("in") == "query"}
        if self.strict_query:
            unknown = sorted({name for name, _ in query} - declared)
            if unknown:
                return f"query parameters not in the spec: {', '.join(unknown)}"
        if self._needs_bearer(op) and not headers.get("authorization", "").startswith("Bearer "):
            return "missing bearer token (Authorization: Bearer ...)"
        assert self._api is not None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unsupported scheme type")
            try:
                self._api.validate_request(request)
            except Exception as error:
                causes = [str(error)]
                cause = error.__cause__
                while cause is not None:
                    causes.append(str(cause))
                    cause = cause.__cause__
                return " / ".join(causes)
        return None

    def _parameter(self, parameter: Mapping[str, Any]) -> Mapping[str, Any]:
        """A parameter object, following a local `$ref` (X declares its field parameters in components)."""
        ref = parameter.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return parameter
        node: Any = self.spec
        for part in ref[2:].split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
        return node if isinstance(node, Mapping) else {}

    def _needs_bearer(self, op: _Operation) -> bool:
        requirements = op.spec.get("security", self.spec.get("security")) or []
        if not requirements or any(not r for r in requirements):
            return False
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        return all(
            schemes.get(name, {}).get("type") in ("oauth2", "openIdConnect")
            or schemes.get(name, {}).get("scheme") == "bearer"
            for requirement in requirements
            for name in requirement
        )

    def _check_response(self, op_request: _OpenAPIRequest, response: SpecResponse, data: bytes) -> None:
        if response.stream is not None or not response.content_type.startswith("application/json"):
            return
        assert self._api is not None
        headers = Headers(dict(response.headers))
        headers["Content-Type"] = response.content_type
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unsupported scheme type")
            try:
                self._api.validate_response(
                    op_request, _OpenAPIResponse(response.status, data, headers, response.content_type)
                )
            except Exception as error:
                cause = f" ({error.__cause__})" if error.__cause__ else ""
                with self._lock:
                    self.invalid_responses.append(
                        f"response {response.status} to {op_request.method.upper()} {op_request.path}: "
                        f"{error}{cause}"
                    )

    def _handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> _Outcome:
        url = urlsplit(raw_path)
        query = parse_qsl(url.query, keep_blank_values=True)
        if self.bracket_arrays:
            query = [(k[:-2] if k.endswith("[]") else k, v) for k, v in query]
        matched = self._match(method, url.path)
        op_request = _OpenAPIRequest(
            host_url=self.url,
            path=url.path,
            method=method.lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(query),
                header=Headers(dict(headers)),
                cookie=ImmutableMultiDict(),
            ),
            body=body or None,
            content_type=headers.get("content-type", ""),
        )
        if matched is None:
            error: str | None = f"no operation {method} {url.path} in the spec"
            op, path_params = None, dict[str, str]()
        else:
            op, path_params = matched
            error = self._check(op, query, headers, op_request)
        recorded = RecordedRequest(
            method=method,
            path=url.path,
            query=tuple(query),
            headers=dict(headers),
            body=body,
            operation=op.key if op else None,
            path_params=path_params,
            error=error,
        )
        if error is not None:
            status = 401 if error.startswith("missing bearer") else 400
            response = SpecResponse(status=status, body={"error": error})
        elif (
            op is not None
            and self.accepted_tokens is not None
            and self._needs_bearer(op)
            and headers.get("authorization", "").removeprefix("Bearer ") not in self.accepted_tokens
        ):
            response = SpecResponse(status=401, body={"error": "The access token is invalid"})
        else:
            assert op is not None
            with self._lock:
                handler = self._handlers.get(op.key)
            if handler is None:
                response = SpecResponse(status=501, body={"error": f"no response registered for {op.key}"})
            else:
                response = handler if isinstance(handler, SpecResponse) else handler(recorded)
        data = b"" if response.body is None else _encode(response.body)
        if error is None and op is not None and response.status != 501:
            self._check_response(op_request, response, data)
        with self._lock:
            self.requests.append(_with_status(recorded, response.status))
        return _Outcome(response, data)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                outcome = server._handle(self.command, self.path, headers, body)
                response = outcome.response
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if response.body is not None or response.stream is not None:
                    self.send_header("Content-Type", response.content_type)
                if response.stream is None:
                    self.send_header("Content-Length", str(len(outcome.data)))
                    self.end_headers()
                    self.wfile.write(outcome.data)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in response.stream:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away: what streams do
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests assert on `server.requests`, not on stderr

        return Handler


@dataclass(frozen=True)
class _Outcome:
    response: SpecResponse
    data: bytes


def _with_status(request: RecordedRequest, status: int) -> RecordedRequest:
    return replace(request, response_status=status)


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def sse(events: Iterable[tuple[str, Any]]) -> Iterator[bytes]:
    """Server-Sent Events frames for (event, payload) pairs; a str payload is sent as is."""
    for event, payload in events:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        yield f"event: {event}\ndata: {data}\n\n".encode()


# ---------------------------------------------------------------- fixtures from schemas


class SchemaFixtures:
    """Builds objects that satisfy the spec's schemas, and checks them.

    `build(name, **overrides)` makes the smallest valid instance of
    `components/schemas/<name>` (required properties only), applies the
    overrides and validates the result, so a fixture cannot drift from the spec:
    a test that sets a field the spec does not allow fails here, not later.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(dict(spec), default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    def schema(self, name: str) -> Mapping[str, Any]:
        schema: Mapping[str, Any] = self.spec["components"]["schemas"][name]
        return schema

    def validate(self, name: str, instance: Any) -> None:
        """Raise jsonschema.ValidationError unless `instance` satisfies schema `name`."""
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"{SPEC_URI}#/components/schemas/{name}"},
            registry=self._registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        validator.validate(instance)

    def build(self, name: str, **overrides: Any) -> dict[str, Any]:
        instance = self.example(self.schema(name))
        assert isinstance(instance, dict)
        instance.update(overrides)
        self.validate(name, instance)
        return instance

    def example(self, schema: Mapping[str, Any], depth: int = 0) -> Any:
        """A minimal instance of `schema`."""
        if depth > 20:
            raise RecursionError("schema too deep to build an example")
        if "$ref" in schema:
            target = self._resolve(schema["$ref"])
            return self.example({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, depth + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self.example(part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        for combinator in ("oneOf", "anyOf"):
            if combinator in schema:
                options = [s for s in schema[combinator] if s.get("type") != "null"] or schema[combinator]
                return self.example(options[0], depth + 1)
        kind = schema.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            properties = schema.get("properties", {})
            return {
                name: self.example(properties.get(name, {}), depth + 1) for name in schema.get("required", [])
            }
        if kind == "array":
            return []
        if kind == "string":
            return _string_for(schema.get("format"))
        if kind in ("integer", "number"):
            return schema.get("minimum", 0)
        if kind == "boolean":
            return False
        return None

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node: Any = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        resolved: Mapping[str, Any] = node
        return resolved


def _string_for(fmt: str | None) -> str:
    if fmt == "date-time":
        return datetime(2025, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    if fmt == "date":
        return "2025-01-01"
    if fmt in ("uri", "url", "uri-reference"):
        return "https://example.invalid/"
    if fmt == "email":
        return "someone@example.invalid"
    return "x"
