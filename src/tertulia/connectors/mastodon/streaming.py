"""Live mentions from Mastodon's streaming API (Server-Sent Events).

`GET /api/v1/streaming/user/notification` keeps a connection open and sends one
`notification` event per new notification (and `:thump`-style comment lines as
heartbeats). This client yields an `InboundItem` for every mention, reply, quote
or DM, and returns when the server closes the stream; reconnecting, and
catching up with `fetch_inbound` from the last cursor after a gap, is the
caller's job (nothing is lost: the REST cursor is the source of truth).

The streaming address comes from the instance, whose address a person typed: the connection goes
through the outbound policy (`tertulia.core.outbound`), checked and pinned like every other
Mastodon request. The guarded client has per-step timeouts only, no deadline for the whole
request, so a stream stays open as long as heartbeats keep arriving (`STREAM_TIMEOUT`'s read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors.base import InboundItem, TemporaryFailure
from tertulia.connectors.mastodon.client import USER_AGENT, address_refused, outbound_policy, raise_for_status
from tertulia.connectors.mastodon.parsing import item_from_notification
from tertulia.core.outbound import OutboundFailed, OutboundRefused, guarded_client

STREAM_PATH = "/api/v1/streaming/user/notification"
# Mastodon sends a heartbeat comment every few seconds; silence this long means a dead connection.
STREAM_TIMEOUT = httpx.Timeout(10.0, read=90.0)


def parse_sse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event, data) for each Server-Sent Event in `lines` (without line endings)."""
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
            continue
        if line.startswith(":"):
            continue  # a comment: the heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def stream_mentions(
    streaming_url: str, access_token: str, transport: httpx.BaseTransport | None = None
) -> Iterator[InboundItem]:
    """Mentions as they arrive; `transport` is the tests' (otherwise the outbound policy's)."""
    base_url = streaming_url.rstrip("/")
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "text/event-stream",
        "User-Agent": USER_AGENT,
    }
    if transport is not None:
        client = httpx.Client(base_url=base_url, headers=headers, timeout=STREAM_TIMEOUT, transport=transport)
    else:
        client = guarded_client(outbound_policy(), base_url=base_url, headers=headers, timeout=STREAM_TIMEOUT)
    try:
        yield from _mentions(client)
    except OutboundRefused as refused:
        raise address_refused(base_url, refused) from refused
    except (httpx.TransportError, OutboundFailed) as error:
        raise TemporaryFailure(_("Could not reach the Mastodon instance.")) from error
    finally:
        client.close()


def _mentions(client: httpx.Client) -> Iterator[InboundItem]:
    with client.stream("GET", STREAM_PATH) as response:
        if response.status_code >= 400:
            response.read()
            raise_for_status(response)
        for event, data in parse_sse(response.iter_lines()):
            if event != "notification":
                continue  # delete, filters_changed, announcements...: not the inbox's business
            try:
                payload = json.loads(data)
            except ValueError:
                continue  # a torn event; the REST catch-up will still see it
            item = item_from_notification(payload) if isinstance(payload, dict) else None
            if item is not None:
                yield item
