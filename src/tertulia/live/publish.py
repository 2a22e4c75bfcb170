from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def notify_organization(organization_id: int, topic: str, **data: Any) -> None:
    """Tell every open page of the organization that `topic` changed, once the transaction commits.

    A lost notification only delays a refresh, so a broker failure is logged, never raised.
    """

    def send() -> None:
        from tertulia.live.brokers import get_broker

        try:
            get_broker().publish(organization_id, topic, data)
        except Exception:  # the broker is an accelerator, not a source of truth
            logger.warning(
                "live event %s for organization %s was not published", topic, organization_id, exc_info=True
            )

    transaction.on_commit(send)
