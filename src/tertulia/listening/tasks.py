"""Background work for listening: inbox messages to match, alerts to check."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from huey.contrib.djhuey import db_task

from tertulia.inbox.models import Direction, Message
from tertulia.listening.alerts import check_alerts
from tertulia.listening.ingest import Ingested, Item, ingest
from tertulia.nlp import Analysis, Intent, Sentiment, Urgency

logger = logging.getLogger(__name__)


@db_task(retries=3, retry_delay=30)
def listen_to_messages(message_ids: Sequence[int]) -> int:
    """The connected channels are a listening source: match what the inbox just stored."""
    messages = list(
        Message.objects.filter(pk__in=list(message_ids), direction=Direction.INBOUND).select_related(
            "channel"
        )
    )
    by_organization: dict[int, list[Item]] = {}
    for message in messages:
        by_organization.setdefault(message.organization_id, []).append(item_of(message))
    matched = 0
    for organization_id, items in by_organization.items():
        result = ingest(items, organization_id=organization_id)
        matched += result.matched
        after_ingest(result)
    return matched


def item_of(message: Message) -> Item:
    return Item(
        network=message.channel.network,
        remote_id=message.remote_id,
        text=message.text,
        published_at=message.sent_at,
        url=message.url,
        author_handle=message.author_handle,
        author_name=message.author_name,
        author_followers=message.author_followers,
        language=message.language,
        channel_name=message.channel.display_name or message.channel.handle,
        analysis=Analysis(
            language=message.language,
            sentiment=Sentiment(message.sentiment),
            sentiment_score=message.sentiment_score,
            intent=Intent(message.intent),
            urgency=Urgency(message.urgency),
        ),
    )


def after_ingest(result: Ingested) -> None:
    """Check the alerts of the queries that got new matches. The matches are stored by now: a failure
    here is logged and must not make a source read its batch again."""
    if not result.queries:
        return
    try:
        check_alerts(result.queries)
    except Exception:
        logger.exception("listening alerts could not be checked for queries %s", sorted(result.queries))
