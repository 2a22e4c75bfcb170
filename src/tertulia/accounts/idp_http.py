"""allauth's requests to identity providers, sent through Tertulia's outbound guard.

allauth talks to an OpenID provider with `requests` (discovery, token, user info, signing keys). The
issuer is typed by an organization's owner, so those requests are SSRF like any other address a
person chose: this `requests` adapter sends each one through `core.outbound`'s guarded httpx
transport (public addresses on 80/443, or what `TERTULIA_OUTBOUND_ALLOW` opens; each host resolved
once and pinned). `requests.Session` follows redirects itself, hop by hop through this adapter, so
every hop is checked too.

Whatever goes wrong (refused, unreachable, too slow) becomes a `requests.ConnectionError`: allauth's
callback shows its error page for those, and `accounts.views` does the same when starting a sign-in.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tertulia.core import outbound

# An identity provider's answers are small JSON documents; a few MiB is far more than any needs.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
TIMEOUT_SECONDS = 10.0


class GuardedAdapter(BaseAdapter):
    """A `requests` transport adapter that sends through `outbound.guarded_client()`."""

    def __init__(self, policy: outbound.Policy | None = None) -> None:
        super().__init__()
        self._client = outbound.guarded_client(policy, timeout=TIMEOUT_SECONDS)

    def send(  # type: ignore[override]  # requests' signature has positional defaults we ignore
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **_: Any
    ) -> requests.Response:
        url = request.url or ""
        body = _body(request)
        headers = {k: v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()}
        try:
            answer = self._client.send(
                self._client.build_request(
                    request.method or "GET",
                    url,
                    headers=headers,
                    content=body,
                    timeout=_timeout(timeout),
                ),
                stream=True,
            )
            try:
                content = _read_capped(answer)
            finally:
                answer.close()
        except outbound.OutboundError as error:
            raise requests.ConnectionError(str(error), request=request) from error
        except httpx.HTTPError as error:
            raise requests.ConnectionError(
                f"{httpx.URL(url).host}: {type(error).__name__}", request=request
            ) from error
        return _response(request, answer, content)

    def close(self) -> None:
        self._client.close()


def _body(request: requests.PreparedRequest) -> bytes | None:
    # allauth sends forms and JSON: a str or bytes body (requests' streamed uploads are not used).
    if isinstance(request.body, str):
        return request.body.encode()
    if isinstance(request.body, bytes) or request.body is None:
        return request.body
    raise requests.RequestException("only whole bodies are sent to identity providers", request=request)


def _timeout(value: Any) -> float:
    if isinstance(value, (int, float)) and value > 0:
        return min(float(value), TIMEOUT_SECONDS)
    return TIMEOUT_SECONDS


def _read_capped(answer: httpx.Response) -> bytes:
    read = bytearray()
    for chunk in answer.iter_bytes():
        read += chunk
        if len(read) > MAX_ANSWER_BYTES:
            raise outbound.OutboundFailed("the identity provider's answer is too large", code="too_large")
    return bytes(read)


def _response(request: requests.PreparedRequest, answer: httpx.Response, content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status_code
    response.headers = CaseInsensitiveDict(_headers(answer.headers))
    response._content = content  # requests has no public way to build a read response
    response.encoding = answer.encoding
    response.url = request.url or ""
    response.reason = answer.reason_phrase
    response.request = request
    return response


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    # httpx has already decoded gzip/deflate bodies: their encoding header no longer describes them.
    return {k: v for k, v in headers.items() if k.lower() not in ("content-encoding", "content-length")}


def guarded_session() -> requests.Session:
    """A `requests.Session` whose every request (and redirect hop) goes through the outbound guard."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: a proxy would do its own DNS
    adapter = GuardedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.request = functools.partial(session.request, timeout=TIMEOUT_SECONDS)  # type: ignore[method-assign]  # the way allauth bounds its own session
    return session
