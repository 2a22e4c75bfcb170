"""Who wrote a message, as far as moderation cares: their reach and whether they are a known customer
or marked VIP; and so whether they are *important* to the brand.

Important = customer, or VIP, or influential (reach at least the brand's `reach_threshold`), the
same definition as the inbox's contact profile (tertulia.inbox.profiles). Reach is the largest
audience among the person's handles on every network, or what the message itself says if that is
more (the network's count at the time of writing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Max
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from tertulia.core.models import ContactHandle
from tertulia.inbox.models import Message


@dataclass(frozen=True)
class Author:
    reach: int = 0
    is_customer: bool = False
    is_vip: bool = False


@dataclass(frozen=True)
class Context:
    """What the rules and the guardrails know about a message besides the message itself."""

    author: Author
    reach_threshold: int

    @property
    def influential(self) -> bool:
        return self.author.reach >= self.reach_threshold

    @property
    def important(self) -> bool:
        return self.influential or self.author.is_customer or self.author.is_vip

    def why_important(self) -> str:
        """Why the author is important, e.g. "10,000 followers (the brand's threshold is 5,000)"."""
        reasons = []
        if self.influential:
            reasons.append(
                _("%(reach)s followers (the brand's threshold is %(threshold)s)")
                % {
                    "reach": number_format(self.author.reach, force_grouping=True),
                    "threshold": number_format(self.reach_threshold, force_grouping=True),
                }
            )
        if self.author.is_customer:
            reasons.append(_("a known customer"))
        if self.author.is_vip:
            reasons.append(_("marked VIP"))
        return ", ".join(reasons)


def authors_of(organization_id: int, messages: Sequence[Message]) -> dict[int, Author]:
    """The author of each message (by message id), in one query whatever the number of messages."""
    handle_ids = {m.author_id for m in messages if m.author_id is not None}
    known: dict[int, tuple[int, bool, bool]] = {}
    if handle_ids:
        rows = (
            ContactHandle.objects.filter(organization_id=organization_id, pk__in=handle_ids)
            .values("pk", "contact__is_customer", "contact__is_vip")
            .annotate(reach=Max("contact__handles__followers_count"))
        )
        for row in rows:
            known[row["pk"]] = (row["reach"] or 0, row["contact__is_customer"], row["contact__is_vip"])
    result = {}
    for message in messages:
        reach, customer, vip = known.get(message.author_id or 0, (0, False, False))
        result[message.pk] = Author(
            reach=max(reach, message.author_followers), is_customer=customer, is_vip=vip
        )
    return result
