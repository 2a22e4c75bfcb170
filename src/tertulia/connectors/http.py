"""What the connectors' HTTP clients share: who we say we are, how long we wait, and how a lost
connection, a `Retry-After` or a rate-limit window is read.

Only plumbing lives here. How a network's statuses and error codes become the typed errors of
`connectors.base` differs from one network to the next, so that mapping stays in each client.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import TemporaryFailure

USER_AGENT = "Tertulia (+https://github.com/tertulia)"
# Patient with a slow answer, quick to give up on a host that does not answer at all: a worker has
# other channels to serve, and the failure is retried later anyway.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# The IETF draft's `RateLimit-*` first, then the older `X-RateLimit-*` that many hosts still send.
RATE_LIMIT_PREFIXES = ("ratelimit-", "x-ratelimit-")
# A reset this large is an epoch time, not seconds from now: no window lasts thirty years.
_EPOCH_RESET = 1_000_000_000

Window = tuple[int, int, datetime]  # limit, remaining, resets at


def _sentence(text: str) -> str:
    # A name may be a noun phrase ("the WordPress site") that starts the sentence.
    return text[:1].upper() + text[1:]


def retry_after(value: str, default: float, now: datetime | None = None) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; else `default`."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


@contextmanager
def reaching(name: str) -> Iterator[None]:
    """Turn a request that got no answer (timeout, refused or dropped connection, a body that cannot
    be decoded) into TemporaryFailure naming `name`: a proper name ("LinkedIn") or a translated noun
    phrase (_("the WordPress site")). Nothing was learnt about the request, so a later try may work."""
    try:
        yield
    except httpx.TimeoutException as error:
        message = _("%(network)s did not answer in time.") % {"network": name}
        raise TemporaryFailure(_sentence(message)) from error
    except httpx.RequestError as error:
        raise TemporaryFailure(_sentence(_("Could not reach %(network)s.") % {"network": name})) from error


def send(client: httpx.Client, name: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """`client.request(method, url, **kwargs)`, with no answer at all raised as TemporaryFailure."""
    with reaching(name):
        return client.request(method, url, **kwargs)


def response_json(response: httpx.Response, name: str) -> Any:
    """The body as JSON, or TemporaryFailure: an HTML page where JSON belongs is something in between
    (a cache, a proxy, a login page) that may be gone on the next try."""
    try:
        return response.json()
    except ValueError as error:
        raise TemporaryFailure(
            _sentence(
                _(
                    "%(network)s answered with something that is not JSON (a cache, a proxy or a login "
                    "page in the way?)."
                )
                % {"network": name}
            )
        ) from error


def lenient_json(response: httpx.Response) -> Any:
    """The body as JSON; {} when it is empty or not JSON, for clients that read every field with a
    default (a success without a body is still a success)."""
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}


def body_detail(response: httpx.Response, *keys: str) -> str:
    """The first of `keys` an error body holds, for the message a person reads; the text when it is
    not JSON."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(next((body[key] for key in keys if body.get(key)), ""))[:300]
    return ""


def header_int(headers: httpx.Headers, *names: str) -> int | None:
    """The first of `names` that holds a whole number."""
    for name in names:
        value = headers.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def observed_window(
    headers: httpx.Headers, now: datetime, prefixes: Sequence[str] = RATE_LIMIT_PREFIXES
) -> Window | None:
    """(limit, remaining, resets at) from `<prefix>limit`, `<prefix>remaining` and `<prefix>reset`
    headers, if all three are there. The reset is seconds from now (IETF draft) or an epoch time."""

    def named(part: str) -> int | None:
        return header_int(headers, *(prefix + part for prefix in prefixes))

    limit, remaining, reset = named("limit"), named("remaining"), named("reset")
    if limit is None or remaining is None or reset is None:
        return None
    if reset > _EPOCH_RESET:
        return limit, remaining, datetime.fromtimestamp(reset, tz=UTC)
    return limit, remaining, now + timedelta(seconds=reset)


def observe_window(
    network: str,
    account_key: str,
    bucket: str,
    headers: httpx.Headers,
    prefixes: Sequence[str] = RATE_LIMIT_PREFIXES,
) -> None:
    """Adopt the window a response announces as the bucket's own count, for every worker."""
    window = observed_window(headers, datetime.now(UTC), prefixes)
    if window is not None:
        limit, remaining, resets_at = window
        ratelimit.observe(network, account_key, bucket, limit=limit, remaining=remaining, resets_at=resets_at)


class LazyClient:
    """Holds an httpx.Client made on first use, or the one given (tests pass one bound to a fake).

    `close()` closes it; the next request makes a new one, so a closed connector still works.
    """

    timeout: ClassVar[httpx.Timeout] = TIMEOUT
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, http: httpx.Client | None = None) -> None:
        self._http = http

    def _session(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout, headers=dict(self.headers))
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
