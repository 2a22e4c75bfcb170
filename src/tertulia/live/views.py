from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from tertulia.core.permissions import Access, declare
from tertulia.live.brokers import get_broker
from tertulia.live.events import Event

KEEPALIVE_SECONDS = 15.0
# Streams end after a while and the browser reconnects (sending Last-Event-ID),
# which bounds the life of any one connection and picks up membership changes.
MAX_STREAM_SECONDS = 300.0


async def _organization_ids(request: HttpRequest) -> list[int]:
    from tertulia.core.models import Membership

    user = await request.auser()
    if not user.is_authenticated:
        return []
    query = Membership.objects.filter(user_id=user.pk, is_active=True).values_list(
        "organization_id", flat=True
    )
    return [pk async for pk in query]


async def event_stream(organization_ids: list[int], last_event_id: str | None) -> AsyncGenerator[str, None]:
    # Subscribe before the first byte: once the browser sees the stream open, no
    # event published from then on can be missed.
    events = (await get_broker().subscribe(organization_ids, last_event_id)).__aiter__()
    yield "retry: 3000\n\n"
    started = time.monotonic()
    pending: asyncio.Future[Event] | None = None
    try:
        while time.monotonic() - started < MAX_STREAM_SECONDS:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield ": keepalive\n\n"
                continue
            event = pending.result()
            pending = None
            yield event.to_sse()
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


@declare(Access.SIGNED_IN)  # answers 401 to anyone else; only the person's own organizations' events
async def stream(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    organization_ids = await _organization_ids(request)
    if not organization_ids:
        return HttpResponse(status=401)
    response = StreamingHttpResponse(
        event_stream(organization_ids, request.headers.get("Last-Event-ID")), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
