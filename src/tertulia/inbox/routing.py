"""What happens to conversations when new messages reach them: the SLA clock starts or stops,
then the brand's automatic assignment gives new work an owner.

Called by the ingestion pipeline inside its transaction, once per batch; saves the batch's
conversations once, with what threading changed and the clock fields set here.
"""

from __future__ import annotations

from collections.abc import Sequence

from tertulia.core.models import Channel
from tertulia.inbox import sla
from tertulia.inbox.actions.assignment import auto_assign
from tertulia.inbox.ingest.bulk import update_fields
from tertulia.inbox.ingest.threading import CHANGED_FIELDS
from tertulia.inbox.models import Conversation, Direction, Message


def route(channel: Channel, messages: Sequence[Message], conversations: Sequence[Conversation]) -> None:
    answered = {m.conversation_id for m in messages if m.direction == Direction.OUTBOUND}
    for conversation in conversations:
        # Answered on the network itself (not through Tertulia): that answer stops the clock.
        if conversation.pk in answered and conversation.awaiting_since is None:
            assert conversation.last_outbound_at is not None
            sla.stop_clock(conversation, conversation.last_outbound_at, answered=True)
    sla.start_clocks(channel.brand, conversations)
    update_fields(conversations, [*CHANGED_FIELDS, *sla.CLOCK_FIELDS])
    # The brand's moderation policy, before automatic assignment (a rule may assign or escalate).
    # Imported here: tertulia.moderation builds on the inbox, not the other way round.
    from tertulia.moderation.automatic import apply_policy

    apply_policy(channel, [m for m in messages if m.direction == Direction.INBOUND], conversations)
    auto_assign(conversations)
