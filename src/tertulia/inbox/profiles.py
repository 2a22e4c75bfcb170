"""Contact context: who a person is to one brand, for the side of a conversation and the contact page.

A `Contact` is one person across networks (its `ContactHandle`s); what they are *to a brand* is read
here, from the inbox: how often they write, how they feel, what they ask. It lives in `inbox`
because history comes from inbox models (`core` never imports `inbox`).

Flags, and why each one matters to the people answering:

- **customer**: marked by hand (or by an integration later); a complaint from them is a business matter.
- **VIP**: marked by hand, for people who matter whatever their numbers (a journalist, a partner).
- **influencer**: derived: their reach (the largest audience among their handles) is at least the
  brand's `reach_threshold` (the brand profile's "influential author threshold").
- **regular**: derived from history: they wrote in at least `REGULAR_CONVERSATIONS` (3) different
  conversations with the brand in the last `REGULAR_WINDOW` (90 days). Informative only.
- **important** = customer or VIP or influencer: what other code acts on (the moderation policy
  never auto-blocks them, the inbox list marks them). `important_contact_ids` answers it for many
  contacts in one query.

A profile costs five queries whatever the size of the history (handles, the person's messages,
their conversations, our answers, the latest conversations): every figure is an aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, TextChoices
from django.utils import timezone

from tertulia.core.models import Brand, Channel, Contact, ContactHandle
from tertulia.inbox.models import Conversation, Direction, Intent, Message, Sentiment, Status

REGULAR_CONVERSATIONS = 3
REGULAR_WINDOW = timedelta(days=90)
LATEST = 5  # conversations listed in a profile


@dataclass(frozen=True)
class HandleSummary:
    id: int
    network: str
    handle: str
    followers: int
    profile_url: str


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    channel_id: int
    channel_handle: str
    network: str
    kind: str
    status: str
    intent: str
    sentiment: str
    preview: str
    message_count: int
    last_message_at: datetime

    def get_status_display(self) -> str:
        return _label(Status, self.status)

    def get_intent_display(self) -> str:
        return _label(Intent, self.intent)

    def get_sentiment_display(self) -> str:
        return _label(Sentiment, self.sentiment)


@dataclass(frozen=True)
class Share:
    """One value of a mix (a sentiment, an intent): how many of the person's messages have it."""

    value: str
    label: str
    count: int
    percent: int


@dataclass(frozen=True)
class History:
    """The person's history with one brand."""

    conversations: int = 0  # they started it or wrote in it
    recent_conversations: int = 0  # they wrote in within REGULAR_WINDOW
    messages_in: int = 0  # what they wrote to the brand
    messages_out: int = 0  # what the brand wrote in their conversations
    first_contact_at: datetime | None = None
    last_contact_at: datetime | None = None
    sentiments: dict[str, int] = field(default_factory=dict)  # of their messages, every value present
    intents: dict[str, int] = field(default_factory=dict)
    latest: list[ConversationSummary] = field(default_factory=list)  # newest activity first

    def sentiment_mix(self) -> list[Share]:
        return _shares(Sentiment, self.sentiments, self.messages_in)

    def intent_mix(self) -> list[Share]:
        """Only the intents that occur, most frequent first."""
        shares = [s for s in _shares(Intent, self.intents, self.messages_in) if s.count]
        return sorted(shares, key=lambda s: -s.count)


@dataclass(frozen=True)
class ContactProfile:
    contact: Contact
    brand: Brand
    handles: list[HandleSummary]
    reach: int  # the largest audience among their handles
    customer: bool
    vip: bool
    influencer: bool
    regular: bool
    history: History

    @property
    def contact_id(self) -> int:
        return self.contact.pk

    @property
    def brand_id(self) -> int:
        return self.brand.pk

    @property
    def display_name(self) -> str:
        return self.contact.display_name

    @property
    def notes(self) -> str:
        return self.contact.notes

    @property
    def important(self) -> bool:
        """Never auto-blocked, escalated rather than hidden: see the module's docstring."""
        return self.customer or self.vip or self.influencer


def is_influencer(reach: int, brand: Brand) -> bool:
    return reach >= brand.reach_threshold


def contact_profile(
    contact: Contact,
    brand: Brand,
    *,
    channels: Sequence[Channel] | None = None,
    latest: int = LATEST,
    now: datetime | None = None,
) -> ContactProfile:
    """The profile of `contact` as `brand` knows them.

    Figures cover the whole history with the brand; the `latest` conversations listed (which show
    what people wrote) are limited to `channels` when given: the channels the reader may operate.
    """
    if contact.organization_id != brand.organization_id:
        raise ValueError("the contact and the brand belong to different organizations")
    now = now or timezone.now()
    handles = sorted(contact.handles.all(), key=lambda h: (-h.followers_count, h.network, h.handle))
    reach = max((h.followers_count for h in handles), default=0)
    history = _history(brand, contact, [h.pk for h in handles], channels, latest, now - REGULAR_WINDOW)
    return ContactProfile(
        contact=contact,
        brand=brand,
        handles=[_handle(h) for h in handles],
        reach=reach,
        customer=contact.is_customer,
        vip=contact.is_vip,
        influencer=is_influencer(reach, brand),
        regular=history.recent_conversations >= REGULAR_CONVERSATIONS,
        history=history,
    )


def important_contact_ids(brand: Brand, contact_ids: Iterable[int | None]) -> set[int]:
    """Which of `contact_ids` are customers, VIPs or influencers for `brand`: one query for any number.

    Ids of another organization are never returned. For the ingest and moderation paths, where a
    batch of authors is checked at once.
    """
    wanted = {pk for pk in contact_ids if pk is not None}
    if not wanted:
        return set()
    flagged = Q(is_customer=True) | Q(is_vip=True)
    if brand.reach_threshold <= 0:
        flagged = Q()  # everyone reaches a threshold of zero, even without a handle
    else:
        reaching = ContactHandle.objects.filter(
            organization_id=brand.organization_id, followers_count__gte=brand.reach_threshold
        )
        flagged |= Q(pk__in=reaching.values("contact_id"))
    rows = Contact.objects.filter(flagged, organization_id=brand.organization_id, pk__in=wanted)
    return set(rows.values_list("pk", flat=True))


def _handle(row: ContactHandle) -> HandleSummary:
    return HandleSummary(
        id=row.pk,
        network=row.network,
        handle=row.handle,
        followers=row.followers_count,
        # Shown as a link: only web addresses, whatever an older row or an import may hold.
        profile_url=row.profile_url if row.profile_url.startswith(("https://", "http://")) else "",
    )


def _history(
    brand: Brand,
    contact: Contact,
    handle_ids: list[int],
    channels: Sequence[Channel] | None,
    latest: int,
    since: datetime,
) -> History:
    written = Message.objects.filter(brand=brand, author_id__in=handle_ids, direction=Direction.INBOUND)
    mine = _message_figures(written, since) if handle_ids else {}
    # Theirs: conversations they started (Conversation.contact) or wrote in (a comment thread).
    theirs: QuerySet[Conversation] = Conversation.objects.filter(brand=brand)
    if handle_ids:
        theirs = theirs.filter(Q(contact=contact) | Q(pk__in=written.values("conversation_id")))
    else:
        theirs = theirs.filter(contact=contact)
    spans = theirs.aggregate(count=Count("pk"), first=Min("created_at"), last=Max("last_message_at"))
    if not spans["count"]:
        return History(sentiments=_zeros(Sentiment), intents=_zeros(Intent))
    answered = Message.objects.filter(brand=brand, direction=Direction.OUTBOUND, conversation__in=theirs)
    listed = theirs if channels is None else theirs.filter(channel__in=[c.pk for c in channels])
    rows = list(listed.select_related("channel").order_by("-last_message_at", "-id")[:latest])
    return History(
        conversations=spans["count"],
        recent_conversations=mine.get("recent") or 0,
        messages_in=mine.get("count") or 0,
        messages_out=answered.count(),
        # Their own messages say when they wrote; without any (authorship lost), the conversations do.
        first_contact_at=mine.get("first") or spans["first"],
        last_contact_at=mine.get("last") or spans["last"],
        sentiments={v: mine.get(f"sentiment_{v}") or 0 for v in Sentiment.values},
        intents={v: mine.get(f"intent_{v}") or 0 for v in Intent.values},
        latest=[_conversation(c) for c in rows],
    )


def _message_figures(written: QuerySet[Message], since: datetime) -> dict[str, Any]:
    """Counts, span, recent conversations and the sentiment and intent mix, in one aggregate query."""
    figures: dict[str, Any] = {
        "count": Count("pk"),
        "first": Min("sent_at"),
        "last": Max("sent_at"),
        "recent": Count("conversation", distinct=True, filter=Q(sent_at__gte=since)),
    }
    for value in Sentiment.values:
        figures[f"sentiment_{value}"] = Count("pk", filter=Q(sentiment=value))
    for value in Intent.values:
        figures[f"intent_{value}"] = Count("pk", filter=Q(intent=value))
    return written.aggregate(**figures)


def _conversation(row: Conversation) -> ConversationSummary:
    return ConversationSummary(
        id=row.pk,
        channel_id=row.channel_id,
        channel_handle=row.channel.handle,
        network=row.channel.network,
        kind=row.kind,
        status=row.status,
        intent=row.intent,
        sentiment=row.sentiment,
        preview=row.preview,
        message_count=row.message_count,
        last_message_at=row.last_message_at,
    )


def _zeros(choices: type[TextChoices]) -> dict[str, int]:
    return dict.fromkeys(choices.values, 0)


def _label(choices: type[TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _shares(choices: type[TextChoices], counts: dict[str, int], total: int) -> list[Share]:
    return [
        Share(
            value=value,
            label=_label(choices, value),
            count=counts.get(value, 0),
            percent=round(100 * counts.get(value, 0) / total) if total else 0,
        )
        for value in choices.values
    ]
